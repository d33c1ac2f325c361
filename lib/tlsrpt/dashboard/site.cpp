// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dashboard/site.hpp"

#include <crypt.h>

#include <algorithm>
#include <cstring>

#include "tlsrpt/dashboard/html.hpp"
#include "tlsrpt/dashboard/layout.hpp"

namespace tlsrpt::dashboard {

namespace {

std::optional<std::string> base64_decode(std::string_view in) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (const char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;  // data after padding
    const auto pos = alphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    buf = (buf << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

// Compares without stopping at the first difference, so the time does not tell how much of a
// hash matched.
bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

int from_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && from_hex(s[i + 1]) >= 0 &&
               from_hex(s[i + 2]) >= 0) {
      out += static_cast<char>(from_hex(s[i + 1]) * 16 + from_hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

int days_of(std::string_view query) {
  const auto v = query_value(query, "days");
  if (!v || v->empty() || v->size() > 4 ||
      !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return 30;
  return std::clamp(std::stoi(*v), 1, 3660);
}

answer with_headers(answer a) {
  // The <meta> policy of the pages cannot hold frame-ancestors; the header can.
  a.headers.emplace_back("Content-Security-Policy",
                         std::string(detail::content_security_policy) + "; frame-ancestors 'none'");
  a.headers.emplace_back("X-Content-Type-Options", "nosniff");
  a.headers.emplace_back("Referrer-Policy", "no-referrer");
  a.headers.emplace_back("Cache-Control", "no-store");
  return a;
}

}  // namespace

bool password_matches(std::string_view password, const std::string& hash) {
  if (hash.size() < 3 || hash[0] != '$') return false;  // no DES or an empty hash
  struct crypt_data data;
  std::memset(&data, 0, sizeof data);
  const std::string pw(password);
  const char* out = ::crypt_r(pw.c_str(), hash.c_str(), &data);
  // libxcrypt answers a failure with a string starting with '*', never equal to a hash.
  return out != nullptr && out[0] != '*' && same(out, hash);
}

bool authorized(const std::vector<user>& users, std::optional<std::string_view> authorization) {
  if (users.empty()) return true;
  if (!authorization) return false;
  std::string_view h = *authorization;
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  // RFC 7617 §2: the scheme name is case-insensitive.
  if (h.size() < 6) return false;
  std::string scheme(h.substr(0, 6));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "basic ") return false;
  h.remove_prefix(6);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (h.size() > 4096) return false;
  const auto decoded = base64_decode(h);
  if (!decoded) return false;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  const std::string_view name(decoded->data(), colon);
  const std::string_view password = std::string_view(*decoded).substr(colon + 1);
  bool ok = false;
  for (const auto& u : users)
    if (same(u.name, name) && password_matches(password, u.password_hash)) ok = true;
  return ok;
}

std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) != key) continue;
    return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

site::site(std::string database_url, explainer explain, std::vector<user> users,
           std::function<std::shared_ptr<const monitor_view>()> monitor)
    : url_(std::move(database_url)),
      explain_(std::move(explain)),
      users_(std::move(users)),
      monitor_(std::move(monitor)) {}
site::~site() = default;

const std::vector<std::string>& site::paths() {
  static const std::vector<std::string> p{"/", "/domain", "/messages"};
  return p;
}

answer site::handle(std::string_view method, std::string_view path, std::string_view query,
                    std::optional<std::string_view> authorization) const {
  if (!authorized(users_, authorization)) {
    answer a{401, "text/plain; charset=utf-8", "authentication required\n", {}};
    a.headers.emplace_back("WWW-Authenticate",
                           "Basic realm=\"tlsrpt-collector\", charset=\"UTF-8\"");
    return with_headers(std::move(a));
  }
  if (method != "GET" && method != "HEAD") {
    answer a{405, "text/plain; charset=utf-8", "the dashboard is read-only\n", {}};
    a.headers.emplace_back("Allow", "GET, HEAD");
    return with_headers(std::move(a));
  }
  const int days = days_of(query);
  const auto ctx = served_context(explain_, days, monitor_ ? monitor_() : nullptr);
  try {
    store::pg_dashboard db(url_);
    store::dashboard_options o;
    o.days = days;
    if (path == "/")
      return with_headers(
          {200, "text/html; charset=utf-8", overview_page(db.read_overview(o), ctx), {}});
    if (path == "/messages")
      return with_headers(
          {200, "text/html; charset=utf-8", messages_page(db.read_messages(o), ctx), {}});
    if (path == "/domain") {
      const auto name = query_value(query, "name");
      if (name && name->size() <= 1024)
        if (const auto d = db.read_domain(*name, o))
          return with_headers({200, "text/html; charset=utf-8", domain_page(*d, ctx), {}});
      return with_headers(
          {404,
           "text/html; charset=utf-8",
           not_found_page(
               "No reports about the policy domain " + name.value_or(std::string()) + ".", ctx),
           {}});
    }
  } catch (const store::error& e) {
    answer a{503,
             "text/html; charset=utf-8",
             message_page("Database unavailable",
                          std::string("The database cannot be read now: ") + e.what(), ctx),
             {}};
    a.headers.emplace_back("Retry-After", "30");
    return with_headers(std::move(a));
  }
  return with_headers({404, "text/html; charset=utf-8", not_found_page("No such page.", ctx), {}});
}

}  // namespace tlsrpt::dashboard
