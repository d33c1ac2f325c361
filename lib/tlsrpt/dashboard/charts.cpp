// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dashboard/charts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tlsrpt/dashboard/html.hpp"

namespace tlsrpt::dashboard::charts {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string open_svg(int w, int h, std::string_view cls, std::string_view title,
                     std::string_view desc) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"" + std::string(cls) +
         "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
         "\" role=\"img\" aria-label=\"" + html::escape(title) + "\"><title>" +
         html::escape(title) + "</title><desc>" + html::escape(desc) + "</desc>";
}

// A y-axis maximum that reads well: 1, 2 or 5 times a power of ten, at least v.
double nice_max(double v) {
  if (v <= 0) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

std::string short_count(double v) {
  char buf[32];
  if (v >= 1e9)
    std::snprintf(buf, sizeof buf, "%gG", v / 1e9);
  else if (v >= 1e6)
    std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
  else if (v >= 1e3)
    std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Plot area of the large charts.
constexpr int W = 720, H = 220, L = 56, R = 12, T = 12, B = 30;

std::string x_labels(const std::vector<std::string>& days) {
  std::string s;
  if (days.empty()) return s;
  const double step = static_cast<double>(W - L - R) / static_cast<double>(days.size());
  const std::size_t picks[] = {0, days.size() / 2, days.size() - 1};
  std::size_t last = static_cast<std::size_t>(-1);
  for (const std::size_t i : picks) {
    if (i == last) continue;
    last = i;
    const double x = L + step * (static_cast<double>(i) + 0.5);
    const char* anchor = i == 0 ? "start" : (i == days.size() - 1 ? "end" : "middle");
    const double ax = i == 0 ? L : (i == days.size() - 1 ? W - R : x);
    s += "<text class=\"axis\" x=\"" + num(ax) + "\" y=\"" + std::to_string(H - 8) +
         "\" text-anchor=\"" + anchor + "\">" + html::escape(days[i]) + "</text>";
  }
  return s;
}

std::string y_grid(double max, bool as_percent) {
  std::string s;
  for (int k = 0; k <= 2; ++k) {
    const double v = max * k / 2.0;
    const double y = H - B - (H - B - T) * k / 2.0;
    s += "<line class=\"grid\" x1=\"" + std::to_string(L) + "\" x2=\"" + std::to_string(W - R) +
         "\" y1=\"" + num(y) + "\" y2=\"" + num(y) + "\"/>";
    s += "<text class=\"axis\" x=\"" + std::to_string(L - 6) + "\" y=\"" + num(y + 4) +
         "\" text-anchor=\"end\">" + (as_percent ? html::percent(v) : short_count(v)) + "</text>";
  }
  return s;
}

}  // namespace

std::string sparkline(const std::vector<day_bar>& days, std::string_view label) {
  constexpr int w = 124, h = 28;
  std::string s = open_svg(w, h, "spark", label, label);
  std::int64_t max = 0;
  for (const auto& d : days) max = std::max(max, d.successful + d.failed);
  const double step = days.empty() ? 0 : static_cast<double>(w) / static_cast<double>(days.size());
  for (std::size_t i = 0; i < days.size(); ++i) {
    const auto& d = days[i];
    const std::int64_t total = d.successful + d.failed;
    const double x = step * static_cast<double>(i);
    if (total == 0) {
      s += "<rect class=\"none\" x=\"" + num(x) + "\" y=\"" + std::to_string(h - 1) +
           "\" width=\"" + num(std::max(step - 1, 1.0)) + "\" height=\"1\"/>";
      continue;
    }
    const double bh =
        std::max(2.0, (h - 1) * static_cast<double>(total) / static_cast<double>(max));
    // Failures get at least a pixel: one failed session in a million must still show.
    double fh = bh * static_cast<double>(d.failed) / static_cast<double>(total);
    if (d.failed > 0) fh = std::max(fh, 1.5);
    s += "<rect class=\"ok\" x=\"" + num(x) + "\" y=\"" + num(h - bh) + "\" width=\"" +
         num(std::max(step - 1, 1.0)) + "\" height=\"" + num(bh - fh) + "\"/>";
    if (fh > 0)
      s += "<rect class=\"fail\" x=\"" + num(x) + "\" y=\"" + num(h - bh) + "\" width=\"" +
           num(std::max(step - 1, 1.0)) + "\" height=\"" + num(fh) + "\"/>";
  }
  return s + "</svg>";
}

std::string stacked_days(const std::vector<day_bar>& days, std::string_view title,
                         std::string_view desc) {
  std::string s = open_svg(W, H, "chart", title, desc);
  std::int64_t max = 0;
  std::vector<std::string> labels;
  for (const auto& d : days) {
    max = std::max(max, d.successful + d.failed);
    labels.push_back(d.day);
  }
  const double ymax = nice_max(static_cast<double>(max));
  s += y_grid(ymax, false);
  const double step =
      days.empty() ? 0 : static_cast<double>(W - L - R) / static_cast<double>(days.size());
  const double bw = std::max(1.0, step * 0.75);
  const double plot = H - B - T;
  for (std::size_t i = 0; i < days.size(); ++i) {
    const auto& d = days[i];
    const double x = L + step * static_cast<double>(i) + (step - bw) / 2;
    const double oh = plot * static_cast<double>(d.successful) / ymax;
    double fh = plot * static_cast<double>(d.failed) / ymax;
    if (d.failed > 0) fh = std::max(fh, 2.0);
    const std::string tip = d.day + ": " + html::count(d.successful) + " successful, " +
                            html::count(d.failed) + " failed";
    s += "<g><title>" + html::escape(tip) + "</title>";
    if (oh > 0)
      s += "<rect class=\"ok\" x=\"" + num(x) + "\" y=\"" + num(H - B - oh) + "\" width=\"" +
           num(bw) + "\" height=\"" + num(oh) + "\"/>";
    if (fh > 0)
      s += "<rect class=\"fail\" x=\"" + num(x) + "\" y=\"" + num(H - B - oh - fh) + "\" width=\"" +
           num(bw) + "\" height=\"" + num(fh) + "\"/>";
    s += "</g>";
  }
  s += x_labels(labels);
  return s + "</svg>";
}

std::string rate_line(const std::vector<day_rate>& days, double threshold, std::string_view title,
                      std::string_view desc) {
  std::string s = open_svg(W, H, "chart", title, desc);
  double max = threshold * 2;
  std::vector<std::string> labels;
  for (const auto& d : days) {
    if (d.rate) max = std::max(max, *d.rate);
    labels.push_back(d.day);
  }
  const double ymax = std::min(1.0, nice_max(max));
  s += y_grid(ymax, true);
  const double step =
      days.empty() ? 0 : static_cast<double>(W - L - R) / static_cast<double>(days.size());
  const double plot = H - B - T;
  const auto y_of = [&](double r) { return H - B - plot * std::min(r, ymax) / ymax; };
  const double ty = y_of(threshold);
  s += "<line class=\"threshold\" x1=\"" + std::to_string(L) + "\" x2=\"" + std::to_string(W - R) +
       "\" y1=\"" + num(ty) + "\" y2=\"" + num(ty) + "\"/>";
  s += "<text class=\"axis\" x=\"" + std::to_string(W - R) + "\" y=\"" + num(ty - 4) +
       "\" text-anchor=\"end\">threshold " + html::percent(threshold) + "</text>";
  std::string path;
  bool pen = false;
  std::string dots;
  for (std::size_t i = 0; i < days.size(); ++i) {
    const double x = L + step * (static_cast<double>(i) + 0.5);
    if (!days[i].rate) {
      pen = false;
      continue;
    }
    const double y = y_of(*days[i].rate);
    path += (pen ? " L" : " M") + num(x) + " " + num(y);
    pen = true;
    const bool over = *days[i].rate >= threshold;
    dots += "<circle class=\"" + std::string(over ? "dot over" : "dot") + "\" cx=\"" + num(x) +
            "\" cy=\"" + num(y) + "\" r=\"3\"><title>" +
            html::escape(days[i].day + ": " + html::percent(*days[i].rate)) + "</title></circle>";
  }
  if (!path.empty()) s += "<path class=\"rate\" d=\"" + path + "\"/>";
  s += dots;
  s += x_labels(labels);
  return s + "</svg>";
}

std::string timeline(const std::vector<day_cell>& days, std::string_view title,
                     std::string_view desc) {
  constexpr int h = 44;
  std::string s = open_svg(W, h, "chart timeline", title, desc);
  const double step =
      days.empty() ? 0 : static_cast<double>(W - L - R) / static_cast<double>(days.size());
  for (std::size_t i = 0; i < days.size(); ++i) {
    const auto& d = days[i];
    const char* cls = d.state == day_state::ready       ? "ok"
                      : d.state == day_state::not_ready ? "fail"
                                                        : "none";
    s += "<rect class=\"" + std::string(cls) + "\" x=\"" +
         num(L + step * static_cast<double>(i) + 0.5) + "\" y=\"2\" width=\"" +
         num(std::max(step - 1, 1.0)) + "\" height=\"20\"><title>" +
         html::escape(d.day + ": " + d.tip) + "</title></rect>";
  }
  std::vector<std::string> labels;
  for (const auto& d : days) labels.push_back(d.day);
  // The axis labels of the big charts sit at H - 8; here the strip is short.
  std::string axis = x_labels(labels);
  const std::string from = "y=\"" + std::to_string(H - 8) + "\"";
  for (std::size_t p = axis.find(from); p != std::string::npos; p = axis.find(from, p))
    axis.replace(p, from.size(), "y=\"38\"");
  return s + axis + "</svg>";
}

}  // namespace tlsrpt::dashboard::charts
