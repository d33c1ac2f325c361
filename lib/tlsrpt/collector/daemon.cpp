// SPDX-License-Identifier: Apache-2.0
// Every mailbox, once (`poll`) or forever (`run`). One mailbox failing never stops the others;
// each failing mailbox backs off on its own.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <random>
#include <thread>
#include <utility>

#include "tlsrpt/collector/collector.hpp"
#include "tlsrpt/collector/detail.hpp"

namespace tlsrpt::collector {

namespace {

using clock_type = std::chrono::steady_clock;

// One pass over one configured mailbox, with its own connection. The store is shared across
// mailboxes and dropped after any failure of its own, so the next pass reconnects.
mailbox_result poll_one(const mailbox_job& job, const connect_fn& connect,
                        const open_store_fn& open_store,
                        std::unique_ptr<store::report_store>& store, const std::atomic<bool>& stop,
                        const message_pipeline& pipeline,
                        const std::shared_ptr<spdlog::logger>& log, mailbox_state* state) {
  mailbox_result r;
  r.name = job.options.name;
  // poll_mailbox logs its own failures; only what fails before it starts is logged here.
  bool started = false;
  try {
    if (!store) store = open_store();
    std::unique_ptr<imap::mailbox> mb = connect(job);
    started = true;
    r.stats = poll_mailbox(*mb, *store, job.options, stop, pipeline, log, state);
  } catch (const store::error& e) {
    r.error = e.what();
    r.transient = e.transient();
    r.store_failure = true;
    store.reset();
    if (pipeline.events != nullptr) {
      pipeline.events->on_store_error({store_error_kind(e), e.sqlstate()});
    }
  } catch (const imap::error& e) {
    r.error = e.what();
    r.transient = e.transient();
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  if (r.error && !started) {
    log->error("mailbox {}: pass failed before it began: {}", r.name, *r.error);
  }
  if (pipeline.events != nullptr) {
    pass_event e{r.name, &r.stats, std::nullopt, r.stats.duration};
    if (r.error) e.error = *r.error;
    pipeline.events->on_pass(e);
  }
  return r;
}

}  // namespace

std::chrono::milliseconds backoff_delay(const daemon_options& opts, int failures) {
  std::chrono::milliseconds d = std::max(opts.initial_backoff, std::chrono::milliseconds(1));
  for (int i = 1; i < failures && d < opts.max_backoff; ++i) d *= 2;
  return std::min(d, opts.max_backoff);
}

poll_summary poll_once(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
                       const open_store_fn& open_store, const std::atomic<bool>& stop,
                       const message_pipeline& pipeline,
                       const std::shared_ptr<spdlog::logger>& log) {
  const auto lg = detail::logger_or_default(log);
  poll_summary sum;
  std::unique_ptr<store::report_store> store;
  for (const mailbox_job& job : jobs) {
    if (stop.load()) {
      sum.stopped = true;
      break;
    }
    mailbox_result r = poll_one(job, connect, open_store, store, stop, pipeline, lg, nullptr);
    sum.total += r.stats;
    if (r.error) ++sum.failed;
    sum.mailboxes.push_back(std::move(r));
  }
  sum.stopped = sum.stopped || sum.total.stopped;
  return sum;
}

int run_daemon(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
               const open_store_fn& open_store, const daemon_options& opts,
               const std::atomic<bool>& stop, const message_pipeline& pipeline,
               const std::shared_ptr<spdlog::logger>& log) {
  const auto lg = detail::logger_or_default(log);
  if (opts.wait) return detail::run_watching(jobs, connect, open_store, opts, stop, pipeline, lg);
  struct slot {
    clock_type::time_point due;
    int failures = 0;
    mailbox_state state;
  };
  std::vector<slot> slots(jobs.size(), slot{clock_type::now(), 0, {}});
  // Jitter spreads collectors (and mailboxes on one server) that were started together.
  std::mt19937_64 rng(std::random_device{}());
  auto jitter = [&] {
    if (opts.jitter.count() <= 0) return std::chrono::milliseconds(0);
    std::uniform_int_distribution<std::chrono::milliseconds::rep> dist(0, opts.jitter.count());
    return std::chrono::milliseconds(dist(rng));
  };
  std::unique_ptr<store::report_store> store;
  lg->info("daemon: polling {} mailbox(es) every {} s", jobs.size(),
           std::chrono::duration_cast<std::chrono::seconds>(opts.interval).count());
  // SIGHUP: return between passes, so the caller can read the configuration again.
  const auto reloading = [&] { return opts.reload != nullptr && opts.reload->load(); };

  while (!stop.load() && !reloading()) {
    for (std::size_t i = 0; i < jobs.size() && !stop.load() && !reloading(); ++i) {
      slot& s = slots[i];
      if (clock_type::now() < s.due) continue;
      const mailbox_result r =
          poll_one(jobs[i], connect, open_store, store, stop, pipeline, lg, &s.state);
      std::chrono::milliseconds delay;
      if (r.error) {
        ++s.failures;
        delay = backoff_delay(opts, s.failures);
        lg->warn("mailbox {}: pass failed ({} in a row), next try in {} s: {}", r.name, s.failures,
                 std::chrono::duration_cast<std::chrono::seconds>(delay).count(), *r.error);
      } else {
        if (s.failures > 0) lg->info("mailbox {}: recovered", r.name);
        s.failures = 0;
        delay = opts.interval + jitter();
      }
      s.due = clock_type::now() + delay;
    }
    if (jobs.empty()) {
      lg->warn("daemon: no mailbox configured; waiting for a signal");
    }
    // Sleep until the next mailbox is due, looking at the stop flag often: a signal handler
    // can only set a flag (it may not notify a condition variable), so the wait is sliced.
    clock_type::time_point next = clock_type::now() + opts.interval;
    for (const slot& s : slots) next = std::min(next, s.due);
    const auto slice = std::max(opts.stop_check, std::chrono::milliseconds(1));
    while (!stop.load() && !reloading()) {
      const auto now = clock_type::now();
      if (now >= next) break;
      std::this_thread::sleep_for(std::min<clock_type::duration>(
          slice, std::chrono::duration_cast<clock_type::duration>(next - now)));
    }
  }
  if (!stop.load() && reloading()) return 0;  // the caller reloads and calls again
  lg->info("daemon: stopped");
  return 0;
}

}  // namespace tlsrpt::collector
