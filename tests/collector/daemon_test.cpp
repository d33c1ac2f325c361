// SPDX-License-Identifier: Apache-2.0
// Every mailbox: the one-shot pass (`poll`) and the daemon loop (`run`), with fakes.
#include <doctest/doctest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "collector/fakes.hpp"

using namespace tlsrpt;
using namespace std::chrono_literals;
using tlsrpt::test::event_log;
using tlsrpt::test::fake_mailbox;
using tlsrpt::test::fake_store;

namespace {

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("collector-daemon-test",
                                          std::make_shared<spdlog::sinks::null_sink_mt>());
}

collector::mailbox_job job(const std::string& name, std::size_t index) {
  collector::mailbox_job j;
  j.options.name = name;
  j.config_index = index;
  return j;
}

// A fake mailbox that forwards to a long-lived one, so the daemon's "connection per pass"
// (a unique_ptr it destroys after each pass) keeps the mailbox contents between passes.
class mailbox_view : public imap::mailbox {
 public:
  explicit mailbox_view(imap::mailbox& real) : real_(real) {}
  imap::folder_state select(const std::string& f) override { return real_.select(f); }
  std::vector<imap::message_ref> search(const std::vector<std::string>& k) override {
    return real_.search(k);
  }
  std::string fetch(std::uint32_t uid) override { return real_.fetch(uid); }
  void add_flags(std::span<const std::uint32_t> u, const std::vector<std::string>& f) override {
    real_.add_flags(u, f);
  }
  void remove_flags(std::span<const std::uint32_t> u, const std::vector<std::string>& f) override {
    real_.remove_flags(u, f);
  }
  void move(std::span<const std::uint32_t> u, const std::string& t) override { real_.move(u, t); }

 private:
  imap::mailbox& real_;
};

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

 private:
  store::report_store& real_;
};

}  // namespace

TEST_CASE("backoff doubles per failure and stops at the bound") {
  collector::daemon_options o;
  o.initial_backoff = 10s;
  o.max_backoff = 60s;
  CHECK(collector::backoff_delay(o, 1) == 10s);
  CHECK(collector::backoff_delay(o, 2) == 20s);
  CHECK(collector::backoff_delay(o, 3) == 40s);
  CHECK(collector::backoff_delay(o, 4) == 60s);
  CHECK(collector::backoff_delay(o, 1000) == 60s);
}

TEST_CASE("poll_once goes on past a failing mailbox and reports it") {
  event_log log;
  fake_mailbox good(log);
  fake_store st(log);
  good.add("REPORT r1");
  std::atomic<bool> stop{false};
  const std::vector<collector::mailbox_job> jobs{job("broken", 0), job("good", 1)};
  const auto sum = collector::poll_once(
      jobs,
      [&](const collector::mailbox_job& j) -> std::unique_ptr<imap::mailbox> {
        if (j.config_index == 0) {
          throw imap::error("imap: cannot log in to imap.example.net: Login denied (67)", 67,
                            false);
        }
        return std::make_unique<mailbox_view>(good);
      },
      [&] { return std::make_unique<store_view>(st); }, stop, test::fake_pipeline(), quiet());
  CHECK(sum.failed == 1);
  REQUIRE(sum.mailboxes.size() == 2);
  CHECK(sum.mailboxes[0].name == "broken");
  REQUIRE(sum.mailboxes[0].error.has_value());
  CHECK(sum.mailboxes[0].error->find("Login denied") != std::string::npos);
  CHECK_FALSE(sum.mailboxes[0].transient);
  CHECK_FALSE(sum.mailboxes[1].error.has_value());
  CHECK(sum.total.stored == 1);
}

TEST_CASE("poll_once reopens the store after it failed") {
  event_log log;
  fake_mailbox mb(log);
  fake_store st(log);
  mb.add("REPORT r1");
  std::atomic<bool> stop{false};
  int opened = 0;
  const std::vector<collector::mailbox_job> jobs{job("a", 0), job("b", 1)};
  const auto sum = collector::poll_once(
      jobs, [&](const collector::mailbox_job&) { return std::make_unique<mailbox_view>(mb); },
      [&]() -> std::unique_ptr<store::report_store> {
        ++opened;
        st.fail_writes = opened == 1;  // the first connection dies at its first write
        return std::make_unique<store_view>(st);
      },
      stop, test::fake_pipeline(), quiet());
  CHECK(opened == 2);
  REQUIRE(sum.mailboxes.size() == 2);
  CHECK(sum.mailboxes[0].store_failure);
  CHECK(sum.mailboxes[0].transient);
  CHECK_FALSE(sum.mailboxes[1].error.has_value());
  CHECK(sum.failed == 1);
  CHECK(sum.total.stored == 1);
}

TEST_CASE("poll_once with an unreachable database fails every mailbox, transiently") {
  event_log log;
  fake_mailbox mb(log);
  std::atomic<bool> stop{false};
  const std::vector<collector::mailbox_job> jobs{job("a", 0), job("b", 1)};
  const auto sum = collector::poll_once(
      jobs, [&](const collector::mailbox_job&) { return std::make_unique<mailbox_view>(mb); },
      []() -> std::unique_ptr<store::report_store> {
        throw store::error("store: cannot connect to database: connection refused", "08001", true);
      },
      stop, test::fake_pipeline(), quiet());
  CHECK(sum.failed == 2);
  for (const auto& m : sum.mailboxes) {
    CHECK(m.transient);
    CHECK(m.store_failure);
  }
  CHECK(log.with("select").empty());
}

