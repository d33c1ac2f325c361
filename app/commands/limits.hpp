// SPDX-License-Identifier: Apache-2.0
// The configuration's limits in the shape the pipeline takes them.
#pragma once

#include "tlsrpt/config/config.hpp"
#if TLSRPT_HAVE_MIME && TLSRPT_HAVE_REPORT
#include "tlsrpt/mime/extract.hpp"
#include "tlsrpt/report/report.hpp"

namespace tlsrpt::app {

// The same two members as collector::processing_limits, usable without the collector.
struct pipeline_limits {
  mime::limits mime;
  report::parse_limits report;
};

inline pipeline_limits processing_limits_of(const config::limits& l, std::uint64_t max_message,
                                            std::uint64_t max_report) {
  pipeline_limits p;
  p.mime.max_message_bytes = static_cast<std::size_t>(max_message);
  p.mime.max_report_bytes = static_cast<std::size_t>(max_report);
  p.report.max_bytes = static_cast<std::size_t>(max_report);
  p.report.max_depth = l.max_depth;
  p.report.max_policies = l.max_policies;
  p.report.max_failure_details = l.max_failure_details;
  return p;
}
inline pipeline_limits processing_limits_of(const config::limits& l) {
  return processing_limits_of(l, l.max_message_size, l.max_report_size);
}

}  // namespace tlsrpt::app
#endif
