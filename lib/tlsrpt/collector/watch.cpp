// SPDX-License-Identifier: Apache-2.0
// The daemon with IDLE (issue 17, RFC 2177): each mailbox has a thread and one connection,
// kept from pass to pass and waited on in IDLE in between. New mail starts a pass at once; a
// full pass still runs every interval (IDLE notifications can be lost: a server restart, a
// proxy that drops idle connections); a server without IDLE is polled every interval.
//
// Several collectors may watch the same mailbox (for availability): the store's advisory
// lock lets one pass at a time through, and the others retry shortly after being locked out,
// since the holder's pass may have searched before the mail that woke them arrived.
//
// SIGHUP (daemon_options::reload): every watcher finishes the pass in hand, leaves IDLE (DONE)
// or its sleep, logs out, and run_watching returns, so that the caller reads its configuration
// again and calls it anew with the new mailboxes.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <random>
#include <thread>
#include <utility>

#include "tlsrpt/collector/collector.hpp"
#include "tlsrpt/collector/detail.hpp"

namespace tlsrpt::collector::detail {

namespace {

using clock_type = std::chrono::steady_clock;

class watcher {
 public:
  // `stop` ends a pass early (SIGTERM); `halt` (stop or reload) ends the waits between passes.
  watcher(const mailbox_job& job, const connect_fn& connect, const open_store_fn& open_store,
          const daemon_options& opts, const std::atomic<bool>& stop, const std::atomic<bool>& halt,
          const message_pipeline& pipeline, std::shared_ptr<spdlog::logger> log)
      : job_(job),
        connect_(connect),
        open_store_(open_store),
        opts_(opts),
        stop_(stop),
        halt_(halt),
        pipeline_(pipeline),
        log_(std::move(log)),
        rng_(std::random_device{}()) {}

  void run() noexcept {
    try {
      loop();
    } catch (const std::exception& e) {
      // A bug, not a server failure (those are caught per pass): say so, and stop this mailbox.
      log_->critical("mailbox {}: watcher stopped: {}", name(), e.what());
    }
    // The connection goes (LOGOUT) before the thread ends, while the store is still open.
    mb_.reset();
  }

 private:
  const std::string& name() const { return job_.options.name; }
  // `halt` follows `stop` only within a stop_check: both are looked at.
  bool halted() const { return stop_.load() || halt_.load(); }

  void loop() {
    clock_type::time_point due = clock_type::now();
    while (!halted()) {
      if (clock_type::now() >= due) due = pass();
      if (halted()) break;
      if (mb_ && idle_) {
        wait_in_idle(due);
      } else {
        sleep_until(due);
      }
    }
  }

  // One pass on the kept connection (opened when there is none). Returns when the next is due.
  clock_type::time_point pass() {
    mailbox_result r;
    bool started = false;
    try {
      if (!store_) store_ = open_store_();
      if (!mb_) mb_ = connect_(job_);
      started = true;
      r.stats = poll_mailbox(*mb_, *store_, job_.options, stop_, pipeline_, log_, &state_);
    } catch (const store::error& e) {
      r.error = e.what();
      store_.reset();
      if (pipeline_.events != nullptr) {
        pipeline_.events->on_store_error({store_error_kind(e), e.sqlstate()});
      }
    } catch (const std::exception& e) {
      r.error = e.what();
      mb_.reset();  // the connection is in an unknown state: a new one next time
    }
    if (r.error && !started)
      log_->error("mailbox {}: pass failed before it began: {}", name(), *r.error);
    if (pipeline_.events != nullptr) {
      pass_event ev{job_.options.name, &r.stats, std::nullopt, r.stats.duration};
      if (r.error) ev.error = *r.error;
      pipeline_.events->on_pass(ev);
    }
    const auto now = clock_type::now();
    if (r.error) {
      ++failures_;
      const auto delay = backoff_delay(opts_, failures_);
      log_->warn("mailbox {}: pass failed ({} in a row), next try in {} s: {}", name(), failures_,
                 std::chrono::duration_cast<std::chrono::seconds>(delay).count(), *r.error);
      return now + delay;
    }
    if (failures_ > 0) log_->info("mailbox {}: recovered", name());
    failures_ = 0;
    if (r.stats.locked_out) {
      // Another collector is in a pass over this folder now.
      auto delay = opts_.lock_retry;
      for (int i = 0; i < lockouts_ && delay < opts_.interval; ++i) delay *= 2;
      ++lockouts_;
      return now + std::min(delay, opts_.interval);
    }
    lockouts_ = 0;
    return now + opts_.interval + jitter();
  }

