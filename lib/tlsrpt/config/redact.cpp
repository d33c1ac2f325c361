// SPDX-License-Identifier: Apache-2.0
// Keeping the database password out of everything we print. libpq echoes a connection string
// it cannot parse ('end of string reached when looking for matching "]" in IPv6 host address
// in URI: "postgresql://u:SECRET@[::1/x"'), so redacting the URL we print ourselves is not
// enough: every text that may quote it is scrubbed of the secret's value too.
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/config/config.hpp"
#include "tlsrpt/text/ascii.hpp"

namespace tlsrpt::config {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_url(std::string_view s) {
  return text::istarts_with(s, "postgresql://") || text::istarts_with(s, "postgres://");
}

// The span [first, last) of each password value in a URL: the userinfo after its first ':'
// up to the LAST '@' (a password with an unencoded '@' ends there; a malformed host after it
// does not matter), and every password= query parameter.
std::vector<std::pair<std::size_t, std::size_t>> url_password_spans(std::string_view u) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  const std::size_t start = u.find("://") + 3;
  const std::size_t at = u.rfind('@');
  if (at != std::string_view::npos && at >= start) {
    const std::size_t colon = u.find(':', start);
    if (colon < at) spans.emplace_back(colon + 1, at);
  }
  const std::size_t q = u.find('?', at == std::string_view::npos ? start : at);
  for (std::size_t p = q; p != std::string_view::npos && p < u.size();) {
    const std::size_t key = p + 1;
    std::size_t end = u.find('&', key);
    if (end == std::string_view::npos) end = u.size();
    const std::string_view param = u.substr(key, end - key);
    if (text::istarts_with(param, "password=")) spans.emplace_back(key + 9, end);
    p = end == u.size() ? std::string_view::npos : end;
  }
  return spans;
}

// libpq's key=value syntax: key, optional blanks, '=', optional blanks, then a value that is
// either single-quoted (with \' and \\ escapes) or runs to the next blank.
std::vector<std::pair<std::size_t, std::size_t>> keyword_password_spans(std::string_view s) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  std::size_t i = 0;
  const auto blank = [&](std::size_t k) { return k < s.size() && text::is_space(s[k]); };
  while (i < s.size()) {
    while (blank(i)) ++i;
    const std::size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !text::is_space(s[i])) ++i;
    const std::string_view key = s.substr(key_start, i - key_start);
    while (blank(i)) ++i;
    if (i >= s.size() || s[i] != '=') {
      // Not key=value: skip the word and go on (the text may be libpq's message around it).
      if (i == key_start) ++i;
      continue;
    }
    ++i;
    while (blank(i)) ++i;
    const std::size_t value_start = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') i += s[i] == '\\' && i + 1 < s.size() ? 2u : 1u;
      if (i < s.size()) ++i;
    } else {
      while (i < s.size() && !text::is_space(s[i])) ++i;
    }
    if (text::iequals(key, "password") && i > value_start) spans.emplace_back(value_start, i);
  }
  return spans;
}

std::vector<std::pair<std::size_t, std::size_t>> password_spans(std::string_view s) {
  return is_url(s) || s.find("://") != std::string_view::npos ? url_password_spans(s)
                                                              : keyword_password_spans(s);
}

// A single-quoted keyword value without its quotes and escapes.
std::string unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '\'') return std::string(v);
  v.remove_prefix(1);
  if (v.back() == '\'') v.remove_suffix(1);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out += v[i];
  }
  return out;
}

}  // namespace

std::vector<std::string> connection_secrets(std::string_view conninfo) {
  std::vector<std::string> out;
  const auto add = [&](std::string s) {
    if (s.empty()) return;
    for (const auto& o : out) {
      if (o == s) return;
    }
    out.push_back(std::move(s));
  };
  const bool url = conninfo.find("://") != std::string_view::npos;
  for (const auto& [first, last] : password_spans(conninfo)) {
    const std::string_view raw = conninfo.substr(first, last - first);
    add(std::string(raw));
    if (url) {
      add(percent_decode(raw));
      // libpq ends the userinfo at the FIRST '@' and echoes the rest as the host name
      // ("could not translate host name "CRET@127.0.0.1""): every piece after an '@' is
      // a secret too.
      for (std::size_t at = raw.find('@'); at != std::string_view::npos;
           at = raw.find('@', at + 1)) {
        const std::string_view rest = raw.substr(at + 1);
        add(std::string(rest.substr(0, rest.find('@'))));
      }
    } else {
      add(unquote(raw));
    }
  }
  return out;
}

std::string scrub(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t p = out.find(secret); p != std::string::npos; p = out.find(secret, p + 3))
      out.replace(p, secret.size(), "***");
  }
  return out;
}

std::string redact_url(std::string_view url) {
  std::string u(url);
  auto spans = password_spans(u);
  // Replace from the back so earlier offsets stay valid.
  for (auto it = spans.rbegin(); it != spans.rend(); ++it)
    u.replace(it->first, it->second - it->first, "***");
  return u;
}

}  // namespace tlsrpt::config
