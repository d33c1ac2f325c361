// SPDX-License-Identifier: Apache-2.0
// Outgoing requests over libcurl for the notifications (issue 19): an HTTP POST (webhooks) and
// one SMTP submission (alert and digest mail). No curl type appears here.
//
// Why in imap/: this module owns libcurl (STYLE.md: one C library per module), and the
// project's other curl users (the IMAP session, the OAuth2 token endpoint) are here too. Each
// call owns its own easy handle for that one request, with its own bounds, so a dead receiver
// costs at most its timeout and shares nothing with the collector's mailbox connections.
// curl_global_init stays owned by main (imap::library).
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tlsrpt::imap {

// A delivery that did not happen. what() is "notify: cannot <verb> <object>: <cause> (N)";
// curl_code() keeps the raw CURLcode (0 when the receiver answered with a refusal),
// http_status() the HTTP status a webhook answered (0 for SMTP and transport failures).
class delivery_error : public std::runtime_error {
 public:
  delivery_error(const std::string& what, int curl_code, long http_status = 0)
      : std::runtime_error(what), curl_code_(curl_code), http_status_(http_status) {}
  int curl_code() const noexcept { return curl_code_; }
  long http_status() const noexcept { return http_status_; }

 private:
  int curl_code_;
  long http_status_;
};

struct delivery_limits {
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // the whole request
  std::optional<std::string> ca_file;                            // else the system store
};

// POSTs `body` to `url` (http or https, no redirects: a webhook URL holds its secret); a 2xx
// answer is success, anything else throws delivery_error. The error names only the URL's
// origin, never its path (Slack and Teams put the token there).
void http_post(const std::string& url, const std::string& body, const std::string& content_type,
               const delivery_limits& lim = {});

struct smtp_envelope {
  std::string url;       // smtp://host:port (STARTTLS required unless allow_plaintext) or smtps://
  std::string username;  // empty: no AUTH
  std::string password;  // never logged
  std::string from;
  std::vector<std::string> to;
  bool allow_plaintext = false;
};

// Submits one message (RFC 5322 text with CRLF line ends; libcurl dot-stuffs it, RFC 5321
// §4.5.2). Throws delivery_error, which also says when the server refused a recipient.
void smtp_send(const smtp_envelope& env, const std::string& message,
               const delivery_limits& lim = {});

// "https://hooks.example.com" from "https://hooks.example.com/services/T0/B0/secret?x": what a
// log or an error may show of a URL that holds a token.
std::string url_origin(const std::string& url);

}  // namespace tlsrpt::imap