  void wait_in_idle(clock_type::time_point& due) {
    const auto until = std::min(due, clock_type::now() + opts_.idle_reissue);
    wake w = wake::timeout;
    try {
      w = opts_.wait(*mb_, until, halt_);
      idle_failures_ = 0;
    } catch (const std::exception& e) {
      // The connection went (server restart, a proxy's idle timeout): a pass reconnects and
      // finds what came meanwhile. A server that keeps failing IDLE is polled instead.
      mb_.reset();
      if (++idle_failures_ >= 3) {
        idle_ = false;
        log_->warn("mailbox {}: IDLE failed {} times in a row ({}); polling every {} s instead",
                   name(), idle_failures_, e.what(),
                   std::chrono::duration_cast<std::chrono::seconds>(opts_.interval).count());
      } else {
        log_->warn("mailbox {}: IDLE ended: {}; reconnecting", name(), e.what());
      }
      due = std::min(due, clock_type::now());
      return;
    }
    switch (w) {
      case wake::changed:
        log_->debug("mailbox {}: new mail announced in IDLE", name());
        due = clock_type::now();
        break;
      case wake::unsupported:
        idle_ = false;
        log_->info("mailbox {}: the server does not offer IDLE: polling every {} s", name(),
                   std::chrono::duration_cast<std::chrono::seconds>(opts_.interval).count());
        break;
      case wake::timeout:  // due, or time to re-issue IDLE: the loop decides
      case wake::stopped:
        break;
    }
  }

  void sleep_until(clock_type::time_point t) const {
    const auto slice = std::max(opts_.stop_check, std::chrono::milliseconds(1));
    while (!halted()) {
      const auto now = clock_type::now();
      if (now >= t) return;
      std::this_thread::sleep_for(std::min<clock_type::duration>(slice, t - now));
    }
  }

  std::chrono::milliseconds jitter() {
    if (opts_.jitter.count() <= 0) return std::chrono::milliseconds(0);
    std::uniform_int_distribution<std::chrono::milliseconds::rep> dist(0, opts_.jitter.count());
    return std::chrono::milliseconds(dist(rng_));
  }

  const mailbox_job& job_;
  const connect_fn& connect_;
  const open_store_fn& open_store_;
  const daemon_options& opts_;
  const std::atomic<bool>& stop_;
  const std::atomic<bool>& halt_;
  const message_pipeline& pipeline_;
  std::shared_ptr<spdlog::logger> log_;
  std::mt19937_64 rng_;
  std::unique_ptr<store::report_store> store_;  // one database connection per mailbox thread
  std::unique_ptr<imap::mailbox> mb_;
  mailbox_state state_;
  int failures_ = 0;
  int lockouts_ = 0;
  int idle_failures_ = 0;
  bool idle_ = true;
};

}  // namespace

int run_watching(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
                 const open_store_fn& open_store, const daemon_options& opts,
                 const std::atomic<bool>& stop, const message_pipeline& pipeline,
                 const std::shared_ptr<spdlog::logger>& log) {
  log->info("daemon: watching {} mailbox(es) with IDLE where offered, a full pass every {} s",
            jobs.size(), std::chrono::duration_cast<std::chrono::seconds>(opts.interval).count());
  if (jobs.empty()) log->warn("daemon: no mailbox configured; waiting for a signal");
  const auto reloading = [&] { return opts.reload != nullptr && opts.reload->load(); };
  // The signal handler can only set a flag; this thread turns stop or reload into `halt`.
  std::atomic<bool> halt{false};
  std::vector<watcher> watchers;
  watchers.reserve(jobs.size());
  for (const auto& j : jobs)
    watchers.emplace_back(j, connect, open_store, opts, stop, halt, pipeline, log);
  std::vector<std::thread> threads;
  threads.reserve(watchers.size());
  for (auto& w : watchers) threads.emplace_back([&w] { w.run(); });
  while (!stop.load() && !reloading())
    std::this_thread::sleep_for(std::max(opts.stop_check, std::chrono::milliseconds(1)));
  halt.store(true);
  for (auto& t : threads) t.join();
  if (!stop.load()) {
    log->info("daemon: every mailbox left its wait for the reload");
    return 0;  // the caller reloads and calls again
  }
  log->info("daemon: stopped");
  return 0;
}

}  // namespace tlsrpt::collector::detail
