// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the RFC 8460 parser. Besides "no crash, no sanitizer report", it checks
// a property: whatever parses renders to JSON that parses back to the same normalized report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tlsrpt/report/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace rpt = tlsrpt::report;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  rpt::report parsed;
  try {
    parsed = rpt::parse(input);
  } catch (const rpt::parse_error&) {
    return 0;  // a rejected report is a fine outcome; anything else thrown is a finding
  }
  parsed.warnings.clear();
  const std::string once = rpt::to_json(parsed);
  rpt::report again = rpt::parse(once);  // must not throw: our own output is a valid report
  again.warnings.clear();
  if (rpt::to_json(again) != once) __builtin_trap();
  return 0;
}
