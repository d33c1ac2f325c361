// SPDX-License-Identifier: Apache-2.0
// The daemon with IDLE (daemon_options::wait), with fakes: the wait function stands in for
// the server's IDLE and runs on the mailbox's thread, so it may change the fake mailbox.
#include <doctest/doctest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "collector/fakes.hpp"

using namespace tlsrpt;
using namespace std::chrono_literals;
using tlsrpt::test::event_log;
using tlsrpt::test::fake_mailbox;
using tlsrpt::test::fake_store;
using clock_type = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("collector-watch-test",
                                          std::make_shared<spdlog::sinks::null_sink_mt>());
}

class store_view : public store::report_store {
 public:
  explicit store_view(store::report_store& real) : real_(real) {}
  std::vector<std::uint32_t> done_uids(const std::string& s, const std::string& f, std::uint32_t v,
                                       std::span<const std::uint32_t> u) override {
    return real_.done_uids(s, f, v, u);
  }
  std::vector<done_message> done_messages(const std::string& s, const std::string& f,
                                          std::uint32_t v,
                                          std::span<const std::uint32_t> u) override {
    return real_.done_messages(s, f, v, u);
  }
  std::vector<store::message_result> write(std::span<const store::message_input> b) override {
    return real_.write(b);
  }
  int record_attempt(const store::message_key& k, const std::string& e) override {
    return real_.record_attempt(k, e);
  }
  bool try_lock_mailbox(const std::string& s, const std::string& f) override {
    return real_.try_lock_mailbox(s, f);
  }
  void unlock_mailbox(const std::string& s, const std::string& f) noexcept override {
    real_.unlock_mailbox(s, f);
  }

 private:
  store::report_store& real_;
};

collector::mailbox_job job(const std::string& name) {
  collector::mailbox_job j;
  j.options.name = name;
  return j;
}

// Runs the daemon until `stop` is set (by the wait function), at most `limit`.
int run(const std::vector<collector::mailbox_job>& jobs, const collector::connect_fn& connect,
        fake_store& st, const collector::daemon_options& o, std::atomic<bool>& stop,
        std::chrono::seconds limit = 20s) {
  int rc = -1;
  std::thread daemon([&] {
    rc = collector::run_daemon(
        jobs, connect, [&] { return std::make_unique<store_view>(st); }, o, stop,
        test::fake_pipeline(), quiet());
  });
  const auto end = clock_type::now() + limit;
  while (!stop.load() && clock_type::now() < end) std::this_thread::sleep_for(10ms);
  const bool timed_out = !stop.load();
  stop = true;
  daemon.join();
  CHECK_FALSE_MESSAGE(timed_out, "the daemon did not get where the test expected");
  return rc;
}

collector::daemon_options options() {
  collector::daemon_options o;
  o.interval = 1h;
  o.jitter = 0ms;
  o.initial_backoff = 10ms;
  o.stop_check = 5ms;
  o.lock_retry = 20ms;
  return o;
}

}  // namespace

TEST_CASE("with IDLE, new mail starts a pass at once on the same connection") {
  event_log log;
  fake_store st(log);
  std::atomic<bool> stop{false};
  int connects = 0;
  auto connect = [&](const collector::mailbox_job&) -> std::unique_ptr<imap::mailbox> {
    ++connects;
    auto mb = std::make_unique<fake_mailbox>(log);
    mb->add("REPORT first");
    return mb;
  };
  std::vector<clock_type::duration> waits;
  auto o = options();
  o.wait = [&](imap::mailbox& mb, clock_type::time_point until, const std::atomic<bool>&) {
    waits.push_back(until - clock_type::now());
    if (waits.size() == 1) {
      dynamic_cast<fake_mailbox&>(mb).add("REPORT second");  // delivered while idling
      return collector::wake::changed;
    }
    stop = true;
    return collector::wake::stopped;
  };
  CHECK(run({job("m")}, connect, st, o, stop) == 0);
  CHECK(connects == 1);  // one connection for both passes and the IDLE between them
  CHECK(log.with("select").size() == 2);
  CHECK(st.reports.count("first") == 1);
  CHECK(st.reports.count("second") == 1);
  REQUIRE(waits.size() == 2);
  // The interval is an hour: IDLE is re-issued after 29 minutes (RFC 2177 §3), not held longer.
  for (const auto w : waits) {
    CHECK(w <= 29min);
    CHECK(w > 28min);
  }
}

TEST_CASE("with IDLE, a full pass still runs every interval") {
  event_log log;
  fake_store st(log);
  std::atomic<bool> stop{false};
  auto connect = [&](const collector::mailbox_job&) -> std::unique_ptr<imap::mailbox> {
    return std::make_unique<fake_mailbox>(log);
  };
  auto o = options();
  o.interval = 30ms;
  int waits = 0;
  o.wait = [&](imap::mailbox&, clock_type::time_point until, const std::atomic<bool>& s) {
    // A quiet mailbox: nothing announced until the deadline.
    while (clock_type::now() < until && !s.load()) std::this_thread::sleep_for(1ms);
    if (++waits == 4) stop = true;
    return collector::wake::timeout;
  };
  CHECK(run({job("m")}, connect, st, o, stop) == 0);
  CHECK(log.with("select").size() >= 4);  // a pass after each wait that reached the interval
}

