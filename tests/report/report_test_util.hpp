// SPDX-License-Identifier: Apache-2.0
// Helpers for the report tests: instants, sample text surgery, gzip for the corpus's .json.gz.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include "support/support.hpp"
#include "tlsrpt/report/report.hpp"

namespace tlsrpt::report::test {

inline timestamp utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
                     long long micros = 0) {
  using namespace std::chrono;
  return timestamp{sys_days{year{y} / month{mo} / day{d}}} + hours{h} + minutes{mi} + seconds{s} +
         microseconds{micros};
}

// `text` with the n-th (0-based) occurrence of `from` replaced. Fails the test when there is
// no such occurrence, so a mutation never silently tests the unmutated sample.
inline std::string replace_nth(std::string text, std::string_view from, std::string_view to,
                               std::size_t n = 0) {
  std::size_t pos = text.find(from);
  for (std::size_t i = 0; i < n && pos != std::string::npos; ++i) {
    pos = text.find(from, pos + from.size());
  }
  REQUIRE_MESSAGE(pos != std::string::npos, "sample lacks occurrence " << n << " of " << from);
  text.replace(pos, from.size(), to);
  return text;
}

inline bool has_warning(const report& r, std::string_view w) {
  return std::find(r.warnings.begin(), r.warnings.end(), w) != r.warnings.end();
}

// Decompresses a gzip file of the corpus (zlib is linked by the tests only).
std::string gunzip(const std::string& gz);

}  // namespace tlsrpt::report::test
