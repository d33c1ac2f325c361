// SPDX-License-Identifier: Apache-2.0
// The dashboard as served pages: GET / (overview), /domain?name=D, /messages, each with
// ?days=N. Read-only: only GET and HEAD are answered. Independent of the HTTP server's types,
// so that the server (lib/tlsrpt/http) only passes method, path, query and the Authorization
// header in and sends the answer back.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tlsrpt/dashboard/pages.hpp"

namespace tlsrpt::dashboard {

// A user of http.users: the name and a crypt(3) hash of the password (SHA-512 "$6$...", as
// `mkpasswd -m sha-512` or `openssl passwd -6` write it; yescrypt "$y$" and bcrypt "$2b$" work
// too where libcrypt has them).
struct user {
  std::string name;
  std::string password_hash;
};

// Whether an Authorization header value ("Basic base64(name:password)", RFC 7617) names one
// of the users with the right password. An empty user list needs no header at all.
bool authorized(const std::vector<user>& users, std::optional<std::string_view> authorization);

// Whether `password` matches a crypt(3) hash. False for a malformed hash.
bool password_matches(std::string_view password, const std::string& hash);

// The query string's value for key, percent-decoded ('+' as a space); nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key);

struct answer {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class site {
 public:
  // `monitor` gives the latest evaluation of the findings (a monitor_snapshot's latest());
  // without it the pages say they are not evaluated.
  site(std::string database_url, explainer explain, std::vector<user> users = {},
       std::function<std::shared_ptr<const monitor_view>()> monitor = {});
  ~site();
  site(const site&) = delete;
  site& operator=(const site&) = delete;

  // The answer to one request. Thread-safe (each call opens its reader).
  answer handle(std::string_view method, std::string_view path, std::string_view query,
                std::optional<std::string_view> authorization) const;

  // The paths it answers, for registering with the server.
  static const std::vector<std::string>& paths();

 private:
  std::string url_;
  explainer explain_;
  std::vector<user> users_;
  std::function<std::shared_ptr<const monitor_view>()> monitor_;
};

}  // namespace tlsrpt::dashboard
