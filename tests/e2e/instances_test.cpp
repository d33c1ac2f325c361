// SPDX-License-Identifier: Apache-2.0
// Several collectors for availability (issue 17): three `run` instances over two mailboxes
// on one database. The store's advisory lock lets one instance at a time work a mailbox;
// kill -9 of the one working it hands the mailbox to another, and in the end every report
// is stored once and every message acknowledged, as after a single clean run.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <set>
#include <thread>

#include "e2e.hpp"
#include "support/support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tlsrpt::e2e;

namespace {

// Which instances (by application_name, PGAPPNAME) hold a mailbox lock now.
std::set<std::string> lock_holders(const std::string& url) {
  const std::string names =
      sql(url,
          "SELECT coalesce(string_agg(a.application_name, ' '), '') FROM pg_locks l "
          "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
          "AND a.datname = current_database()");
  std::set<std::string> out;
  std::istringstream in(names);
  for (std::string n; in >> n;) out.insert(n);
  return out;
}

std::string mailbox_yaml(const services& s, const folder& f, const std::string& name) {
  return "  - name: " + name + "\n    url: imap://" + s.imap_host + ":" + s.imap_port + "/" +
         f.name() + "\n    username: " + f.user() +
         "\n    password_env: TLSRPT_E2E_IMAP_PASSWORD\n    allow_plaintext: true\n"
         "    connect_timeout: 5s\n    operation_timeout: 30s\n    batch_size: 50\n";
}

}  // namespace

TEST_CASE(
    "three run instances over two mailboxes: kill -9 of the one working a mailbox hands it "
    "to another, and nothing is lost or counted twice") {
  const services s = services::shared();
  database db(s);
  folder fa(s, "t9", "ha-a");
  folder fb(s, "t9", "ha-b");
  scratch_dir tmp("instances");
  gen_options go;
  go.count = 2000;
  go.seed = 171;
  const gen_totals ta = generate_into(fa, go, s.mail_user);
  go.seed = 172;
  go.start = 100000;  // report-ids of their own
  const gen_totals tb = generate_into(fb, go, s.mail_user);
  const fs::path cfg = tmp.path() / "ha.yaml";
  tlsrpt::test::write_file(cfg, "database:\n  url: " + db.url() + "\nmailboxes:\n" +
                                    mailbox_yaml(s, fa, "ha-a") + mailbox_yaml(s, fb, "ha-b") +
                                    "daemon:\n  interval: 1s\n  jitter: 0s\n  max_backoff: 2s\n"
                                    "logging:\n  level: info\n");
  REQUIRE(run_collector({"-c", cfg.string(), "migrate"}).exit_code == 0);
  const std::int64_t total = ta.messages + tb.messages;
  const auto ledger = [&] { return sql_int(db.url(), "SELECT count(*) FROM tlsrpt.messages"); };

  std::vector<pid_t> pids;
  std::vector<proc_options> opts(3);
  for (std::size_t i = 0; i < 3; ++i) {
    opts[i].env = {"PGAPPNAME=ha-" + std::to_string(i)};
    opts[i].timeout = 180s;
    pids.push_back(start_collector({"-c", cfg.string(), "run"}, opts[i], tmp.path(),
                                   "ha-" + std::to_string(i)));
  }
  const auto log_of = [&](std::size_t i) {
    return tlsrpt::test::read_file(tmp.path() / ("ha-" + std::to_string(i) + ".err"));
  };

  // Kill the instance that holds a mailbox while work is left.
  std::size_t victim = 3;
  for (int tries = 0; tries < 6000 && victim == 3; ++tries) {
    const auto holders = lock_holders(db.url());
    if (!holders.empty() && ledger() < total - 500) {
      victim = std::stoul(holders.begin()->substr(3));
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE_MESSAGE(victim < 3, "no instance was seen holding a mailbox: " << log_of(0));
  REQUIRE(::kill(pids[victim], SIGKILL) == 0);
  const auto r =
      wait_collector(pids[victim], opts[victim], tmp.path(), "ha-" + std::to_string(victim));
  CHECK(r.signal == SIGKILL);
  const auto left_at_kill = total - ledger();
  CHECK(left_at_kill > 0);

  // The others take over: the lock is held by a survivor, and the work gets done.
  std::set<std::string> after;
  const auto end = std::chrono::steady_clock::now() + 120s;
  while (ledger() < total && std::chrono::steady_clock::now() < end) {
    for (const auto& h : lock_holders(db.url())) after.insert(h);
    std::this_thread::sleep_for(20ms);
  }
  CHECK(ledger() == total);
  CHECK_FALSE(after.empty());
  CHECK(after.count("ha-" + std::to_string(victim)) == 0);
  // Until every message carries its acknowledgement (ordinary mail none): a later pass of a
  // survivor acknowledges what the killed instance committed but could not flag.
  const auto acknowledged = [&](const folder& f, const gen_totals& t) {
    return f.search("UNKEYWORD $TLSRPTProcessed UNKEYWORD $TLSRPTFailed").size() ==
           static_cast<std::size_t>(t.not_a_report);
  };
  while (!(acknowledged(fa, ta) && acknowledged(fb, tb)) && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(100ms);

  for (std::size_t i = 0; i < 3; ++i) {
    if (i == victim) continue;
    REQUIRE(::kill(pids[i], SIGTERM) == 0);
    const auto done = wait_collector(pids[i], opts[i], tmp.path(), "ha-" + std::to_string(i));
    INFO("instance " << i << ": "
                     << done.err.substr(done.err.size() > 3000 ? done.err.size() - 3000 : 0));
    CHECK(done.exit_code == 0);
    CHECK(done.err.find(" error: ") == std::string::npos);
  }
  // The killed instance may have had one batch fetched (read) and not acknowledged.
  const gen_totals both = ta + tb;
  check_end_state(db.url(), fa, "ha-a", ta, &both);
  check_end_state(db.url(), fb, "ha-b", tb, &both);
}
