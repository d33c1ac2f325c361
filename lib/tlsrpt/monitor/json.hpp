// SPDX-License-Identifier: Apache-2.0
// Writing JSON text inside the monitor module (findings, webhook bodies). Internal.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

namespace tlsrpt::monitor::detail {

// Sender-controlled text (hosts, reporters, errors) goes through here: quotes, backslashes
// and control characters escaped, so a body stays one valid JSON value.
inline std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

inline std::string number(double d) {
  if (!std::isfinite(d)) return "null";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

}  // namespace tlsrpt::monitor::detail
