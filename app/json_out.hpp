// SPDX-License-Identifier: Apache-2.0
// Writing JSON text for the command line's output (summary --format json, log lines). Only
// writing: reading JSON is the report module's business.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/fmt/fmt.h>

namespace tlsrpt::app::json {

inline std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

inline std::string number(double d) {
  if (!std::isfinite(d)) return "null";
  return fmt::format("{}", d);
}

}  // namespace tlsrpt::app::json
