// SPDX-License-Identifier: Apache-2.0
// Small text helpers shared by the report sources. Internal: not part of the public API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tlsrpt::report::detail {

inline bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

inline char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// ASCII lowercase only: IDNs arrive as A-labels, and other bytes are kept as sent.
inline std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// A domain name as the model keeps it: trimmed, lowercased, without the root's trailing dot.
inline std::string normalize_domain(std::string_view s) {
  s = trim(s);
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return lower_ascii(s);
}

// The length of the longest prefix of `s` of at most `max` bytes that does not cut a UTF-8
// sequence in two.
inline std::size_t utf8_cut(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s.size();
  std::size_t n = max;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut sequence.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0u) == 0x80u) --n;
  return n;
}

// `s` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

}  // namespace tlsrpt::report::detail
