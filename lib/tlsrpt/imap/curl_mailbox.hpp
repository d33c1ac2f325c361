// SPDX-License-Identifier: Apache-2.0
// The IMAP client behind the mailbox interface: one session (session.hpp: libcurl connects and
// logs in, our own commands after that) per object, so one connection and one login per pass.
// A connection lost mid-pass is opened again by the next command, which selects the folder
// again and refuses to go on if its UIDVALIDITY changed.
// No curl type appears here; curl_global_init is owned by `library`, created once by main.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/imap/mailbox.hpp"
#include "tlsrpt/imap/session.hpp"

namespace tlsrpt::imap {

// curl_global_init / curl_global_cleanup. Create exactly one, in main (or a test's main),
// before any curl_mailbox and while no other thread is running.
class library {
 public:
  library();
  ~library();
  library(const library&) = delete;
  library& operator=(const library&) = delete;
};

class curl_mailbox final : public mailbox {
 public:
  // Connects lazily: the first command logs in. Throws imap::error for an unusable URL.
  explicit curl_mailbox(connection_options options);
  ~curl_mailbox() override;  // LOGOUT and close, if connected
  // Neither copied nor moved (like every mailbox): hold it by unique_ptr to pass it around.

  // SELECT (read-write). Later commands work on this folder.
  folder_state select(const std::string& folder) override;
  // One UID SEARCH of what exists (never a walk of UID ranges up to UIDNEXT), then UID FETCH
  // (UID RFC822.SIZE FLAGS) of what it found. UIDs the server sends that are no UIDs (0,
  // beyond 2^32-1, not numbers) are left out and counted in search_rejected().
  std::vector<message_ref> search(const std::vector<std::string>& exclude_keywords) override;
  // UID FETCH n BODY.PEEK[]: the read state stays as it was.
  std::string fetch(std::uint32_t uid) override;
  // One UID FETCH <set> (UID RFC822.SIZE FLAGS BODY.PEEK[]) per set of UIDs, read as it
  // streams: a literal over max_message_bytes is read past, never held; a FETCH for a UID not
  // asked for, or one that breaks the grammar, is ignored.
  void fetch_many(std::span<const std::uint32_t> uids,
                  const std::function<bool(fetched_message&)>& on_message) override;
  std::size_t search_rejected() const noexcept;
  void add_flags(std::span<const std::uint32_t> uids,
                 const std::vector<std::string>& flags) override;
  void remove_flags(std::span<const std::uint32_t> uids,
                    const std::vector<std::string>& flags) override;
  void move(std::span<const std::uint32_t> uids, const std::string& target) override;

  // Post-login CAPABILITY atoms, upper-cased and sorted; asked once per object.
  const std::vector<std::string>& capabilities();
  bool has_capability(std::string_view name);
  // LIST, then CREATE when missing; false when the folder already existed.
  bool create_folder(const std::string& folder);
  // DELETE (for tests and tools; the collector never deletes).
  void delete_folder(const std::string& folder);
  // APPEND `raw` to `folder` with exactly `flags`. Returns the new UID from APPENDUID, 0 when
  // the server does not say.
  std::uint32_t append(const std::string& folder, std::string_view raw,
                       const std::vector<std::string>& flags = {});
  // The folder of the last select(), and what SELECT said about it.
  const std::string& folder() const noexcept;
  const folder_state& state() const noexcept;
  // The command channel, for what the mailbox interface does not cover (IDLE).
  imap::session& channel() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tlsrpt::imap
