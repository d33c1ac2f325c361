// SPDX-License-Identifier: Apache-2.0
// The raw command channel (issue 17): libcurl owns the connection (CURLOPT_CONNECT_ONLY: TCP,
// implicit TLS or STARTTLS, certificate checks, greeting, LOGIN or AUTHENTICATE incl.
// XOAUTH2), and we send our own tagged commands over the authenticated stream with
// curl_easy_send/curl_easy_recv and read the answers with reader.hpp.
//
// Why not libcurl's own IMAP commands: its custom-request mode drops literal bodies, its URL
// FETCH is one round trip per message and uses BODY[] (which marks mail read), and Debian's
// 7.88 fails any command whose answer lines add up to more than 300 KiB.
//
// Every read is bounded: by `operation_timeout` without a byte from the server (a stall), and
// by the stop flag, which fails the command within `stop_grace` of being set. No curl type here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/imap/mailbox.hpp"
#include "tlsrpt/imap/reader.hpp"

namespace tlsrpt::imap {

struct connection_options {
  std::string url;  // imap://host:port/ or imaps://host:port/ (a path, if any, is ignored)
  std::string username;
  std::string password;      // never logged
  std::string oauth2_token;  // SASL XOAUTH2 bearer token (replaces the password); never logged
  // imap:// then talks plain IMAP. Without it imap:// must upgrade with STARTTLS.
  bool allow_plaintext = false;
  std::string ca_file;  // PEM bundle to verify the server against; empty: the system store
  bool verify = true;   // off only for a test server: it disables both chain and name checks
  std::chrono::seconds connect_timeout{15};  // TCP + TLS + greeting + login
  // The longest wait for the next byte of an answer (a stalled server); a long FETCH that
  // keeps streaming is not cut off.
  std::chrono::seconds operation_timeout{120};
  std::size_t max_message_bytes = 0;  // fetches read past bigger messages; 0: no limit
  // Use MOVE (RFC 6851) when the server offers it. Off: COPY + \Deleted + UID EXPUNGE, which
  // needs UIDPLUS (RFC 4315); the tests use it to cover servers without MOVE.
  bool use_move = true;
  // Set by SIGTERM: a connect in progress is aborted, a command fails within stop_grace.
  const std::atomic<bool>* stop = nullptr;
  std::chrono::milliseconds stop_grace{500};
  // Protocol trace, with credentials redacted and message bodies left out. Goes to `trace`,
  // or to stderr when `trace` is empty.
  bool verbose = false;
  std::function<void(std::string_view)> trace;
};

class session {
 public:
  // Checks the URL (imap::error for an unusable one); connects only in open().
  explicit session(connection_options options);
  ~session();  // LOGOUT (best effort, bounded) and close
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Connects and logs in unless open. The error names the phase that failed (connect, TLS
  // handshake, greeting, login), with a hint for the classic scheme/port mix-ups.
  void open();
  bool is_open() const noexcept;
  // Drops the connection without LOGOUT (after a failure mid-answer: the stream is unusable).
  void close() noexcept;

  // Sends `<tag> <command>\r\n`; returns the tag. `command` must not hold CR or LF.
  std::string send(std::string_view command);
  // Raw octets: `DONE\r\n` after IDLE, a literal's octets after the server's continuation.
  void send_raw(std::string_view bytes);

  struct handler {
    // Whether to hold a literal announced in an untagged response (`text` is the response up
    // to the announcement). Unset: literals up to 64 KiB are held, bigger ones read past.
    std::function<bool(std::string_view text, std::uint64_t size)> keep_literal;
    // Every untagged response, as it completes. A BYE fails the command after this call.
    std::function<void(detail::response&)> on_untagged;
    // Continuation requests (`+ ...`), with their text after "+ ".
    std::function<void(std::string_view text)> on_continuation;
  };

  // Reads until the tagged answer to `tag` and returns it (NO and BAD are returned, not thrown).
  // Throws imap::error for a failed connection, a stall, a BYE, the stop flag or a protocol
  // violation; the connection is closed then.
  detail::tagged_status finish(const std::string& tag, const handler& h = {});
  // One response, if it completes before `deadline` (nullopt otherwise, the connection intact:
  // what IDLE waits with). Tagged responses are returned like the others.
  std::optional<detail::response> read_one(std::chrono::steady_clock::time_point deadline,
                                           const handler& h = {});

  // send + finish. A NO or BAD throws imap::error "imap: cannot <what>: <status text>" with
  // code 0 and the server's status kept apart (error::server_status()).
  detail::tagged_status run(std::string_view command, const std::string& what,
                            const handler& h = {});

  // Post-login CAPABILITY atoms, upper-cased and sorted; asked once per connection.
  const std::vector<std::string>& capabilities();
  bool has_capability(std::string_view upper_name);

  // The server's greeting line (`* OK ...`, at most 200 octets) of the current connection.
  const std::string& greeting() const noexcept;
  // The last `* n EXISTS` seen on this connection (0 before any).
  std::uint32_t exists() const noexcept;
  const connection_options& options() const noexcept;
  const std::string& base_url() const noexcept;  // scheme://host:port/, no credentials
  const std::string& host() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tlsrpt::imap
