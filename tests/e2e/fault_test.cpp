// SPDX-License-Identifier: Apache-2.0
// Faults during a pass, each followed by the same end check: nothing lost, nothing counted
// twice. Servers are only ever stopped in a private instance (scripts/services.sh with its own
// state directory); the shared harness keeps running for everyone else.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <random>
#include <thread>

#include "e2e.hpp"
#include "support/support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tlsrpt::e2e;

namespace {

// Waits until the running collector `pid` has committed at least `rows` ledger rows, so a
// fault lands in the middle of the pass, not before it or after it. The database is migrated.
void wait_for_progress(const std::string& url, pid_t pid, std::int64_t rows) {
  const std::string q = "SELECT count(*) FROM tlsrpt.messages";
  for (int i = 0; i < 6000; ++i) {
    int status = 0;
    REQUIRE_MESSAGE(::waitpid(pid, &status, WNOHANG) == 0,
                    "the collector ended before the fault could be injected");
    if (sql_int(url, q) >= rows) return;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("the collector made no progress");
}

int count_lines(const std::string& text, const std::string& needle) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE(
    "kill -9 of the collector at random points, four times in a row, then a clean pass, "
    "loses nothing and counts nothing twice") {
  const services s = services::shared();
  database db(s);
  folder f(s, "t9", "kill");
  scratch_dir tmp("kill");
  gen_options go;
  go.count = 3000;
  go.seed = 91;
  const gen_totals t = generate_into(f, go, s.mail_user);
  const fs::path cfg = write_config(tmp.path(), s, db, f, "kill", "    batch_size: 50\n");
  REQUIRE(run_collector({"-c", cfg.string(), "migrate"}).exit_code == 0);

  // Seeded, so a failure can be replayed. Kill points follow progress, not the clock (which
  // depends on the machine): once the ledger has grown by a random number of messages, the
  // collector is killed after a further random moment, which lands anywhere in the next batch:
  // fetching, parsing, writing or acknowledging. Four rounds of at most 200 messages plus
  // what a fast pass gets through before the kill lands leave plenty of the 3,000 for the
  // next round, so every round is killed.
  std::mt19937 rng(8460);
  std::uniform_int_distribution<int> progress(0, 200);
  std::uniform_int_distribution<int> extra_ms(0, 40);
  const auto ledger_rows = [&] {
    return sql_int(db.url(), "SELECT count(*) FROM tlsrpt.messages");
  };
  int killed = 0;
  for (int round = 0; round < 4; ++round) {
    const std::int64_t target = ledger_rows() + progress(rng);
    const auto extra = std::chrono::milliseconds(extra_ms(rng));
    std::optional<std::chrono::steady_clock::time_point> reached;
    proc_options o;
    o.kill_when = [&] {
      if (!reached && ledger_rows() >= target) reached = std::chrono::steady_clock::now();
      return reached && std::chrono::steady_clock::now() - *reached >= extra;
    };
    const auto r = run_collector({"-c", cfg.string(), "poll"}, o);
    INFO("round " << round << " at " << target << " messages + " << extra.count()
                  << " ms: " << r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0));
    CHECK(r.signal == SIGKILL);
    if (r.signal == SIGKILL) ++killed;
  }
  CHECK(killed == 4);
  // Some work was done and some left over: the kills did land in the middle.
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.messages") > 0);

  const auto clean = run_collector({"-c", cfg.string(), "poll"});
  INFO("clean pass: " << clean.err);
  REQUIRE(clean.exit_code == 0);
  check_end_state(db.url(), f, "kill", t);
}

TEST_CASE(
    "PostgreSQL stopped in the middle of a pass and started again loses nothing and "
    "counts nothing twice") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the IMAP server plays no part; run once");
  private_services ps("pg");
  database db(ps.env());
  folder f(ps.env(), "t9", "pgstop");
  scratch_dir tmp("pgstop");
  gen_options go;
  go.count = 1200;
  go.seed = 92;
  const gen_totals t = generate_into(f, go, ps.env().mail_user);
  const fs::path cfg = write_config(tmp.path(), ps.env(), db, f, "pgstop", "    batch_size: 50\n");
  REQUIRE(run_collector({"-c", cfg.string(), "migrate"}).exit_code == 0);

  proc_options o;
  const pid_t pid = start_collector({"-c", cfg.string(), "poll"}, o, tmp.path(), "pass");
  wait_for_progress(db.url(), pid, 100);
  ps.stop_postgres();
  const auto r = wait_collector(pid, o, tmp.path(), "pass");
  INFO("pass during the outage: " << r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 75);  // temporary failure: a timer retries

  ps.start();
  // Nothing committed after the outage began is acknowledged: mail not in the ledger has no
  // keyword yet.
  const auto clean = run_collector({"-c", cfg.string(), "poll"});
  INFO("clean pass: " << clean.err);
  REQUIRE(clean.exit_code == 0);
  check_end_state(db.url(), f, "pgstop", t);
}

