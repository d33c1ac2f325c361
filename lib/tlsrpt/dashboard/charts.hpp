// SPDX-License-Identifier: Apache-2.0
// Inline SVG charts for the pages: no script, no external resource, styled by the page's CSS
// classes (ok, fail, grid...), each an <svg role="img"> with a <title> and a <desc> that say
// in words what it shows. The pages put the numbers in a table next to each chart as well.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsrpt::dashboard::charts {

struct day_bar {
  std::string day;  // YYYY-MM-DD
  std::int64_t successful = 0;
  std::int64_t failed = 0;
};

// A small bar per day (height: sessions, red top: failed share), for a table cell.
std::string sparkline(const std::vector<day_bar>& days, std::string_view label);

// Successful and failed sessions per day, stacked.
std::string stacked_days(const std::vector<day_bar>& days, std::string_view title,
                         std::string_view desc);

struct day_rate {
  std::string day;
  std::optional<double> rate;  // nullopt: no sessions that day
};

// The daily failure rate as a line (broken where a day has no data) with the threshold as a
// dashed line.
std::string rate_line(const std::vector<day_rate>& days, double threshold, std::string_view title,
                      std::string_view desc);

enum class day_state { no_data, ready, not_ready };
struct day_cell {
  std::string day;
  day_state state = day_state::no_data;
  std::string tip;  // already plain text; escaped here
};

// One square per day: ready, not ready, no data.
std::string timeline(const std::vector<day_cell>& days, std::string_view title,
                     std::string_view desc);

}  // namespace tlsrpt::dashboard::charts
