// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dashboard/html.hpp"

#include <cmath>
#include <cstdio>

namespace tlsrpt::dashboard::html {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// Decodes one UTF-8 sequence at s[i]; returns the code point and sets len, or returns -1 for
// an invalid sequence (len 1). Overlong forms and surrogates are invalid (RFC 3629 §3).
long decode(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b0 < 0x80) return b0;
  int n = 0;
  long cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 2;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 3;
    cp = b0 & 0x07;
  } else {
    return -1;
  }
  if (i + static_cast<std::size_t>(n) >= s.size()) return -1;  // truncated sequence
  for (int k = 1; k <= n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  len = static_cast<std::size_t>(n) + 1;
  return cp;
}

bool bidi_control(long cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// Appends the escaped form of s, at most max_chars code points; returns whether it stopped
// early.
bool append_escaped(std::string& out, std::string_view s, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (chars == max_chars) return true;
    std::size_t len = 1;
    const long cp = decode(s, i, len);
    ++chars;
    if (cp < 0) {
      out += replacement;
    } else if (cp == '&') {
      out += "&amp;";
    } else if (cp == '<') {
      out += "&lt;";
    } else if (cp == '>') {
      out += "&gt;";
    } else if (cp == '"') {
      out += "&quot;";
    } else if (cp == '\'') {
      out += "&#39;";
    } else if (cp == '\t' || cp == '\n') {
      out += static_cast<char>(cp);
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      out += replacement;
    } else if (bidi_control(cp)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "[U+%04lX]", static_cast<unsigned long>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return false;
}

}  // namespace

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  append_escaped(out, s, std::string_view::npos);
  return out;
}

std::string text(std::string_view s, std::size_t max_chars) {
  std::string out;
  if (append_escaped(out, s, max_chars)) {
    out += "\xE2\x80\xA6 (" + count(static_cast<std::int64_t>(s.size())) + " bytes)";
  }
  return out;
}

std::string url_component(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string count(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  const std::size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  out += digits.substr(0, first);
  for (std::size_t i = first; i < digits.size(); i += 3) out += "," + digits.substr(i, 3);
  return n < 0 ? "-" + out : out;
}

std::string percent(double rate) {
  const double p = rate * 100.0;
  if (!std::isfinite(p) || p == 0.0) return "0%";
  char buf[32];
  if (p >= 10)
    std::snprintf(buf, sizeof buf, "%.1f%%", p);
  else if (p >= 1)
    std::snprintf(buf, sizeof buf, "%.2f%%", p);
  else if (p >= 0.01)
    std::snprintf(buf, sizeof buf, "%.3f%%", p);
  else
    std::snprintf(buf, sizeof buf, "%.2g%%", p);
  return buf;
}

}  // namespace tlsrpt::dashboard::html
