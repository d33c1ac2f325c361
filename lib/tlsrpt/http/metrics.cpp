// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/http/metrics.hpp"

#include <fmt/format.h>

#include <array>

#include "tlsrpt/collector/collector.hpp"
#include "tlsrpt/http/server.hpp"

namespace tlsrpt::http {

namespace {

// Pass durations in seconds: a pass over an empty folder takes milliseconds, a backlog of
// 100k messages a minute or two.
constexpr std::array<double, 10> duration_bounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The ledger's words (tlsrpt.messages.outcome), spelled here so that metrics need no store.
std::string_view outcome_label(store::outcome o) {
  switch (o) {
    case store::outcome::stored:
      return "stored";
    case store::outcome::duplicate:
      return "duplicate";
    case store::outcome::conflict:
      return "conflict";
    case store::outcome::not_a_report:
      return "not_a_report";
    case store::outcome::rejected:
      return "rejected";
    case store::outcome::skipped:
      return "skipped";
  }
  return "unknown";
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string number(double v) {
  if (v == static_cast<double>(static_cast<std::int64_t>(v))) {
    return std::to_string(static_cast<std::int64_t>(v));
  }
  return fmt::format("{}", v);  // the shortest form that reads back the same
}

}  // namespace

std::string escape_label(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

metrics::metrics(std::string version) : version_(std::move(version)) {}

metrics::mailbox& metrics::mailbox_of(const std::string& name) {
  mailbox& m = mailboxes_[name];
  if (m.duration_buckets.empty()) m.duration_buckets.assign(duration_bounds.size(), 0);
  return m;
}

void metrics::declare_mailbox(const std::string& name) {
  const std::lock_guard lock(mutex_);
  mailbox_of(name);
}

void metrics::on_message(const collector::message_event& e) noexcept {
  try {
    const std::lock_guard lock(mutex_);
    ++messages_[{std::string(e.source), std::string(outcome_label(e.result))}];
    if (e.reports > 0) reports_[std::string(e.source)] += e.reports;
  } catch (...) {
    // Out of memory while counting: the count is lost, the message is not.
  }
}

void metrics::on_pass(const collector::pass_event& e) noexcept {
  try {
    const std::lock_guard lock(mutex_);
    mailbox& m = mailbox_of(std::string(e.mailbox));
    if (e.error) {
      ++m.failed;
      ++m.consecutive_failures;
    } else {
      ++m.ok;
      m.consecutive_failures = 0;
      m.last_success = unix_now();
      if (e.stats != nullptr) m.backlog = e.stats->found - e.stats->already_done;
    }
    const double s = std::chrono::duration<double>(e.duration).count();
    for (std::size_t i = 0; i < duration_bounds.size(); ++i) {
      if (s <= duration_bounds[i]) ++m.duration_buckets[i];
    }
    m.duration_sum += s;
    ++m.duration_count;
  } catch (...) {
  }
}

void metrics::on_store_error(const collector::store_error_event& e) noexcept {
  try {
    const std::lock_guard lock(mutex_);
    ++db_errors_[std::string(e.kind)];
  } catch (...) {
  }
}

void metrics::on_http_response(std::string_view route, int status) noexcept {
  try {
    const std::lock_guard lock(mutex_);
    ++http_[{std::string(route), status}];
  } catch (...) {
  }
}

std::vector<std::pair<std::string, int>> metrics::failing_mailboxes(int threshold) const {
  std::vector<std::pair<std::string, int>> out;
  const std::lock_guard lock(mutex_);
  for (const auto& [name, m] : mailboxes_) {
    if (m.consecutive_failures >= threshold) out.emplace_back(name, m.consecutive_failures);
  }
  return out;
}

std::string metrics::render() const {
  std::string out;
  auto line = [&](std::string_view name, std::string_view labels, double v) {
    fmt::format_to(std::back_inserter(out), "{}{}{}{} {}\n", name, labels.empty() ? "" : "{",
                   labels, labels.empty() ? "" : "}", number(v));
  };
  const std::lock_guard lock(mutex_);

  header(out, "tlsrpt_collector_build_info", "gauge", "The running version (always 1).");
  line("tlsrpt_collector_build_info", fmt::format("version=\"{}\"", escape_label(version_)), 1);

  header(out, "tlsrpt_collector_passes_total", "counter",
         "Passes over a mailbox, by mailbox and result (ok, failed).");
  for (const auto& [name, m] : mailboxes_) {
    const std::string mb = escape_label(name);
    line("tlsrpt_collector_passes_total", fmt::format("mailbox=\"{}\",result=\"ok\"", mb),
         static_cast<double>(m.ok));
    line("tlsrpt_collector_passes_total", fmt::format("mailbox=\"{}\",result=\"failed\"", mb),
         static_cast<double>(m.failed));
  }

  header(out, "tlsrpt_collector_pass_duration_seconds", "histogram",
         "How long a pass over a mailbox took.");
  for (const auto& [name, m] : mailboxes_) {
    const std::string mb = escape_label(name);
    for (std::size_t i = 0; i < duration_bounds.size(); ++i) {
      line("tlsrpt_collector_pass_duration_seconds_bucket",
           fmt::format("mailbox=\"{}\",le=\"{}\"", mb, number(duration_bounds[i])),
           static_cast<double>(m.duration_buckets[i]));
    }
    line("tlsrpt_collector_pass_duration_seconds_bucket",
         fmt::format("mailbox=\"{}\",le=\"+Inf\"", mb), static_cast<double>(m.duration_count));
    line("tlsrpt_collector_pass_duration_seconds_sum", fmt::format("mailbox=\"{}\"", mb),
         m.duration_sum);
    line("tlsrpt_collector_pass_duration_seconds_count", fmt::format("mailbox=\"{}\"", mb),
         static_cast<double>(m.duration_count));
  }

  header(out, "tlsrpt_collector_last_successful_pass_timestamp_seconds", "gauge",
         "When the last pass over a mailbox succeeded (unix time; 0: never).");
  for (const auto& [name, m] : mailboxes_) {
    line("tlsrpt_collector_last_successful_pass_timestamp_seconds",
         fmt::format("mailbox=\"{}\"", escape_label(name)), m.last_success);
  }

  header(out, "tlsrpt_collector_consecutive_failed_passes", "gauge",
         "Passes over a mailbox that failed in a row (0 after a good one).");
  for (const auto& [name, m] : mailboxes_) {
    line("tlsrpt_collector_consecutive_failed_passes",
         fmt::format("mailbox=\"{}\"", escape_label(name)),
         static_cast<double>(m.consecutive_failures));
  }

  header(out, "tlsrpt_collector_backlog_messages", "gauge",
         "Messages the last successful search of a mailbox found still to handle.");
  for (const auto& [name, m] : mailboxes_) {
    line("tlsrpt_collector_backlog_messages", fmt::format("mailbox=\"{}\"", escape_label(name)),
         static_cast<double>(m.backlog));
  }

  header(out, "tlsrpt_collector_messages_total", "counter",
         "Messages whose outcome committed, by source (mailbox name, https, file, stdin) and "
         "outcome.");
  for (const auto& [k, v] : messages_) {
    line("tlsrpt_collector_messages_total",
         fmt::format("source=\"{}\",outcome=\"{}\"", escape_label(k.first), k.second),
         static_cast<double>(v));
  }

  header(out, "tlsrpt_collector_reports_stored_total", "counter",
         "Reports newly stored, by source.");
  for (const auto& [k, v] : reports_) {
    line("tlsrpt_collector_reports_stored_total", fmt::format("source=\"{}\"", escape_label(k)),
         static_cast<double>(v));
  }

  header(out, "tlsrpt_collector_database_errors_total", "counter",
         "Failures of the database as a whole, by kind (unavailable: connection lost or "
         "refused; error: a statement failed).");
  for (const char* kind : {"unavailable", "error"}) {
    const auto it = db_errors_.find(kind);
    line("tlsrpt_collector_database_errors_total", fmt::format("kind=\"{}\"", kind),
         it == db_errors_.end() ? 0.0 : static_cast<double>(it->second));
  }

  header(out, "tlsrpt_collector_http_requests_total", "counter",
         "HTTP requests answered, by route and status code.");
  for (const auto& [k, v] : http_) {
    line("tlsrpt_collector_http_requests_total",
         fmt::format("path=\"{}\",code=\"{}\"", escape_label(k.first), k.second),
         static_cast<double>(v));
  }
  return out;
}

void add_metrics_endpoint(server& s, const metrics& m, std::string path) {
  s.get(std::move(path), [&m](const request&) {
    response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = m.render();
    return r;
  });
}

}  // namespace tlsrpt::http