TEST_CASE("the daemon keeps polling a healthy mailbox, backs off a failing one, stops promptly") {
  event_log log;
  fake_mailbox healthy(log);
  fake_store st(log);
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> failing_tries;
  int healthy_passes = 0;
  std::atomic<bool> stop{false};

  collector::daemon_options o;
  o.interval = 20ms;
  o.jitter = 0ms;
  o.initial_backoff = 100ms;
  o.max_backoff = 400ms;
  o.stop_check = 5ms;
  const std::vector<collector::mailbox_job> jobs{job("failing", 0), job("healthy", 1)};
  auto connect = [&](const collector::mailbox_job& j) -> std::unique_ptr<imap::mailbox> {
    std::lock_guard lock(mu);
    if (j.config_index == 0) {
      failing_tries.push_back(std::chrono::steady_clock::now());
      throw imap::error("imap: cannot connect to imap.example.net: Connection refused (7)", 7,
                        true);
    }
    ++healthy_passes;
    if (healthy_passes == 3) healthy.add("REPORT late");  // mail arriving while it runs
    return std::make_unique<mailbox_view>(healthy);
  };

  int rc = -1;
  std::thread daemon([&] {
    rc = collector::run_daemon(
        jobs, connect, [&] { return std::make_unique<store_view>(st); }, o, stop,
        test::fake_pipeline(), quiet());
  });
  std::this_thread::sleep_for(1200ms);
  const auto stop_at = std::chrono::steady_clock::now();
  stop = true;
  daemon.join();
  const auto stop_took = std::chrono::steady_clock::now() - stop_at;

  CHECK(rc == 0);
  // Stop is checked every 5 ms, also during a backoff; a sleep that ignored it would take
  // the whole interval. The bound is loose on purpose: machines here are shared and noisy.
  CHECK(stop_took < 5s);
  std::lock_guard lock(mu);
  // 1.2 s at one pass per ~20 ms: many passes, whatever the other mailbox does.
  CHECK(healthy_passes >= 10);
  CHECK(st.reports.count("late") == 1);
  // Tries at about 0, 0.1, 0.3, 0.7, 1.1 s: far fewer than the healthy mailbox's passes.
  CHECK(failing_tries.size() >= 3);
  CHECK(failing_tries.size() <= 6);
  REQUIRE(failing_tries.size() >= 3);
  const auto gap1 = failing_tries[1] - failing_tries[0];
  const auto gap2 = failing_tries[2] - failing_tries[1];
  CHECK(gap1 >= 100ms);
  CHECK(gap2 >= 200ms);
  if (failing_tries.size() >= 5) CHECK(failing_tries[4] - failing_tries[3] >= 400ms);
}

TEST_CASE("the daemon stops mid-pass after the message in hand, acknowledging it") {
  event_log log;
  fake_mailbox mb(log);
  fake_store st(log);
  for (int i = 0; i < 10; ++i) mb.add("REPORT r" + std::to_string(i));
  std::atomic<bool> stop{false};
  mb.on_fetch = [&](std::uint32_t uid) {
    if (uid == 4) stop = true;  // SIGTERM while message 4 is in hand
  };
  collector::daemon_options o;
  o.interval = 1h;  // a pass that did not stop would sleep for an hour before returning
  o.stop_check = 5ms;
  const auto started = std::chrono::steady_clock::now();
  const int rc = collector::run_daemon(
      {job("a", 0)},
      [&](const collector::mailbox_job&) { return std::make_unique<mailbox_view>(mb); },
      [&] { return std::make_unique<store_view>(st); }, o, stop, test::fake_pipeline(), quiet());
  CHECK(rc == 0);
  CHECK(std::chrono::steady_clock::now() - started < 60s);
  CHECK(st.reports.size() == 4);
  CHECK(log.with("add_flags") ==
        std::vector<std::string>{"add_flags 1,2,3,4 $TLSRPTProcessed \\Seen"});
  CHECK(mb.at(5).flags.empty());
}

TEST_CASE("the daemon reconnects the store after a transient store failure") {
  event_log log;
  fake_mailbox mb(log);
  fake_store st(log);
  mb.add("REPORT r1");
  std::atomic<bool> stop{false};
  int opened = 0;
  collector::daemon_options o;
  o.interval = 10ms;
  o.jitter = 0ms;
  o.initial_backoff = 10ms;
  o.stop_check = 2ms;
  std::thread daemon([&] {
    collector::run_daemon(
        {job("a", 0)},
        [&](const collector::mailbox_job&) { return std::make_unique<mailbox_view>(mb); },
        [&]() -> std::unique_ptr<store::report_store> {
          ++opened;
          st.fail_writes = opened == 1;
          return std::make_unique<store_view>(st);
        },
        o, stop, test::fake_pipeline(), quiet());
  });
  // Fail once, back off 10 ms, reconnect, succeed: well inside the time given.
  std::this_thread::sleep_for(300ms);
  stop = true;
  daemon.join();
  CHECK(opened == 2);
  CHECK(st.reports.count("r1") == 1);
}
