// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/insight/readiness.hpp"

namespace tlsrpt::insight {

namespace {

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : std::string(sep)) + x;
  return s;
}

}  // namespace

std::string verdict_text(const store::sts_readiness& r) {
  switch (r.result) {
    case store::verdict::ready:
      return "ready for enforce";
    case store::verdict::not_ready:
      return "not ready: " + join(r.reasons, "; ");
    case store::verdict::no_data:
      return "no data" + (r.reasons.empty() ? std::string() : ": " + join(r.reasons, "; "));
  }
  return "no data";
}

std::string progress_text(const store::sts_readiness& r) {
  const auto capped = std::min(r.observed_days, r.min_days);
  return std::to_string(capped) + " of " + std::to_string(r.min_days) + " days, " +
         std::to_string(std::min<std::int64_t>(r.reporters, r.min_reporters)) + " of " +
         std::to_string(r.min_reporters) + " reporters";
}

}  // namespace tlsrpt::insight
