// SPDX-License-Identifier: Apache-2.0
// The dashboard's pages, rendered on the server as complete HTML documents: inline CSS, inline
// SVG, no script and no external resource (the documents carry a Content-Security-Policy that
// forbids both), readable on a phone, with a table beside every chart. The same pages are
// served by `run` and written into one file by `report --html`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/dashboard/monitor_view.hpp"
#include "tlsrpt/store/dashboard.hpp"

namespace tlsrpt::dashboard {

// What a result type means and what to check: given by the caller, so the pages use the one
// set of explanations the project has (the same as `summary`).
struct explanation {
  std::string_view meaning;
  std::string_view to_check;
};
using explainer = std::function<explanation(std::string_view result_type)>;

struct page_context {
  explainer explain;
  // Where a link to a policy domain's page goes (already URL- or id-safe, not yet
  // HTML-escaped); nullopt domain = reports without one. The default links to served pages.
  std::function<std::string(const std::string& policy_domain)> domain_href;
  std::string overview_href = "./";
  std::string messages_href = "messages";
  bool single_file = false;  // one document holding every page (report --html)
  // The findings and the readiness by the monitor's rule; nullptr: not evaluated yet.
  std::shared_ptr<const monitor_view> monitor;
};

// The context for pages served side by side: domain?name=...&days=N.
page_context served_context(explainer explain, int days,
                            std::shared_ptr<const monitor_view> monitor = nullptr);

std::string overview_page(const store::overview& o, const page_context& ctx);
std::string domain_page(const store::domain_detail& d, const page_context& ctx);
std::string messages_page(const store::messages_page& m, const page_context& ctx);
std::string not_found_page(std::string_view what, const page_context& ctx);
// A page with a heading and one paragraph (both plain text).
std::string message_page(std::string_view title, std::string_view text, const page_context& ctx);

// One self-contained document: the overview, each domain's page and the messages, linked by
// anchors.
std::string report_file(const store::overview& o, const std::vector<store::domain_detail>& domains,
                        const store::messages_page& m, explainer explain,
                        std::shared_ptr<const monitor_view> monitor = nullptr);

}  // namespace tlsrpt::dashboard
