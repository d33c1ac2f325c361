// Plain-English explanations of RFC 8460 result types, for the summary.
#pragma once

#include <string_view>

namespace tlsrpt::app {

struct explanation {
  std::string_view meaning;   // what the sender saw
  std::string_view to_check;  // what the receiving domain's admin should look at
};

// For the eleven registered result types (RFC 8460 §4.3, IANA registry); anything else gets a
// generic text saying the type is not registered.
explanation explain(std::string_view result_type) noexcept;

}  // namespace tlsrpt::app
