// SPDX-License-Identifier: Apache-2.0
// `poll` (one pass over every mailbox) and `run` (the daemon).
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

#include "../app.hpp"
#include "alerting.hpp"
#include "http_side.hpp"
#include "mailboxes.hpp"
#include "tlsrpt/service/notify.hpp"
#if TLSRPT_HAVE_COLLECTOR && TLSRPT_HAVE_STORE && TLSRPT_HAVE_IMAP
#include "tlsrpt/imap/idle.hpp"
#include "tlsrpt/store/monitor_store.hpp"
#include "tlsrpt/store/pg_store.hpp"
#define TLSRPT_HAVE_PIPELINE 1
#endif

namespace tlsrpt::app {

#if TLSRPT_HAVE_PIPELINE
namespace {

struct wiring {
  std::vector<collector::mailbox_job> jobs;
  std::vector<imap::connection_options> connections;
  std::vector<std::shared_ptr<imap::token_source>> tokens;  // null: no oauth2
  collector::connect_fn connect;
  collector::open_store_fn open_store;
};

// Resolves every secret before the first pass, so a missing one is a configuration error at
// start (exit 78), not a failure found five minutes later. OAuth2 tokens are got now too: a
// provider refusing our client is a configuration error (78) at start; a provider out of
// reach fails the pass instead (`run` retries it; `poll` exits 75).
// `run` with an `http:` section may have no mailbox at all (a receiver-only deployment).
wiring wire(context& ctx, bool allow_no_mailbox = false) {
  const auto& c = ctx.cfg();
  if (c.mailboxes.empty() && !allow_no_mailbox)
    throw failure(exit_code::config,
                  "config: " + (c.file.empty() ? std::string("(no configuration file)") : c.file) +
                      ": no mailboxes configured: add one under `mailboxes:` "
                      "(see config.example.yaml)");
  for (const auto& warning : config::warnings(c)) ctx.log()->warn("{}", warning);
  wiring w;
  for (std::size_t i = 0; i < c.mailboxes.size(); ++i) {
    w.jobs.push_back(job_of(c.mailboxes[i], c.lim, i));
    w.connections.push_back(connection_of(c.mailboxes[i], c.file));
    // SIGTERM ends a command stuck on the server within a second (issue 15).
    w.connections.back().stop = &ctx.stop();
    w.tokens.push_back(token_source_of(c.mailboxes[i], c.file));
    if (w.tokens.back()) {
      try {
        (void)w.tokens.back()->token();
      } catch (const imap::oauth2_error& e) {
        if (e.configuration())
          throw failure(exit_code::config, c.mailboxes[i].name + ": " + e.what());
        ctx.log()->warn("mailbox {}: {}", c.mailboxes[i].name, e.what());
      }
    }
  }
  const std::string url = ctx.database_url();
  ctx.migrate_if_configured();
  w.connect = [conns = w.connections, tokens = w.tokens](
                  const collector::mailbox_job& j) -> std::unique_ptr<imap::mailbox> {
    // A token about to expire is renewed here, before the pass logs in.
    return open_mailbox(conns.at(j.config_index), tokens.at(j.config_index).get());
  };
  w.open_store = [url] { return std::make_unique<store::pg_store>(url); };
  return w;
}

// The outcome of each mailbox's pass, for the collector health rule (`check`), then the
// alerts (record, evaluate, notify). A database or channel that fails costs a warning, never
// the pass.
void after_pass(context& ctx, const collector::poll_summary& s) {
  std::vector<store::pass_record> passes;
  for (const auto& m : s.mailboxes) {
    if (m.stats.locked_out) continue;  // another collector's pass; it records its own
    passes.push_back({.mailbox = m.name, .ok = !m.error, .error = m.error.value_or("")});
  }
#if TLSRPT_HAVE_MONITOR
  std::vector<std::unique_ptr<monitor::channel>> channels;
  try {
    channels = monitor::channels_from(ctx.cfg().alerts, ctx.cfg().file);
  } catch (const std::exception& e) {
    ctx.log()->warn("alerts: {}", e.what());  // the state is kept; nothing is sent
  }
  alert_round(ctx, passes, channels);
#else
  try {
    store::pg_monitor(ctx.database_url()).record_passes(passes);
  } catch (const std::exception& e) {
    ctx.log()->warn("{}", e.what());
  }
#endif
}

}  // namespace
#endif

int cmd_poll(context& ctx) {
#if TLSRPT_HAVE_PIPELINE
  auto w = wire(ctx);
  auto log = ctx.log();
  const auto s = collector::poll_once(w.jobs, w.connect, w.open_store, ctx.stop(), log);
  after_pass(ctx, s);
  const auto& t = s.total;
  // Mail that is no report stays in the folder by default and is seen again on every pass, but
  // the ledger answers for it: it is not new.
  logging::event ev("poll");
  ev.num("duration_ms", static_cast<std::uint64_t>(t.duration.count()))
      .num("found", t.found)
      .num("stored", t.stored)
      .num("duplicate", t.duplicate)
      .num("conflict", t.conflict)
      .num("not_a_report", t.not_a_report)
      .num("rejected", t.rejected)
      .num("skipped", t.skipped)
      .num("deferred", t.deferred)
      .num("mailboxes", s.mailboxes.size())
      .num("failed_mailboxes", s.failed);
  if (t.found == t.already_done && s.failed == 0) {
    logging::emit(*log, logging::level::info, ev,
                  fmt::format("nothing new in {} mailbox(es)", s.mailboxes.size()));
  } else {
    logging::emit(
        *log, logging::level::info, ev,
        fmt::format("poll done in {} ms: {} found, {} stored, {} duplicate, {} conflict, {} "
                    "not_a_report, {} rejected, {} skipped, {} deferred; {} of {} mailbox(es) "
                    "failed",
                    t.duration.count(), t.found, t.stored, t.duplicate, t.conflict, t.not_a_report,
                    t.rejected, t.skipped, t.deferred, s.failed, s.mailboxes.size()));
  }
  if (s.failed == 0) return exit_code::ok;
  // Every mailbox failed for a reason that may pass: a timer retries; otherwise unavailable.
  bool all_transient = true;
  for (const auto& m : s.mailboxes)
    if (m.error && !m.transient) all_transient = false;
  return all_transient ? exit_code::temporary : exit_code::unavailable;
#else
  (void)ctx;
  throw failure(exit_code::unavailable,
                "poll: not available: this build lacks the collector, store or imap module");
#endif
}

#if TLSRPT_HAVE_PIPELINE
namespace {

collector::daemon_options daemon_options_of(const config::configuration& c,
                                            const std::atomic<bool>& reload) {
  collector::daemon_options o;
  o.interval = c.run.interval;
  o.jitter = c.run.jitter;
  o.max_backoff = c.run.max_backoff;
  if (o.initial_backoff > o.max_backoff) o.initial_backoff = o.max_backoff;
  if (c.run.idle) {
    o.wait = [check = o.stop_check](imap::mailbox& mb, std::chrono::steady_clock::time_point until,
                                    const std::atomic<bool>& stop) {
      auto* m = dynamic_cast<imap::curl_mailbox*>(&mb);
      if (m == nullptr) return collector::wake::unsupported;
      switch (imap::idle(*m, until, stop, check)) {
        case imap::idle_outcome::changed:
          return collector::wake::changed;
        case imap::idle_outcome::timeout:
          return collector::wake::timeout;
        case imap::idle_outcome::stopped:
          return collector::wake::stopped;
        case imap::idle_outcome::unsupported:
          break;
      }
      return collector::wake::unsupported;
    };
  }
  o.reload = &reload;
  return o;
}

#if TLSRPT_HAVE_HTTP
using web_side = std::unique_ptr<http_side>;
#else
struct web_side {};  // no HTTP module: `http:` is refused at start and at reload
#endif

// The HTTP side of the current configuration, started (none without `http:`). Throws when a
// port is taken (69) or a TLS file unreadable (78).
web_side start_web(context& ctx) {
#if TLSRPT_HAVE_HTTP
  return start_http_side(ctx);
#else
  if (ctx.cfg().http)
    throw failure(exit_code::unavailable,
                  "run: cannot serve http: this build lacks the http module");
  return {};
#endif
}

bool serving(const web_side& web) {
#if TLSRPT_HAVE_HTTP
  return web != nullptr;
#else
  (void)web;
  return false;
#endif
}

// SIGHUP: the file is read and wired again (secrets, tokens, migrations) between passes, and
// the HTTP side is started anew from it (listen addresses, TLS files, limits and the database
// may all have changed; it stops first, since the new one may want the same ports, so a
// reload costs HTTP clients a moment of refused connections and resets the /metrics counters).
// Anything wrong with the new file keeps the old configuration running, and the log says why.
void reload_config(context& ctx, wiring& w, web_side& web) {
  auto log = ctx.log();
  const auto& path = ctx.config_path();
  if (!path) {
    log->warn("SIGHUP: no configuration file to read again; keeping the built-in defaults");
    return;
  }
  const config::configuration old = ctx.cfg();
  wiring next;
  try {
    ctx.replace_config(config::load_file(*path));
    next = wire(ctx, ctx.cfg().http.has_value());
  } catch (const std::exception& e) {
    ctx.replace_config(old);
    log->error("SIGHUP: cannot use the new configuration, keeping the previous one: {}", e.what());
    return;
  }
  if (serving(web) || ctx.cfg().http) {
    web = {};
    try {
      web = start_web(ctx);
    } catch (const std::exception& e) {
      ctx.replace_config(old);
      log->error("SIGHUP: cannot use the new configuration, keeping the previous one: {}",
                 e.what());
      try {
        web = start_web(ctx);
      } catch (const std::exception& again) {
        log->critical("http: cannot serve again with the previous configuration either: {}",
                      again.what());
      }
      return;
    }
  }
  w = std::move(next);
  logging::emit(*log, logging::level::info,
                logging::event("reload")
                    .str("file", *path)
                    .num("mailboxes", w.jobs.size())
                    .num("http", serving(web) ? 1 : 0),
                "SIGHUP: configuration " + logging::value(*path) +
                    " read again: " + std::to_string(w.jobs.size()) + " mailbox(es)" +
                    (serving(web) ? ", HTTP side restarted" : ""));
}

}  // namespace
#endif

int cmd_run(context& ctx) {
#if TLSRPT_HAVE_PIPELINE
  // Before anything slow (OAuth2 tokens, migrations): a SIGHUP must never end the daemon.
  install_reload_handler();
  auto w = wire(ctx, ctx.cfg().http.has_value());
  auto pipeline = collector::default_pipeline();
  // Before the first pass, so that a port already taken fails the start (exit 69).
  web_side web = start_web(ctx);
  auto log = ctx.log();
  {
    const auto o = daemon_options_of(ctx.cfg(), ctx.reload());
    logging::emit(
        *log, logging::level::info,
        logging::event("start")
            .str("version", TLSRPT_VERSION)
            .num("mailboxes", w.jobs.size())
            .num("interval_ms", static_cast<std::uint64_t>(o.interval.count())),
        fmt::format("tlsrpt-collector {} started: {} mailbox(es), every {} (+ up to {} "
                    "jitter){}",
                    TLSRPT_VERSION, w.jobs.size(), config::format_duration(o.interval),
                    config::format_duration(o.jitter), o.wait ? ", IDLE where offered" : ""));
  }
  // Type=notify: systemd counts the unit as started once the configuration, the secrets and
  // the schema are in order (all checked by wire()), and the HTTP side listens.
  service::notify_ready("polling " + std::to_string(w.jobs.size()) + " mailbox(es)");
  int rc = 0;
  [[maybe_unused]] bool first = true;  // the first configuration, not one read on SIGHUP
  while (true) {
    const auto o = daemon_options_of(ctx.cfg(), ctx.reload());
#if TLSRPT_HAVE_HTTP
    pipeline.events = web ? web->metrics.get() : nullptr;
#endif
#if TLSRPT_HAVE_MONITOR
    // Alerts after every pass, on their own thread (a dead channel never delays a pass), and
    // every interval when no pass comes (retries; an HTTP-only deployment); built anew from
    // each configuration. The SMTP password is read now: one that cannot be is a configuration
    // error at start, and after a reload leaves that configuration without notifications.
    std::optional<alerting> alerts;
    try {
      alerts.emplace(ctx, monitor::channels_from(ctx.cfg().alerts, ctx.cfg().file),
                     ctx.cfg().run.interval, pipeline.events);
      pipeline.events = &*alerts;
    } catch (const std::exception& e) {
      if (first) throw;
      log->error("SIGHUP: no notifications with the new configuration: {}", e.what());
    }
    first = false;
#endif
    if (w.jobs.empty()) {
      log->info("no mailboxes configured: serving HTTP only");
      while (!ctx.stop().load() && !ctx.reload().load())
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } else {
      rc = collector::run_daemon(w.jobs, w.connect, w.open_store, o, ctx.stop(), pipeline, log);
    }
    if (ctx.stop().load() || !ctx.reload().exchange(false)) break;
    reload_config(ctx, w, web);
  }
  service::notify_stopping();
  logging::emit(*log, logging::level::info, logging::event("stop"), "stopped");
  return rc;
#else
  (void)ctx;
  throw failure(exit_code::unavailable,
                "run: not available: this build lacks the collector, store or imap module");
#endif
}

}  // namespace tlsrpt::app
