// The mailbox interface the collector polls. The libcurl client is in curl_mailbox.hpp.
// No curl type appears here.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace tlsrpt::imap {

struct folder_state {
  std::uint32_t uidvalidity = 0;
  std::uint32_t exists = 0;
  std::uint32_t uidnext = 0;
};

struct message_ref {
  std::uint32_t uid = 0;
  std::uint64_t size = 0;  // RFC822.SIZE
  bool seen = false;       // \Seen before we fetched it
};

// An IMAP failure. `code()` is the CURLcode (0 when the server answered NO/BAD), `transient()`
// is true for network-level failures where the next pass may succeed.
class error : public std::runtime_error {
 public:
  error(const std::string& what, int code, bool transient)
      : std::runtime_error(what), code_(code), transient_(transient) {}
  int code() const noexcept { return code_; }
  bool transient() const noexcept { return transient_; }

 private:
  int code_;
  bool transient_;
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
  virtual std::string fetch(std::uint32_t uid) = 0;  // the raw message, BODY.PEEK[] or BODY[]
  virtual void add_flags(std::span<const std::uint32_t> uids,
                         const std::vector<std::string>& flags) = 0;
  virtual void remove_flags(std::span<const std::uint32_t> uids,
                            const std::vector<std::string>& flags) = 0;
  // Moves to `target` (created if missing): MOVE, else COPY + \Deleted + UID EXPUNGE.
  virtual void move(std::span<const std::uint32_t> uids, const std::string& target) = 0;
};

}  // namespace tlsrpt::imap
