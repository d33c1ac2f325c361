// The libcurl IMAP client behind the mailbox interface. One curl easy handle per object, so
// one connection and one login per pass: libcurl keeps the connection of an easy handle and
// reuses it for the next URL on the same server with the same credentials.
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

struct connection_options {
  std::string url;  // imap://host:port/ or imaps://host:port/ (a path, if any, is ignored)
  std::string username;
  std::string password;      // never logged
  std::string oauth2_token;  // SASL XOAUTH2 bearer token (replaces the password); never logged
  // imap:// then talks plain IMAP. Without it imap:// must upgrade with STARTTLS.
  bool allow_plaintext = false;
  std::string ca_file;  // PEM bundle to verify the server against; empty: the system store
  bool verify = true;   // off only for a test server: it disables both chain and name checks
  std::chrono::seconds connect_timeout{15};     // TCP + TLS + greeting + login
  std::chrono::seconds operation_timeout{120};  // each command, a whole message fetch included
  std::size_t max_message_bytes = 0;            // fetch() refuses bigger messages; 0: no limit
  // Use MOVE (RFC 6851) when the server offers it. Off: COPY + \Deleted + UID EXPUNGE, which
  // needs UIDPLUS (RFC 4315); the tests use it to cover servers without MOVE.
  bool use_move = true;
  // Protocol trace, with credentials redacted and message bodies left out. Goes to `trace`,
  // or to stderr when `trace` is empty.
  bool verbose = false;
  std::function<void(std::string_view)> trace;
};

class curl_mailbox final : public mailbox {
 public:
  // Connects lazily: the first command logs in. Throws imap::error for an unusable URL.
  explicit curl_mailbox(connection_options options);
  ~curl_mailbox() override;  // LOGOUT and close, if connected
  // Neither copied nor moved (like every mailbox): hold it by unique_ptr to pass it around.

  // SELECT (read-write). Later commands work on this folder.
  folder_state select(const std::string& folder) override;
  // UID SEARCH in UID ranges, then UID FETCH (UID RFC822.SIZE FLAGS) of what it found.
  std::vector<message_ref> search(const std::vector<std::string>& exclude_keywords) override;
  // UID FETCH n BODY[] through libcurl's URL form. BODY[] sets \Seen on the server: the
  // `seen` of search() is the state before, so the caller can restore it in one batch.
  std::string fetch(std::uint32_t uid) override;
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
  // APPEND `raw` to `folder`, then sets exactly `flags` on it (libcurl's APPEND always sends
  // \Seen). Returns the new UID from APPENDUID, 0 when the server does not say.
  std::uint32_t append(const std::string& folder, std::string_view raw,
                       const std::vector<std::string>& flags = {});
  // The folder of the last select(), and what SELECT said about it.
  const std::string& folder() const noexcept;
  const folder_state& state() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tlsrpt::imap
