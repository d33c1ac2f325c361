// SPDX-License-Identifier: Apache-2.0
// A newcomer's first hour (issue 14): every mistake answered through the built program, with
// its exit code and its message.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "support/support.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::app;
using namespace std::chrono_literals;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The admin URL with another database and user/password: what a newcomer gets wrong.
std::string with(const std::string& user_password, const std::string& database) {
  const std::string admin = require_env("TLSRPT_TEST_PG_ADMIN_URL");
  const auto at = admin.find('@');
  const auto slash = admin.rfind('/');
  return "postgresql://" + user_password + admin.substr(at, slash - at + 1) + database;
}

// A report of `org` for `domain` with one failure at `mx`.
std::string report_json(const std::string& org, const std::string& id, const std::string& domain,
                        const std::string& mx = "mx.example.org") {
  return "{\"organization-name\":\"" + org +
         "\",\"date-range\":{\"start-datetime\":\"2026-11-01T00:00:00Z\",\"end-datetime\":"
         "\"2026-11-01T23:59:59Z\"},\"contact-info\":\"x@example.net\",\"report-id\":\"" +
         id +
         "\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":["
         "\"version: STSv1\",\"mode: testing\",\"mx: mx.example.org\",\"max_age: 86400\"],"
         "\"policy-domain\":\"" +
         domain +
         "\"},\"summary\":{\"total-successful-session-count\":10,\"total-failure-session-count\":"
         "1},\"failure-details\":[{\"result-type\":\"certificate-expired\",\"receiving-mx-"
         "hostname\":\"" +
         mx + "\",\"failed-session-count\":1}]}]}";
}

std::vector<std::string> lines_of_manifest(const std::filesystem::path& p) {
  std::vector<std::string> out;
  const std::string s = read_file(p);
  std::size_t start = 0;
  while (start < s.size()) {
    const auto end = s.find('\n', start);
    out.push_back(s.substr(start, end - start));
    start = end == std::string::npos ? s.size() : end + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("an unknown command names the word and the nearest command") {
  auto r = cli("daemon");
  CHECK(r.status == 64);
  CHECK(has(r.err, "unknown command \"daemon\": did you mean `run`?"));
  r = cli("-c /nonexistent.yaml sumary --days 3");
  CHECK(r.status == 64);
  CHECK(has(r.err, "unknown command \"sumary\": did you mean `summary`?"));
  r = cli("frobnicate");
  CHECK(r.status == 64);
  CHECK(has(r.err, "unknown command \"frobnicate\""));
  CHECK(!has(r.err, "did you mean"));
  // A known command with a wrong option is CLI11's answer, not "unknown command".
  r = cli("summary --nope");
  CHECK(r.status == 64);
  CHECK(!has(r.err, "unknown command"));
}

TEST_CASE("--days and --older-than take a whole number of days, before any database") {
  for (const char* v : {"abc", "0", "-3", "1.5", "7d", ""}) {
    CAPTURE(std::string(v));
    const auto r = cli(std::string("summary --days '") + v + "'");
    CHECK(r.status == 64);
    CHECK(has(r.err, "expected a whole number of days >= 1"));
  }
  auto r = cli("summary --days 99999999999999999999999999999999999999999999999999");
  CHECK(r.status == 64);
  CHECK(has(r.err, "expected a whole number of days >= 1 and at most 1000000"));
  CHECK(r.err.size() < 300);
  r = cli("prune --older-than 100000000", "TLSRPT_DATABASE_URL=postgresql://nobody@127.0.0.1:1/x");
  CHECK(r.status == 64);
  CHECK(has(r.err, "--older-than: expected a whole number of days >= 1 and at most 1000000"));
}

TEST_CASE("a directory as the configuration file and a mysql:// URL are configuration errors") {
  const scratch_dir d;
  auto r = cli("-c " + quote(d.path().string()) + " check-config");
  CHECK(r.status == 78);
  CHECK(has(r.err, d.path().string() + ": is a directory, not a configuration file"));
  write_file(d.path() / "my.yaml", "database:\n  url: mysql://u:SECRET@db.example/tlsrpt\n");
  r = cli("-c " + quote((d.path() / "my.yaml").string()) + " check-config");
  CHECK(r.status == 78);
  CHECK(has(r.err,
            "my.yaml:2: database.url: expected a postgresql:// URL or a key=value "
            "connection string, got \"mysql://u:***@db.example/tlsrpt\""));
  CHECK(!has(r.out + r.err, "SECRET"));
  r = cli("check-config", "TLSRPT_DATABASE_URL=mysql://u:SECRET@db.example/tlsrpt");
  CHECK(r.status == 78);
  CHECK(has(r.err, "TLSRPT_DATABASE_URL: expected a postgresql:// URL"));
  CHECK(!has(r.out + r.err, "SECRET"));
  write_file(d.path() / "fast.yaml", "daemon:\n  max_backoff: 1ms\n");
  r = cli("-c " + quote((d.path() / "fast.yaml").string()) + " check-config");
  CHECK(r.status == 78);
  CHECK(has(r.err, "fast.yaml:2: daemon.max_backoff: must be at least 1s, got 1ms"));
}

TEST_CASE("database errors retrying cannot fix exit 77 or 78, only refused or unreachable is 75") {
  const scratch_database db;
  REQUIRE(cli("migrate", "TLSRPT_DATABASE_URL=" + quote(db.url())).status == 0);
  struct expectation {
    std::string url;
    int status;
    const char* says;
  };
  for (const auto& e : {
           expectation{with("tlsrpt:wrong-password", db.name()), 77,
                       "password authentication failed"},
           expectation{with("nosuchrole:x", db.name()), 77, "nosuchrole"},
           expectation{with("tlsrpt:tlsrpt", "nosuchdb"), 78,
                       "database \"nosuchdb\" does not exist"},
           expectation{"postgresql://u:SECRET@[::1/x", 78, "IPv6"},
           expectation{"host=127.0.0.1 port=1 dbname", 78, "missing \"=\""},
           expectation{"postgresql://tlsrpt@127.0.0.1:1/none", 75, "Connection refused"},
       }) {
    CAPTURE(e.url);
    for (const char* command : {"migrate", "summary", "prune --older-than 30"}) {
      CAPTURE(std::string(command));
      const auto r = cli(command, "TLSRPT_DATABASE_URL=" + quote(e.url));
      CHECK(r.status == e.status);
      CHECK(has(r.err, e.says));
      CHECK(!has(r.err, "SECRET"));
      CHECK(!has(r.err, "wrong-password"));
    }
  }
  // A role without privileges on the schema: 77, with the SQLSTATE.
  const std::string role = "t_noperm_" + std::to_string(::getpid());
  sql(db.url(), "drop role if exists " + role + "; create role " + role + " login password 'p'");
  const auto r = cli("summary", "TLSRPT_DATABASE_URL=" + quote(with(role + ":p", db.name())));
  CHECK(r.status == 77);
  CHECK(has(r.err, "42501"));
  sql(db.url(), "drop owned by " + role + "; drop role " + role);
}

TEST_CASE("check-config --connect on an unmigrated database says to migrate and fails") {
  const scratch_database db;
  const auto r = cli("check-config --connect", "TLSRPT_DATABASE_URL=" + quote(db.url()));
  CHECK(r.status == 78);
  // N: the newest migration the program carries (more land over time, and the numbers may
  // have gaps while reserved ones are still to land).
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(source_dir() / "migrations"))
    if (e.path().extension() == ".sql")
      n = std::max<std::size_t>(n, std::stoul(e.path().filename().string().substr(0, 4)));
  CHECK_MESSAGE(
      has(r.out, "schema version 0 of " + std::to_string(n) + ": run `tlsrpt-collector migrate`"),
      r.out);
  CHECK(!has(r.out, "Everything checked works"));
  CHECK(has(r.out, "Some checks failed"));
}

TEST_CASE("summary --format csv writes one tidy table per --section, formulas made inert") {
  const scratch_database db;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  const scratch_dir d;
  write_file(d.path() / "a.json", report_json("=HYPERLINK(\\\"http://evil.example\\\")", "csv-1",
                                              "csv.example", "@mx.csv.example"));
  write_file(d.path() / "b.json", report_json("Org, with comma", "csv-2", "csv.example"));
  REQUIRE(cli("ingest " + quote(d.path().string()), env).status == 0);

  auto r = cli("summary --days 36500 --format csv", env);
  CHECK(r.status == 0);
  CHECK(
      r.out.starts_with("policy_domain,reports,sessions,successful_sessions,failed_sessions,"
                        "failure_rate,reporters\r\n"));
  CHECK((has(r.out,
             "csv.example,2,22,20,2,0.090909,\"'=HYPERLINK(\"\"http://evil.example\"\");Org, "
             "with comma\"\r\n") ||
         has(r.out, "csv.example,2,22,20,2,0.090909,\"Org, with comma;=HYPERLINK")));
  // One header only: one table.
  CHECK(r.out.find("policy_domain") == r.out.rfind("policy_domain"));

  r = cli("summary --days 36500 --format csv --section failures", env);
  CHECK(r.status == 0);
  CHECK(
      r.out.starts_with("policy_domain,result_type,receiving_mx_hostname,receiving_ip,"
                        "failed_sessions,reporters,meaning\r\n"));
  CHECK(has(r.out, "csv.example,certificate-expired,'@mx.csv.example,,1,1,"));
  CHECK(r.out.find("policy_domain") == r.out.rfind("policy_domain"));

  r = cli("summary --days 36500 --format csv --section readiness", env);
  CHECK(r.status == 0);
  CHECK(r.out.starts_with(
      "policy_domain,verdict,mode,reporters,sessions,blocking_failed_sessions,reasons\r\n"));
  CHECK(has(r.out, "csv.example,"));

  r = cli("summary --format csv --section everything", env);
  CHECK(r.status == 64);
}

TEST_CASE("the Reporters column names two reporters and counts the rest") {
  const scratch_database db;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  const scratch_dir d;
  for (int i = 0; i < 20; ++i) {
    write_file(d.path() / ("r" + std::to_string(i) + ".json"),
               report_json("Reporter " + std::string(1, static_cast<char>('A' + i)),
                           "cap-" + std::to_string(i), "cap.example"));
  }
  REQUIRE(cli("ingest " + quote(d.path().string()), env).status == 0);
  const auto r = cli("summary --days 36500", env);
  CHECK(r.status == 0);
  CHECK(has(r.out, "Reporter A, Reporter B and 18 more\n"));
  CHECK(!has(r.out, "Reporter T"));
}

TEST_CASE("logging.format json writes one object per event with its fields, errors included") {
  const scratch_database db;
  const scratch_dir d;
  write_file(d.path() / "c.yaml", "logging:\n  format: json\n");
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  auto r = cli("-c " + quote((d.path() / "c.yaml").string()) + " ingest " +
                   quote((data_dir() / "mail/inbox-example.com-2026-11-02.eml").string()) + " " +
                   quote((data_dir() / "collector/not-a-report.eml").string()),
               env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(has(r.err, "\"event\":\"migration\",\"name\":\"0001_init.sql\""));
  CHECK(has(r.err, "\"event\":\"message\",\"source\":\"file\",\"file\":\""));
  CHECK(has(r.err,
            "\"outcome\":\"stored\",\"message_id\":\"6a002006.050a0220.7a2.3etls@inbox."
            "example\",\"report_id\":[\"2026.11.02T00.00.00Z+example.com@inbox.example\"]"));
  CHECK(has(r.err, "\"outcome\":\"not_a_report\""));
  CHECK(!has(r.err, "outcome="));
  std::size_t start = 0;
  while (start < r.err.size()) {
    const auto end = r.err.find('\n', start);
    const std::string line = r.err.substr(start, end - start);
    CHECK_MESSAGE(line.starts_with("{\"ts\":\""), line);
    CHECK_MESSAGE(line.find(",\"level\":\"") != std::string::npos, line);
    CHECK_MESSAGE(line.find(",\"event\":\"") != std::string::npos, line);
    CHECK_MESSAGE(line.ends_with("}"), line);
    start = end == std::string::npos ? r.err.size() : end + 1;
  }
  // Start-up and fatal errors are JSON too.
  r = cli("--log-format json -c /nonexistent.yaml poll");
  CHECK(r.status == 78);
  CHECK(r.err.starts_with("{\"ts\":\""));
  CHECK(has(r.err,
            "\"level\":\"critical\",\"event\":\"fatal\",\"error\":\"config: "
            "/nonexistent.yaml: cannot open the configuration file\",\"exit_code\":78}"));
  // Text logs keep their shape.
  r = cli("ingest " + quote((data_dir() / "collector/not-a-report.eml").string()), env);
  CHECK(has(r.err, " outcome=not_a_report message-id=lunch@example.com report-id=-"));
}

TEST_CASE("SIGHUP makes run read its configuration again, and a broken file keeps the old one") {
  const scratch_database db;
  const scratch_dir d;
  const std::string folder = "sighup-test";
  imap_fresh_folder("t5", folder);
  const auto cfg = d.path() / "config.yaml";
  const std::string mailbox = "mailboxes:\n  - name: hup\n    url: imaps://127.0.0.1:" +
                              require_env("TLSRPT_TEST_IMAPS_PORT") + "/" + folder +
                              "\n    username: t5\n    password_env: TLSRPT_APP_TEST_PW\n"
                              "    ca_file: " +
                              require_env("TLSRPT_TEST_CA_FILE") + "\n";
  // The polling path (idle_test.cpp has the same with IDLE).
  write_file(cfg, mailbox + "daemon:\n  interval: 1h\n  jitter: 0s\n  idle: false\n");
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url()) +
                          " TLSRPT_APP_TEST_PW=" + quote(require_env("TLSRPT_TEST_IMAP_PASSWORD"));
  const auto log = d.path() / "daemon.log";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string command = "exec env -u TLSRPT_CONFIG " + env + " " +
                                quote(TLSRPT_COLLECTOR_BIN) + " -c " + quote(cfg.string()) +
                                " run 2>" + quote(log.string()) + " </dev/null";
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto wait_log = [&](const std::string& what) {
    const auto end = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < end) {
      if (std::filesystem::exists(log) && has(read_file(log), what)) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  CHECK_MESSAGE(wait_log("pass done"), read_file(log));

  // A broken file: logged, and the daemon goes on with what it had.
  write_file(cfg, mailbox + "daemon:\n  interval: 1ms\n");
  REQUIRE(::kill(pid, SIGHUP) == 0);
  CHECK_MESSAGE(wait_log("SIGHUP: cannot use the new configuration, keeping the previous one: "
                         "config: " +
                         cfg.string() + ":8: daemon.interval: must be at least 1s"),
                read_file(log));
  CHECK(::waitpid(pid, nullptr, WNOHANG) == 0);  // still running

  // A good one: read, and a pass runs right away with it.
  write_file(cfg, mailbox + "daemon:\n  interval: 2h\n  jitter: 0s\n  idle: false\n");
  REQUIRE(::kill(pid, SIGHUP) == 0);
  CHECK_MESSAGE(wait_log("SIGHUP: configuration " + cfg.string() + " read again: 1 mailbox(es)"),
                read_file(log));

  REQUIRE(::kill(pid, SIGTERM) == 0);
  int status = -1;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  pid_t done = 0;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL("the daemon did not stop on SIGTERM:\n" << read_file(log));
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("cmake --install puts everything under the prefix and DESTDIR, found from the binary") {
  const scratch_database db;
  const scratch_dir d;
  const std::string build = quote(binary_dir().string());
  auto r =
      run("cmake --install " + build + " --prefix " + quote((d.path() / "p").string()) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(!has(r.out, "/usr/local"));
  const auto p = d.path() / "p";
  CHECK(std::filesystem::exists(p / "bin/tlsrpt-collector"));
  CHECK(std::filesystem::exists(p / "share/tlsrpt-collector/migrations/0001_init.sql"));
  // (packaging/CMakeLists.txt; the licence is debian/copyright's business in the package)
  for (const char* doc : {"README.md", "schema.md"})
    CHECK(std::filesystem::exists(p / "share/doc/tlsrpt-collector" / doc));
  // Every installed file is under the prefix.
  for (const auto& line : lines_of_manifest(binary_dir() / "install_manifest.txt"))
    CHECK_MESSAGE(line.starts_with(p.string()), line);

  // DESTDIR stages the same tree below it.
  r = run("DESTDIR=" + quote((d.path() / "stage").string()) + " cmake --install " + build +
          " --prefix /opt/tlsrpt 2>&1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(std::filesystem::exists(d.path() / "stage/opt/tlsrpt/share/tlsrpt-collector/migrations"));
  CHECK(!std::filesystem::exists("/opt/tlsrpt/bin/tlsrpt-collector"));

  // Moved elsewhere, the program still finds its migrations next to itself.
  std::filesystem::rename(p, d.path() / "moved");
  const std::string env = "env -u TLSRPT_MIGRATIONS_DIR TLSRPT_DATABASE_URL=" + quote(db.url());
  r = run(env + " " + quote((d.path() / "moved/bin/tlsrpt-collector").string()) + " migrate 2>&1");
  CHECK_MESSAGE(r.status == 0, r.out);
  CHECK(has(r.out, "applied 0001_init.sql"));
}
