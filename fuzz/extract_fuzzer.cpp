// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: any bytes through extract_any() (message, bare JSON or gzip). extract()
// promises never to throw for bad input and to return exactly one coherent outcome.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tlsrpt/mime/extract.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const tlsrpt::mime::library gmime;
  tlsrpt::mime::limits lim;
  lim.max_report_bytes = 1u << 20;  // keep bombs cheap; the limit logic is the same
  const auto x =
      tlsrpt::mime::extract_any(std::string_view(reinterpret_cast<const char*>(data), size), lim);
  const bool found = x.kind == tlsrpt::mime::outcome::reports_found;
  if (found == x.reports.empty()) std::abort();
  for (const auto& r : x.reports) {
    if (r.json.size() > lim.max_report_bytes) std::abort();
  }
  if (!found && x.reason.empty()) std::abort();
  return 0;
}
