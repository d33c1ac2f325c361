// SPDX-License-Identifier: Apache-2.0
// The `http:` section (issues 18 and 20): where the HTTP side listens, its limits, and who may
// read the dashboard.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "reader.hpp"

namespace tlsrpt::config::detail {

namespace {

std::vector<std::string> read_string_list(const reader& r, const YAML::Node& n,
                                          const std::string& path) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) r.fail(n, path, std::string("expected a list, got ") + node_kind(n));
  for (std::size_t i = 0; i < n.size(); ++i) {
    out.push_back(trim(r.scalar(n[i], path + "[" + std::to_string(i) + "]", "a string")));
  }
  return out;
}

// host:port with a numeric port; IPv6 in brackets. The HTTP module checks the host itself.
bool listen_syntax_ok(const std::string& s) {
  std::size_t colon = 0;
  if (s.starts_with("[")) {
    const auto close = s.find(']');
    if (close == std::string::npos || close < 2 || close + 1 >= s.size() || s[close + 1] != ':')
      return false;
    colon = close + 1;
  } else {
    colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || s.find(':') != colon) return false;
  }
  const std::string port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  return std::stoul(port) <= 65535;
}

// http.users: who may read the dashboard (RFC 7617 basic auth), each with a crypt(3) hash.
std::vector<http_user> read_users(const reader& r, const YAML::Node& n) {
  std::vector<http_user> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) r.fail(n, "http.users", std::string("expected a list, got ") + node_kind(n));
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string path = "http.users[" + std::to_string(i) + "]";
    r.expect_map(n[i], path, {"name", "password_hash"});
    if (!n[i].IsMap()) r.fail(n[i], path, "expected a mapping with name and password_hash");
    http_user u;
    u.line = reader::line_of(n[i]);
    r.read(n[i], path, "name", u.name);
    r.read(n[i], path, "password_hash", u.password_hash);
    // RFC 7617 §2: the user-id cannot contain a colon.
    if (u.name.empty() || u.name.find(':') != std::string::npos ||
        std::any_of(u.name.begin(), u.name.end(), [](unsigned char c) { return c < 0x20; }))
      r.fail(n[i], path + ".name", "expected a user name without a colon or control character");
    // The hash is not echoed: it is as good as the password to an offline guesser.
    if (u.password_hash.size() < 4 || u.password_hash[0] != '$' ||
        u.password_hash.find('$', 1) == std::string::npos)
      r.fail(n[i], path + ".password_hash",
             "expected a crypt(3) hash such as $6$... (mkpasswd -m sha-512, openssl passwd -6)");
    for (const auto& prev : out)
      if (prev.name == u.name) r.fail(n[i], path + ".name", "\"" + u.name + "\" is listed twice");
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace

http_server read_http(const reader& r, const YAML::Node& n) {
  const std::string path = "http";
  r.expect_map(n, path,
               {"listen", "tls_cert", "tls_key", "report_path", "trusted_proxies", "max_body_size",
                "max_connections", "request_timeout", "users"});
  http_server h;
  h.line = reader::line_of(n);
  if (const YAML::Node l = n["listen"]) {
    h.listen = read_string_list(r, l, "http.listen");
    if (h.listen.empty()) r.fail(l, "http.listen", "must name at least one host:port");
    for (std::size_t i = 0; i < h.listen.size(); ++i) {
      if (!listen_syntax_ok(h.listen[i]))
        r.fail(l[i], "http.listen[" + std::to_string(i) + "]",
               "expected host:port (IPv6 as [::1]:8460), got \"" + h.listen[i] + "\"");
    }
  }
  r.read(n, path, "tls_cert", h.tls_cert);
  r.read(n, path, "tls_key", h.tls_key);
  if (h.tls_cert.has_value() != h.tls_key.has_value())
    r.fail(n, path, "tls_cert and tls_key go together: set both for HTTPS, or neither");
  r.read(n, path, "report_path", h.report_path);
  if (!h.report_path.starts_with("/") || h.report_path.find_first_of("?# ") != std::string::npos)
    r.fail(n["report_path"], "http.report_path",
           "expected a path starting with / (no query), got \"" + h.report_path + "\"");
  if (const YAML::Node t = n["trusted_proxies"])
    h.trusted_proxies = read_string_list(r, t, "http.trusted_proxies");
  r.read_size(n, path, "max_body_size", h.max_body_size);
  r.read_int<unsigned>(n, path, "max_connections", h.max_connections, 1);
  r.read_duration(n, path, "request_timeout", h.request_timeout);
  if (const YAML::Node u = n["users"]) h.users = read_users(r, u);
  return h;
}

}  // namespace tlsrpt::config::detail
