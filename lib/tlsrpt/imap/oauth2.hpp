// SPDX-License-Identifier: Apache-2.0
// OAuth2 access tokens for IMAP's SASL XOAUTH2, got and renewed by the collector itself
// (issue 17): Microsoft 365 takes only OAuth2 over IMAP and its tokens last about an hour.
// The token endpoint is spoken to over libcurl (RFC 6749 §4.4 client credentials, §6 refresh
// token), with its own easy handle; no curl type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tlsrpt/imap/curl_mailbox.hpp"
#include "tlsrpt/imap/mailbox.hpp"

namespace tlsrpt::imap {

// A token endpoint failure. configuration() is true when the provider refused our client or
// grant (RFC 6749 §5.2 invalid_client, invalid_grant, unauthorized_client, ...): nothing but
// a change of the configuration (or of the app registration) helps, so the CLI exits 78.
// transient() is true for network failures and for the provider being busy (429, 5xx).
class oauth2_error : public error {
 public:
  oauth2_error(const std::string& what, int code, bool transient, bool configuration)
      : error(what, code, transient), configuration_(configuration) {}
  bool configuration() const noexcept { return configuration_; }

 private:
  bool configuration_;
};

struct oauth2_options {
  std::string token_url;  // https:// (the config allows http:// to loopback only)
  std::string client_id;
  std::string client_secret;  // empty: a public client (refresh-token grant); never logged
  std::string scope;          // space-separated, sent when not empty
  // Set: the refresh-token grant, reading the token from this file before each request and
  // writing a rotated one back (atomically, mode 0600). Empty: client credentials.
  std::filesystem::path refresh_token_file;
  std::chrono::seconds timeout{30};
  std::string ca_file;  // extra CA bundle for the token endpoint; empty: the system store
};

// One mailbox's tokens. token() hands out the token in memory until shortly before it
// expires, then gets a new one; thread-safe. Never logs the token, the secret or the
// refresh token.
class token_source {
 public:
  explicit token_source(oauth2_options options);
  ~token_source();
  token_source(const token_source&) = delete;
  token_source& operator=(const token_source&) = delete;

  // A token that is valid for a while yet. Throws oauth2_error.
  std::string token();
  // Forgets the token in memory (the IMAP server refused it): the next token() asks anew.
  void invalidate() noexcept;
  // How many token requests succeeded so far (for logs and tests).
  std::uint64_t renewals() const noexcept;
  // Whether the token in memory came from the endpoint in the last token() call.
  bool fresh() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Connects and logs in (CAPABILITY) with a token from `tokens`. A login refused with a token
// we held in memory is retried once with a new one: the provider may revoke a token before
// its expiry, and clocks differ. Throws imap::error / oauth2_error.
std::unique_ptr<curl_mailbox> connect_with_token(connection_options options, token_source& tokens);

namespace detail {

// What a token endpoint answered (RFC 6749 §5.1 / §5.2), read from its JSON object. Unknown
// members are skipped; a body that is not one JSON object throws std::invalid_argument.
struct token_reply {
  std::string access_token;
  std::string token_type;
  std::optional<std::int64_t> expires_in;  // seconds; Azure AD v1 sends it as a string
  std::string refresh_token;
  std::string error;
  std::string error_description;
};
token_reply parse_token_reply(std::string_view json);

// application/x-www-form-urlencoded value (RFC 6749 Appendix B).
std::string form_encode(std::string_view s);

// When a token of `lifetime` got at `got` should be renewed: a margin of 5 minutes, or half
// the lifetime when that is shorter.
std::chrono::steady_clock::time_point renew_at(std::chrono::steady_clock::time_point got,
                                               std::chrono::seconds lifetime);

// Sender-controlled text (the provider's error description) made safe for a log line and
// bounded: control characters escaped, at most `max` octets.
std::string printable(std::string_view s, std::size_t max = 300);

// Writes `content` to `path` through a temporary file in the same directory (mode 0600),
// fsync, rename: a crash leaves either the old or the new file. Throws std::system_error.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace detail

}  // namespace tlsrpt::imap
