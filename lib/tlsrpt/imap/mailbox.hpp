// SPDX-License-Identifier: Apache-2.0
// The mailbox interface the collector polls. The libcurl client is in curl_mailbox.hpp.
// No curl type appears here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tlsrpt/text/ascii.hpp"

namespace tlsrpt::imap {

struct folder_state {
  std::uint32_t uidvalidity = 0;
  std::uint32_t exists = 0;
  std::uint32_t uidnext = 0;
  // RFC 3501 §7.1 [PERMANENTFLAGS (...)]: the flags a STORE keeps, with `\*` when new keywords
  // may be created; nullopt when SELECT sent none (then every flag is kept, §6.3.1).
  std::optional<std::vector<std::string>> permanent_flags;

  // Whether a STORE of `flag` lasts: listed (ASCII case-insensitively, RFC 3501 §2.3.2), or a
  // keyword where `\*` is listed.
  bool keeps(std::string_view flag) const {
    if (!permanent_flags) return true;
    for (const auto& f : *permanent_flags) {
      if (text::iequals(f, flag)) return true;
      if (f == "\\*" && !flag.starts_with('\\')) return true;
    }
    return false;
  }
};

struct message_ref {
  std::uint32_t uid = 0;
  std::uint64_t size = 0;  // RFC822.SIZE
  bool seen = false;       // \Seen before we fetched it
};

// An IMAP failure. `code()` is the CURLcode (0 when the server answered NO/BAD or broke the
// protocol), `server_status()` the server's tagged answer when it refused ("NO [TRYCREATE]
// ..."), kept apart from the CURLcode; `transient()` is true for failures where the next pass
// may succeed (network, timeouts, RFC 5530 UNAVAILABLE).
class error : public std::runtime_error {
 public:
  error(const std::string& what, int code, bool transient, std::string server_status = {})
      : std::runtime_error(what),
        code_(code),
        transient_(transient),
        server_status_(std::move(server_status)) {}
  int code() const noexcept { return code_; }
  bool transient() const noexcept { return transient_; }
  const std::string& server_status() const noexcept { return server_status_; }

 private:
  int code_;
  bool transient_;
  std::string server_status_;
};

struct fetched_message {
  std::uint32_t uid = 0;
  std::uint64_t size = 0;  // octets announced by the server
  std::string raw;         // the message; empty when oversized or failed
  bool oversized = false;  // over the limit: not downloaded
  std::optional<std::string> error;
};

class mailbox {
 public:
  virtual ~mailbox() = default;
  mailbox() = default;
  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;

  virtual folder_state select(const std::string& folder) = 0;
  // UIDs in the selected folder that carry none of `exclude_keywords` (all when empty),
  // ascending, with their sizes and \Seen state.
  virtual std::vector<message_ref> search(const std::vector<std::string>& exclude_keywords) = 0;
  virtual std::string fetch(std::uint32_t uid) = 0;  // the raw message, BODY.PEEK[]
  // Fetches `uids` (ascending, without duplicates) and calls `on_message` for each, as it
  // arrives. Every UID asked is answered exactly once: with its octets, as oversized (read
  // past, not held), or with a per-message `error` (the server sent nothing usable for it).
  // `on_message` returning false takes no more (the rest of the answer is read past, and the
  // UIDs not delivered yet are not reported). Throws imap::error when the connection fails.
  // The default fetches one at a time with fetch(), for fakes and simple mailboxes.
  virtual void fetch_many(std::span<const std::uint32_t> uids,
                          const std::function<bool(fetched_message&)>& on_message);
  virtual void add_flags(std::span<const std::uint32_t> uids,
                         const std::vector<std::string>& flags) = 0;
  virtual void remove_flags(std::span<const std::uint32_t> uids,
                            const std::vector<std::string>& flags) = 0;
  // Moves to `target` (created if missing): MOVE, else COPY + \Deleted + UID EXPUNGE.
  virtual void move(std::span<const std::uint32_t> uids, const std::string& target) = 0;
};

inline void mailbox::fetch_many(std::span<const std::uint32_t> uids,
                                const std::function<bool(fetched_message&)>& on_message) {
  for (const auto uid : uids) {
    fetched_message m;
    m.uid = uid;
    try {
      m.raw = fetch(uid);
      m.size = m.raw.size();
    } catch (const error& e) {
      if (e.transient()) throw;
      m.error = e.what();
    }
    if (!on_message(m)) return;
  }
}

}  // namespace tlsrpt::imap
