// SPDX-License-Identifier: Apache-2.0
// One message: extraction, parsing, and the mapping of their outcomes onto what the store
// records. The only part of the collector that needs the MIME and report libraries.
#include <spdlog/spdlog.h>

#include <exception>
#include <string>
#include <utility>

#include "tlsrpt/collector/collector.hpp"
#include "tlsrpt/collector/detail.hpp"
#include "tlsrpt/logging/log.hpp"
#include "tlsrpt/text/escape.hpp"

namespace tlsrpt::collector {

namespace {

// RFC 8460 §5.3: TLS-Report-Submitter names the reporting organisation's domain; senders that
// leave it out are known by the domain of their From address.
std::optional<std::string> submitter_of(const mime::envelope& env) {
  if (env.tls_report_submitter && !env.tls_report_submitter->empty()) {
    return env.tls_report_submitter;
  }
  if (env.from) {
    const auto at = env.from->rfind('@');
    if (at != std::string::npos && at + 1 < env.from->size()) return env.from->substr(at + 1);
  }
  return std::nullopt;
}

store::message_input from_extraction(std::string_view raw, store::message_key key,
                                     mime::extraction ex, const processing_limits& limits) {
  store::message_input in;
  if (key.sha256.empty()) key.sha256 = mime::sha256_hex(raw);
  in.facts.key = std::move(key);
  in.facts.message_id = ex.env.message_id;
  in.facts.from = ex.env.from;
  in.facts.subject = ex.env.subject;
  in.facts.submitter = submitter_of(ex.env);
  in.facts.date = ex.env.date;
  in.facts.size = raw.size();

  switch (ex.kind) {
    case mime::outcome::not_a_report:
      in.kind = store::outcome::not_a_report;
      in.error = ex.reason;
      return in;
    case mime::outcome::broken_report:
      in.kind = store::outcome::rejected;
      in.error = ex.reason.starts_with("mime:") ? ex.reason : "mime: " + ex.reason;
      return in;
    case mime::outcome::reports_found:
      break;
  }

  in.kind = store::outcome::stored;
  const std::size_t n = ex.reports.size();
  for (std::size_t i = 0; i < n; ++i) {
    mime::found_report& part = ex.reports[i];
    try {
      report::report parsed = report::parse(part.json, limits.report);
      in.reports.push_back(store::report_input{std::move(parsed), std::move(part.json)});
    } catch (const report::parse_error& e) {
      // One bad report rejects the whole message (see collector.hpp for why).
      in.kind = store::outcome::rejected;
      in.reports.clear();
      in.error =
          n == 1 ? std::string(e.what()) : fmt::format("report {} of {}: {}", i + 1, n, e.what());
      return in;
    }
  }
  return in;
}

}  // namespace

store::message_input process_message(std::string_view raw, store::message_key key,
                                     const processing_limits& limits) {
  return from_extraction(raw, std::move(key), mime::extract(raw, limits.mime), limits);
}

store::message_input process_any(std::string_view raw, store::message_key key,
                                 const processing_limits& limits) {
  return from_extraction(raw, std::move(key), mime::extract_any(raw, limits.mime), limits);
}

message_pipeline default_pipeline() {
  message_pipeline p;
  p.digest = [](std::string_view raw) { return mime::sha256_hex(raw); };
  p.process = [](std::string_view raw, const store::message_key& key,
                 const processing_limits& limits) { return process_message(raw, key, limits); };
  return p;
}

namespace detail {

ingest_result finish_ingest(const store::message_input& in, const store::message_result& r,
                            spdlog::logger& log, observer* events) {
  ingest_result out;
  for (const auto& rep : in.reports) out.report_names.push_back(rep.parsed.report_id);
  out.result = r.result;
  out.report_ids = r.report_ids;
  out.error = !r.detail.empty() ? r.detail : in.error;
  const std::string_view outcome = outcome_name(out.result);
  logging::event ev("message");
  ev.str("source", in.facts.key.source)
      .str("file", in.facts.key.folder)
      .str("outcome", outcome)
      .str("message_id", in.facts.message_id.value_or(""))
      .list("report_id", out.report_names);
  if (!out.error.empty()) ev.str("error", out.error);
  // Every sender-controlled value escaped (issue 15): a newline in a report-id cannot forge a
  // line.
  std::string names;
  for (const auto& n : out.report_names) names += (names.empty() ? "" : ",") + logging::value(n);
  logging::emit(
      log, out.result == store::outcome::rejected ? logging::level::warn : logging::level::info, ev,
      fmt::format(
          "{} {} outcome={} message-id={} report-id={}{}{}", in.facts.key.source,
          logging::value(in.facts.key.folder), outcome,
          logging::value(in.facts.message_id.value_or("")), names.empty() ? "-" : names,
          out.error.empty() ? "" : " error=", out.error.empty() ? "" : text::escape_c(out.error)));
  if (events != nullptr) {
    events->on_message({in.facts.key.source, out.result,
                        out.result == store::outcome::stored ? out.report_ids.size() : 0});
  }
  return out;
}

}  // namespace detail

ingest_result ingest_message(std::string_view raw, store::message_key key,
                             store::report_store& store, const processing_limits& limits,
                             const std::shared_ptr<spdlog::logger>& log, observer* events) {
  const auto lg = detail::logger_or_default(log);
  const store::message_input in = process_any(raw, std::move(key), limits);
  std::vector<store::message_result> results;
  try {
    results = store.write({&in, 1});
  } catch (const store::error& e) {
    if (events != nullptr) events->on_store_error({store_error_kind(e), e.sqlstate()});
    throw;
  }
  if (results.size() != 1) {
    throw store::error(
        fmt::format("store: write returned {} results for 1 message", results.size()), "", false);
  }
  return detail::finish_ingest(in, results[0], *lg, events);
}

// The overloads with the real pipeline live here, next to it, so that the pass and the daemon
// (poll.cpp, daemon.cpp) can be linked into tests without the MIME and report libraries.
pass_stats poll_mailbox(imap::mailbox& mb, store::report_store& store, const mailbox_options& opts,
                        const std::atomic<bool>& stop, const std::shared_ptr<spdlog::logger>& log,
                        mailbox_state* state) {
  return poll_mailbox(mb, store, opts, stop, default_pipeline(), log, state);
}

poll_summary poll_once(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
                       const open_store_fn& open_store, const std::atomic<bool>& stop,
                       const std::shared_ptr<spdlog::logger>& log) {
  return poll_once(jobs, connect, open_store, stop, default_pipeline(), log);
}

int run_daemon(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
               const open_store_fn& open_store, const daemon_options& opts,
               const std::atomic<bool>& stop, const std::shared_ptr<spdlog::logger>& log) {
  return run_daemon(jobs, connect, open_store, opts, stop, default_pipeline(), log);
}

}  // namespace tlsrpt::collector
