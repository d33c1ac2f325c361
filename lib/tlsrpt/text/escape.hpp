// SPDX-License-Identifier: Apache-2.0
// Escaping sender-controlled text for where it goes. A report-id, a Message-ID, an
// organization name or a file name is data: it must not end a log line, move a terminal's
// cursor, reverse the text after it (bidi overrides) or make a JSON log invalid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tlsrpt/text/utf8.hpp"

namespace tlsrpt::text {

namespace detail {

inline constexpr char hex_digits[] = "0123456789abcdef";

inline void append_hex(std::string& out, unsigned v, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += hex_digits[(v >> shift) & 0xFu];
}

}  // namespace detail

// Code points that a terminal or a reader acts on instead of showing: C0/C1 controls, DEL,
// the bidi embeddings, overrides and isolates (Trojan Source, CVE-2021-42574), the line and
// paragraph separators, zero-width characters and the BOM.
constexpr bool is_unsafe_code_point(char32_t cp) noexcept {
  return cp < 0x20u || (cp >= 0x7Fu && cp <= 0x9Fu) || cp == 0x061Cu ||
         (cp >= 0x200Bu && cp <= 0x200Fu) || (cp >= 0x2028u && cp <= 0x202Eu) ||
         (cp >= 0x2060u && cp <= 0x2069u) || cp == 0xFEFFu;
}

// C-style escaping for text logs and the terminal: \\ \n \r \t, \xNN for other control bytes
// and for bytes that are not UTF-8, \u{NNNN} for the unsafe code points above. Printable
// UTF-8 stays as it is, so names in other scripts remain readable.
inline std::string escape_c(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const auto seq = decode_utf8(s);
    if (seq.length == 0) {
      out += "\\x";
      detail::append_hex(out, static_cast<unsigned char>(s[0]), 2);
      s.remove_prefix(1);
      continue;
    }
    const char32_t cp = seq.cp;
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x80u && is_unsafe_code_point(cp)) {
      out += "\\x";
      detail::append_hex(out, static_cast<unsigned>(cp), 2);
    } else if (is_unsafe_code_point(cp)) {
      out += "\\u{";
      detail::append_hex(out, static_cast<unsigned>(cp), 4);
      out += '}';
    } else {
      out.append(s.substr(0, seq.length));
    }
    s.remove_prefix(seq.length);
  }
  return out;
}

// True when escape_c would change nothing.
constexpr bool is_plain(std::string_view s) noexcept {
  while (!s.empty()) {
    const auto seq = decode_utf8(s);
    if (seq.length == 0 || seq.cp == '\\' || is_unsafe_code_point(seq.cp)) return false;
    s.remove_prefix(seq.length);
  }
  return true;
}

// A JSON string literal (RFC 8259 §7) that is valid UTF-8 whatever `s` holds: bytes that are
// not UTF-8 become U+FFFD; controls and the unsafe code points are \u escapes.
inline std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  while (!s.empty()) {
    const auto seq = decode_utf8(s);
    if (seq.length == 0) {
      out += "\\ufffd";
      s.remove_prefix(1);
      continue;
    }
    const char32_t cp = seq.cp;
    if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (is_unsafe_code_point(cp)) {
      out += "\\u";
      detail::append_hex(out, static_cast<unsigned>(cp), 4);
    } else {
      out.append(s.substr(0, seq.length));
    }
    s.remove_prefix(seq.length);
  }
  out += '"';
  return out;
}

// The number of code points, a terminal column count that is right for the scripts a report
// holds in practice (domain names, organization names).
constexpr std::size_t columns(std::string_view s) noexcept {
  std::size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0u) != 0x80u) ++n;
  }
  return n;
}

// Text for one terminal cell: escaped, and cut to at most `max` columns with "..." at the end
// when longer (so a 10 KB domain does not pad every row of a table). `max` >= 4.
inline std::string terminal_cell(std::string_view s, std::size_t max) {
  std::string e = escape_c(s);
  if (columns(e) <= max) return e;
  const std::size_t keep = max - 3;
  std::size_t i = 0;
  for (std::size_t n = 0; i < e.size() && n < keep; ++n) {
    ++i;
    while (i < e.size() && (static_cast<unsigned char>(e[i]) & 0xC0u) == 0x80u) ++i;
  }
  e.resize(i);
  return e + "...";
}

// One CSV field (RFC 4180 §2): quoted when it holds a comma, a quote, CR or LF, quotes
// doubled. A field that a spreadsheet would run as a formula (= + - @, also a leading tab or
// CR: OWASP "CSV injection") gets a leading apostrophe, which spreadsheets show as text.
inline std::string csv_field(std::string_view s) {
  std::string v;
  if (!s.empty() &&
      (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r')) {
    v += '\'';
  }
  v.append(s);
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace tlsrpt::text
