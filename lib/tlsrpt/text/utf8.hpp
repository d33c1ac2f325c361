// SPDX-License-Identifier: Apache-2.0
// UTF-8 decoding one sequence at a time, validation and repair. Strict (RFC 3629): overlong
// forms, surrogates and code points past U+10FFFF are invalid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tlsrpt::text {

// One decoded sequence: `length` bytes at the front of the input, or length 0 when the first
// byte does not start a well-formed sequence (then `cp` is that byte).
struct utf8_sequence {
  char32_t cp = 0;
  std::size_t length = 0;
};

constexpr utf8_sequence decode_utf8(std::string_view s) noexcept {
  if (s.empty()) return {};
  const auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80u) return {c, 1};
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((c & 0xE0u) == 0xC0u) {
    len = 2;
    min = 0x80u;
    cp = c & 0x1Fu;
  } else if ((c & 0xF0u) == 0xE0u) {
    len = 3;
    min = 0x800u;
    cp = c & 0x0Fu;
  } else if ((c & 0xF8u) == 0xF0u) {
    len = 4;
    min = 0x10000u;
    cp = c & 0x07u;
  } else {
    return {c, 0};
  }
  if (s.size() < len) return {c, 0};
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[k]);
    if ((cc & 0xC0u) != 0x80u) return {c, 0};
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) return {c, 0};
  return {cp, len};
}

constexpr bool is_valid_utf8(std::string_view s) noexcept {
  while (!s.empty()) {
    const auto seq = decode_utf8(s);
    if (seq.length == 0) return false;
    s.remove_prefix(seq.length);
  }
  return true;
}

// `s` with every byte that is not part of a well-formed sequence replaced by U+FFFD.
inline std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const auto seq = decode_utf8(s);
    if (seq.length == 0) {
      out += "\xEF\xBF\xBD";
      s.remove_prefix(1);
    } else {
      out.append(s.substr(0, seq.length));
      s.remove_prefix(seq.length);
    }
  }
  return out;
}

// The length of the longest prefix of at most `max` bytes that does not cut a sequence.
constexpr std::size_t utf8_cut(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s.size();
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0u) == 0x80u) --n;
  return n;
}

inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80u) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800u) {
    out += static_cast<char>(0xC0u | (cp >> 6));
    out += static_cast<char>(0x80u | (cp & 0x3Fu));
  } else if (cp < 0x10000u) {
    out += static_cast<char>(0xE0u | (cp >> 12));
    out += static_cast<char>(0x80u | ((cp >> 6) & 0x3Fu));
    out += static_cast<char>(0x80u | (cp & 0x3Fu));
  } else {
    out += static_cast<char>(0xF0u | (cp >> 18));
    out += static_cast<char>(0x80u | ((cp >> 12) & 0x3Fu));
    out += static_cast<char>(0x80u | ((cp >> 6) & 0x3Fu));
    out += static_cast<char>(0x80u | (cp & 0x3Fu));
  }
}

}  // namespace tlsrpt::text
