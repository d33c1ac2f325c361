// SPDX-License-Identifier: Apache-2.0
// `parse FILE|-`: what a user runs to see what the collector reads in a file, or why it rejects it.
#include <iostream>

#include "../app.hpp"
#include "limits.hpp"
#include "tlsrpt/source/source.hpp"
#if TLSRPT_HAVE_MIME && TLSRPT_HAVE_REPORT
#include "tlsrpt/mime/extract.hpp"
#include "tlsrpt/report/report.hpp"
#endif

namespace tlsrpt::app {

int cmd_parse(context& ctx, const parse_args& a) {
#if TLSRPT_HAVE_MIME && TLSRPT_HAVE_REPORT
  // `parse` needs no configuration, but honours the limits of one when it is there.
  const auto lim = processing_limits_of(ctx.cfg().lim);
  std::vector<std::string> out;
  std::vector<std::string> problems;
  bool rejected = false;
  source::options so;
  so.max_size = lim.mime.max_message_bytes;
  source::walk({a.input}, so, [&](source::item&& it) {
    const std::string where = it.origin();
    if (it.oversized) {
      problems.push_back(where + ": rejected: larger than the " + std::to_string(so.max_size) +
                         "-byte limit (limits.max_message_size)");
      rejected = true;
      return;
    }
    const mime::extraction ex = mime::extract_any(it.bytes, lim.mime);
    switch (ex.kind) {
      case mime::outcome::not_a_report:
        problems.push_back(where + ": not a report: " + ex.reason);
        return;
      case mime::outcome::broken_report:
        problems.push_back(where + ": rejected: " + ex.reason);
        rejected = true;
        return;
      case mime::outcome::reports_found:
        break;
    }
    for (std::size_t i = 0; i < ex.reports.size(); ++i) {
      try {
        out.push_back(report::to_json(report::parse(ex.reports[i].json, lim.report)));
      } catch (const report::parse_error& e) {
        const std::string which = ex.reports.size() > 1
                                      ? "report " + std::to_string(i + 1) + " of " +
                                            std::to_string(ex.reports.size()) + ": "
                                      : "";
        problems.push_back(where + ": rejected: " + which + e.what());
        rejected = true;
      }
    }
  });
  // Print what parsed even when something else in the input did not: the error is on stderr.
  std::cout << "[";
  for (std::size_t i = 0; i < out.size(); ++i) std::cout << (i ? ",\n" : "") << out[i];
  std::cout << "]\n";
  for (const auto& p : problems) std::cerr << p << "\n";
  return rejected ? exit_code::data : exit_code::ok;
#else
  (void)ctx;
  (void)a;
  throw failure(exit_code::unavailable,
                "parse: not available: this build lacks the mime or report module");
#endif
}

}  // namespace tlsrpt::app