TEST_CASE("Dovecot restarted in the middle of a pass loses nothing and counts nothing twice") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the private instance it restarts is a Dovecot");
  private_services ps("imap");
  database db(ps.env());
  folder f(ps.env(), "t9", "imapstop");
  scratch_dir tmp("imapstop");
  gen_options go;
  go.count = 1200;
  go.seed = 93;
  const gen_totals t = generate_into(f, go, ps.env().mail_user);
  const fs::path cfg =
      write_config(tmp.path(), ps.env(), db, f, "imapstop", "    batch_size: 50\n");
  REQUIRE(run_collector({"-c", cfg.string(), "migrate"}).exit_code == 0);

  proc_options o;
  const pid_t pid = start_collector({"-c", cfg.string(), "poll"}, o, tmp.path(), "pass");
  wait_for_progress(db.url(), pid, 100);
  ps.kill_dovecot();
  const auto r = wait_collector(pid, o, tmp.path(), "pass");
  INFO("pass during the restart: " << r.err);
  CHECK(r.signal == 0);
  // 75 when the connection died with the server; 0 when Dovecot let the running imap
  // process finish its session (both are correct: the end check decides).
  CHECK((r.exit_code == 0 || r.exit_code == 75));
  ps.start();

  const auto clean = run_collector({"-c", cfg.string(), "poll"});
  INFO("clean pass: " << clean.err);
  REQUIRE(clean.exit_code == 0);
  check_end_state(db.url(), f, "imapstop", t);
}

TEST_CASE(
    "two collectors started on the same mailbox at once count every report once and "
    "leave nothing behind") {
  const services s = services::shared();
  database db(s);
  folder f(s, "t9", "overlap");
  scratch_dir tmp("overlap");
  gen_options go;
  go.count = 1000;
  go.seed = 94;
  const gen_totals t = generate_into(f, go, s.mail_user);
  const fs::path cfg = write_config(tmp.path(), s, db, f, "overlap", "    batch_size: 50\n");
  // Migrate first: the cron overlap is about the mailbox, not about two first starts.
  REQUIRE(run_collector({"-c", cfg.string(), "migrate"}).exit_code == 0);

  proc_options o;
  const pid_t a = start_collector({"-c", cfg.string(), "poll"}, o, tmp.path(), "a");
  const pid_t b = start_collector({"-c", cfg.string(), "poll"}, o, tmp.path(), "b");
  const auto ra = wait_collector(a, o, tmp.path(), "a");
  const auto rb = wait_collector(b, o, tmp.path(), "b");
  INFO("collector a: " << ra.err.substr(0, 3000));
  INFO("collector b: " << rb.err.substr(0, 3000));
  CHECK(ra.signal == 0);
  CHECK(rb.signal == 0);
  CHECK(ra.exit_code == 0);
  CHECK(rb.exit_code == 0);
  // No error storm and no doubled work: whichever claims the folder first works through it,
  // the other one says so once and steps aside (the passes take far longer than the gap
  // between the two starts).
  CHECK(count_lines(ra.err + rb.err, " error: ") == 0);
  CHECK(count_lines(ra.err + rb.err, "another collector is polling it") == 1);
  check_end_state(db.url(), f, "overlap", t);
}

TEST_CASE(
    "a read-only database leaves every message unacknowledged with a clear error, and the "
    "next pass after it is writable again stores everything once") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the IMAP server plays no part; run once");
  const services s = services::shared();
  database db(s);
  folder f(s, "t9", "readonly");
  scratch_dir tmp("readonly");
  gen_options go;
  go.count = 200;
  go.seed = 95;
  const gen_totals t = generate_into(f, go, s.mail_user);
  const fs::path cfg = write_config(tmp.path(), s, db, f, "readonly");
  REQUIRE(run_collector({"-c", cfg.string(), "migrate"}).exit_code == 0);

  sql(s.pg_admin_url, "ALTER DATABASE " + db.name() + " SET default_transaction_read_only = on");
  const auto r = run_collector({"-c", cfg.string(), "poll"});
  INFO("poll on a read-only database: " << r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("read-only") != std::string::npos);
  CHECK(f.search("KEYWORD $TLSRPTProcessed").empty());
  CHECK(f.search("KEYWORD $TLSRPTFailed").empty());
  CHECK(f.search("SEEN").empty());  // fetched with BODY.PEEK[]: nothing marked read
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 0);

  sql(s.pg_admin_url, "ALTER DATABASE " + db.name() + " RESET default_transaction_read_only");
  const auto clean = run_collector({"-c", cfg.string(), "poll"});
  INFO("clean pass: " << clean.err);
  REQUIRE(clean.exit_code == 0);
  check_end_state(db.url(), f, "readonly", t);
}