TEST_CASE("a server without IDLE is polled every interval, asked about IDLE once") {
  event_log log;
  fake_store st(log);
  std::atomic<bool> stop{false};
  int connects = 0;
  auto connect = [&](const collector::mailbox_job&) -> std::unique_ptr<imap::mailbox> {
    ++connects;
    return std::make_unique<fake_mailbox>(log);
  };
  auto o = options();
  o.interval = 10ms;
  int waits = 0;
  o.wait = [&](imap::mailbox&, clock_type::time_point, const std::atomic<bool>&) {
    ++waits;
    return collector::wake::unsupported;
  };
  std::thread stopper([&] {
    const auto end = clock_type::now() + 20s;
    while (log.with("select").size() < 5 && clock_type::now() < end)
      std::this_thread::sleep_for(5ms);
    stop = true;
  });
  CHECK(run({job("m")}, connect, st, o, stop) == 0);
  stopper.join();
  CHECK(waits == 1);
  CHECK(log.with("select").size() >= 5);
  CHECK(connects == 1);  // the connection is kept between polls too
}

TEST_CASE("a connection lost in IDLE is opened again by a pass at once") {
  event_log log;
  fake_store st(log);
  std::atomic<bool> stop{false};
  int connects = 0;
  auto connect = [&](const collector::mailbox_job&) -> std::unique_ptr<imap::mailbox> {
    auto mb = std::make_unique<fake_mailbox>(log);
    mb->add("REPORT r" + std::to_string(++connects));
    mb->uidvalidity = 1000U + static_cast<std::uint32_t>(connects);  // UID 1 is new each time
    return mb;
  };
  auto o = options();
  int waits = 0;
  o.wait = [&](imap::mailbox&, clock_type::time_point,
               const std::atomic<bool>&) -> collector::wake {
    if (++waits == 1)
      throw imap::error("imap: cannot read the IDLE answer: Connection reset", 56, true);
    stop = true;
    return collector::wake::stopped;
  };
  CHECK(run({job("m")}, connect, st, o, stop) == 0);
  CHECK(connects == 2);
  CHECK(st.reports.count("r1") == 1);
  CHECK(st.reports.count("r2") == 1);
}

TEST_CASE("woken while another collector holds the mailbox, the pass is tried again shortly") {
  event_log log;
  fake_store st(log);
  std::atomic<bool> stop{false};
  fake_mailbox* current = nullptr;
  auto connect = [&](const collector::mailbox_job&) -> std::unique_ptr<imap::mailbox> {
    auto mb = std::make_unique<fake_mailbox>(log);
    current = mb.get();
    return mb;
  };
  auto o = options();
  int waits = 0;
  o.wait = [&](imap::mailbox&, clock_type::time_point until,
               const std::atomic<bool>& s) -> collector::wake {
    ++waits;
    if (waits == 1) {
      // Mail comes while the other collector is in a pass that searched before it came.
      current->add("REPORT late");
      st.held_elsewhere = true;
      return collector::wake::changed;
    }
    if (waits == 2) {
      // Locked out: no IDLE event will come for that mail any more, yet the retry is near.
      CHECK(until - clock_type::now() <= 1s);
      st.held_elsewhere = false;
      while (clock_type::now() < until && !s.load()) std::this_thread::sleep_for(1ms);
      return collector::wake::timeout;
    }
    stop = true;
    return collector::wake::stopped;
  };
  CHECK(run({job("m")}, connect, st, o, stop) == 0);
  CHECK(st.reports.count("late") == 1);
}

TEST_CASE("each mailbox is watched on its own connection, and the stop flag ends every wait") {
  event_log log;
  fake_store st(log);
  std::atomic<bool> stop{false};
  std::atomic<int> connects{0};
  auto connect = [&](const collector::mailbox_job&) -> std::unique_ptr<imap::mailbox> {
    ++connects;
    return std::make_unique<fake_mailbox>(log);
  };
  auto o = options();
  std::atomic<int> idling{0};
  o.wait = [&](imap::mailbox&, clock_type::time_point, const std::atomic<bool>& s) {
    ++idling;
    while (!s.load()) std::this_thread::sleep_for(1ms);
    return collector::wake::stopped;
  };
  std::thread stopper([&] {
    const auto end = clock_type::now() + 20s;
    while (idling.load() < 2 && clock_type::now() < end) std::this_thread::sleep_for(5ms);
    stop = true;
  });
  CHECK(run({job("a"), job("b")}, connect, st, o, stop) == 0);
  stopper.join();
  CHECK(idling.load() == 2);
  CHECK(connects.load() == 2);
}
