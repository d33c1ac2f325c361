// SPDX-License-Identifier: Apache-2.0
// Plain-English explanations of RFC 8460 result types, shared by `summary`, the findings
// (lib/tlsrpt/monitor) and the dashboard, so that a failure reads the same everywhere.
#pragma once

#include <string_view>

namespace tlsrpt::insight {

struct explanation {
  std::string_view meaning;   // what the sender saw
  std::string_view to_check;  // what the receiving domain's admin should look at
};

// For the eleven registered result types (RFC 8460 §4.3, IANA registry); anything else gets a
// generic text saying the type is not registered.
explanation explain(std::string_view result_type) noexcept;

}  // namespace tlsrpt::insight
