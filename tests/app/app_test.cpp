// SPDX-License-Identifier: Apache-2.0
// The program as a user runs it: arguments, exit codes, parse, ingest, summary.
#include <doctest/doctest.h>

#include <string>

#include "cli.hpp"
#include "support/support.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::app;

namespace {

// The project's own samples (tests/data): the shared corpus is not needed here.
std::string sample(const std::string& rel) { return quote((data_dir() / rel).string()); }

// A gzip copy of one sample, as senders attach them.
std::filesystem::path gzip_of(const std::filesystem::path& from, const std::filesystem::path& to) {
  const auto r = run("gzip -n -c " + quote(from.string()) + " > " + quote(to.string()));
  REQUIRE(r.status == 0);
  return to;
}

int count_of(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("arguments that make no sense exit 64 with a hint") {
  for (const char* args : {"", "frobnicate", "prune", "prune --older-than soon",
                           "summary --format xml", "parse", "ingest", "--log-level loud parse -"}) {
    const auto r = cli(args);
    CHECK_MESSAGE(r.status == 64, "args: " << args << "\n" << r.err);
    CHECK_MESSAGE(!r.err.empty(), "args: " << args);
  }
}

TEST_CASE("--help and --version exit 0 and every command has its own help") {
  const auto h = cli("--help");
  CHECK(h.status == 0);
  for (const char* cmd : {"run", "poll", "ingest", "parse", "migrate", "prune", "reprocess",
                          "check-config", "summary"}) {
    CHECK_MESSAGE(h.out.find(std::string("  ") + cmd) != std::string::npos, cmd);
    const auto c = cli(std::string(cmd) + " --help");
    CHECK_MESSAGE(c.status == 0, cmd);
    CHECK_MESSAGE(c.out.find("Usage:") != std::string::npos, cmd);
  }
  const auto v = cli("--version");
  CHECK(v.status == 0);
  CHECK(v.out.rfind("tlsrpt-collector 0.", 0) == 0);
}

TEST_CASE("parse prints a JSON array for plain JSON, gzip and whole messages") {
  auto r = cli("parse " + sample("collector/report.json"));
  CHECK(r.status == 0);
  CHECK(r.out.rfind("[{\"organization-name\":\"Example Mail Org\"", 0) == 0);
  CHECK(r.out.find("\"report-id\":\"collector-sample-1\"") != std::string::npos);
  const scratch_dir d;
  const auto gz = gzip_of(data_dir() / "app/fixture-1.json", d.path() / "f1.json.gz");
  r = cli("parse " + quote(gz.string()));
  CHECK(r.status == 0);
  CHECK(r.out.find("\"report-id\":\"fixture-1\"") != std::string::npos);
  r = cli("parse " + sample("mail/inbox-example.com-2026-11-02.eml"));
  CHECK(r.status == 0);
  CHECK(r.out.rfind("[{", 0) == 0);
  CHECK(r.out.find("\"report-id\":\"2026.11.02T00.00.00Z+example.com@inbox.example\"") !=
        std::string::npos);
  CHECK(r.out.find("\"mx-host\":[\"mx1.example.com\",\"mx2.example.com\"]") != std::string::npos);
  // stdin, the same bytes
  r = cli("parse -", "", (data_dir() / "mail/relay-example.com-2026-11-11.eml").string());
  CHECK(r.status == 0);
  CHECK(count_of(r.out, "\"organization-name\"") == 1);
}

TEST_CASE("parse of a mail that is no report prints an empty array and says why") {
  const auto r = cli("parse " + sample("collector/not-a-report.eml"));
  CHECK(r.status == 0);
  CHECK(r.out == "[]\n");
  CHECK(r.err.find("not a report") != std::string::npos);
}

TEST_CASE("parse of a broken report exits 65 with the cause on stderr") {
  const scratch_dir d;
  const std::string good = read_file(data_dir() / "collector/report.json");
  write_file(d.path() / "truncated.json", good.substr(0, good.size() / 2));
  auto r = cli("parse " + quote((d.path() / "truncated.json").string()));
  CHECK(r.status == 65);
  CHECK(r.out == "[]\n");
  CHECK(r.err.find("rejected: report: ") != std::string::npos);

  std::string no_id = good;
  const auto p = no_id.find("\"report-id\"");
  REQUIRE(p != std::string::npos);
  no_id.replace(p, 11, "\"report-xx\"");
  write_file(d.path() / "no-id.json", no_id);
  r = cli("parse " + quote((d.path() / "no-id.json").string()));
  CHECK(r.status == 65);
  CHECK(r.err.find("report-id") != std::string::npos);

  const std::string gz =
      read_file(gzip_of(data_dir() / "app/fixture-1.json", d.path() / "f1.json.gz"));
  write_file(d.path() / "cut.json.gz", gz.substr(0, gz.size() - 20));
  r = cli("parse " + quote((d.path() / "cut.json.gz").string()));
  CHECK(r.status == 65);
  CHECK(r.err.find("rejected") != std::string::npos);

  r = cli("parse /nonexistent/report.json");
  CHECK(r.status == 66);
  CHECK(r.err.find("cannot read /nonexistent/report.json") != std::string::npos);
}

TEST_CASE("a configuration error exits 78 naming the file, line and key") {
  const scratch_dir d;
  write_file(d.path() / "bad.yaml", "database:\n  url: postgresql://x/y\n  pool: 3\n");
  auto r = cli("-c " + quote((d.path() / "bad.yaml").string()) + " check-config");
  CHECK(r.status == 78);
  CHECK(r.err.find("bad.yaml:3: database.pool: unknown key") != std::string::npos);

  write_file(d.path() / "secret.yaml",
             "mailboxes:\n  - name: m\n    url: imaps://127.0.0.1/INBOX\n    username: u\n"
             "    password_env: TLSRPT_APP_TEST_UNSET\n");
  r = cli("-c " + quote((d.path() / "secret.yaml").string()) + " check-config");
  CHECK(r.status == 78);
  CHECK(r.out.find("secret.yaml:5: mailboxes[0].password_env: the environment variable "
                   "TLSRPT_APP_TEST_UNSET is not set") != std::string::npos);
  // poll refuses to start without the secret rather than failing at the first pass.
  r = cli("-c " + quote((d.path() / "secret.yaml").string()) + " poll",
          "TLSRPT_DATABASE_URL=postgresql://nobody@127.0.0.1:1/none");
  CHECK(r.status == 78);
  CHECK(r.err.find("TLSRPT_APP_TEST_UNSET") != std::string::npos);

  r = cli("-c /nonexistent.yaml check-config");
  CHECK(r.status == 78);
  r = cli("migrate");
  CHECK(r.status == 78);
  CHECK(r.err.find("TLSRPT_DATABASE_URL") != std::string::npos);
}

TEST_CASE("ingest stores files, directories, Maildir, mbox and stdin, once") {
  const scratch_database db;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  const scratch_dir d;
  const auto c = data_dir();
  // A directory with a nested one: a JSON report, a gzipped one, and a message.
  std::filesystem::create_directories(d.path() / "dir" / "nested");
  std::filesystem::copy_file(c / "collector/report.json", d.path() / "dir" / "report.json");
  gzip_of(c / "app/fixture-1.json", d.path() / "dir" / "nested" / "f1.json.gz");
  std::filesystem::copy_file(c / "mail/inbox-example.com-2026-11-02.eml",
                             d.path() / "dir" / "nested" / "i1.eml");
  // A Maildir: new/ and cur/ are read, tmp/ (half-delivered) is not.
  for (const char* sub : {"cur", "new", "tmp"})
    std::filesystem::create_directories(d.path() / "Maildir" / sub);
  std::filesystem::copy_file(c / "mail/inbox-example.com-2026-11-09.eml",
                             d.path() / "Maildir" / "new" / "1.host");
  std::filesystem::copy_file(c / "mail/outlook-example.com-2026-11-04.eml",
                             d.path() / "Maildir" / "cur" / "2.host:2,S");
  std::filesystem::copy_file(c / "mail/postfix-example.com-2026-11-07.eml",
                             d.path() / "Maildir" / "tmp" / "3.host");
  // An mbox of two messages, one with a body line that had to be escaped as ">From ".
  std::string m1 = read_file(c / "mail/inbox-example.org-2026-11-03.eml");
  std::string m2 = read_file(c / "mail/hosting-example.org-2026-11-08.eml");
  write_file(d.path() / "reports.mbox", "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + m1 +
                                            "\n>From here on, nothing.\n\nFrom MAILER-DAEMON Thu "
                                            "Jan  1 00:00:00 2026\n" +
                                            m2 + "\n");

  auto r = cli("ingest " + quote((d.path() / "dir").string()), env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports") == "3");
  r = cli("ingest " + quote((d.path() / "Maildir").string()), env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports") == "5");
  r = cli("ingest " + quote((d.path() / "reports.mbox").string()), env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports") == "7");
  r = cli("ingest -", env, (c / "mail/relay-example.com-2026-11-11.eml").string());
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports") == "8");
  CHECK(sql(db.url(), "select count(*) from tlsrpt.messages where source = 'stdin'") == "1");

  // Everything again: duplicates, delivered (exit 0), nothing counted twice.
  const std::string sessions =
      sql(db.url(), "select sum(successful_sessions) from tlsrpt.policies");
  r = cli("ingest " + quote((d.path() / "dir").string()) + " " +
              quote((d.path() / "Maildir").string()) + " " +
              quote((d.path() / "reports.mbox").string()) + " -",
          env, (c / "mail/relay-example.com-2026-11-11.eml").string());
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports") == "8");
  CHECK(sql(db.url(), "select sum(successful_sessions) from tlsrpt.policies") == sessions);
  CHECK(r.err.find("0 stored") != std::string::npos);

  // Mail that is no report is delivered too.
  r = cli("ingest " + sample("collector/not-a-report.eml"), env);
  CHECK(r.status == 0);
  CHECK(
      sql(db.url(), "select outcome from tlsrpt.messages where folder like '%not-a-report.eml'") ==
      "not_a_report");
}

TEST_CASE("ingest of a broken report exits 65 and records it as rejected") {
  const scratch_database db;
  const scratch_dir d;
  const std::string good = read_file(data_dir() / "collector/report.json");
  write_file(d.path() / "broken.json", good.substr(0, good.size() - 10));
  const auto r = cli("ingest " + quote((d.path() / "broken.json").string()),
                     "TLSRPT_DATABASE_URL=" + quote(db.url()));
  CHECK(r.status == 65);
  CHECK(sql(db.url(), "select outcome from tlsrpt.messages") == "rejected");
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports") == "0");
}

TEST_CASE("ingest exits 75 when the database is unreachable, so an MTA retries") {
  const auto r = cli("ingest -", "TLSRPT_DATABASE_URL=postgresql://tlsrpt@127.0.0.1:1/none",
                     (data_dir() / "mail/inbox-example.com-2026-11-02.eml").string());
  CHECK(r.status == 75);
  CHECK(r.err.find("tlsrpt-collector: ") != std::string::npos);
}

TEST_CASE("migrate applies the schema once and then has nothing to do") {
  const scratch_database db;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  auto r = cli("migrate", env);
  CHECK(r.status == 0);
  CHECK(r.out.find("applied 0001_init.sql") != std::string::npos);
  r = cli("migrate", env);
  CHECK(r.status == 0);
  CHECK(r.out.find("up to date") != std::string::npos);
  r = cli("prune --older-than 100000", env);
  CHECK(r.status == 0);
  CHECK(r.out.find("Deleted 0 report(s)") != std::string::npos);
}

TEST_CASE("summary gives the fixture set's numbers in table, json and csv") {
  const scratch_database db;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  auto r = cli("ingest " + quote((data_dir() / "app").string()), env);
  REQUIRE_MESSAGE(r.status == 0, r.err);

  r = cli("summary --days 36500", env);
  CHECK(r.status == 0);
  // fixture-a: 100 + 50 successful, 3 + 1 failed = 154 sessions, 4/154 = 2.60%.
  CHECK(r.out.find("fixture-a.example        2         154         150         4     2.60%  "
                   "Reporter A, Reporter B") != std::string::npos);
  CHECK(r.out.find("fixture-b.example        1          10          10         0     0.00%  "
                   "Reporter A") != std::string::npos);
  CHECK(r.out.find("fixture-a.example  certificate-host-mismatch  3 failed session(s)") !=
        std::string::npos);
  CHECK(r.out.find("at MX mx1.fixture-a.example (192.0.2.10)") != std::string::npos);
  CHECK(r.out.find("What it means: The MX host's certificate does not name the host") !=
        std::string::npos);
  CHECK(r.out.find("fixture-a.example: not ready: ") != std::string::npos);
  // Readiness is a rule over time: one day from one reporter is not enough.
  CHECK(r.out.find("fixture-b.example: not ready: 1 of 14 days of reports in testing mode; "
                   "1 of 2 reporters\n") != std::string::npos);

  r = cli("summary --days 36500 --format json", env);
  CHECK(r.status == 0);
  CHECK(r.out.find("{\"policy_domain\":\"fixture-a.example\",\"reporters\":[\"Reporter A\","
                   "\"Reporter B\"],\"reports\":2,\"sessions\":154,\"successful_sessions\":150,"
                   "\"failed_sessions\":4,") != std::string::npos);
  CHECK(r.out.find("\"result_type\":\"starttls-not-supported\"") != std::string::npos);
  CHECK(r.out.find("\"verdict\":\"not-ready\",\"reasons\":[\"1 of 14 days of reports in "
                   "testing mode\",\"1 of 2 reporters\"]") != std::string::npos);

  r = cli("summary --days 36500 --format csv --domain fixture-a.example", env);
  CHECK(r.status == 0);
  CHECK(r.out.find("fixture-a.example,2,154,150,4,0.025974,Reporter A;Reporter B\r\n") !=
        std::string::npos);
  CHECK(r.out.find("fixture-b.example") == std::string::npos);
  r = cli("summary --days 36500 --format csv --section failures --domain fixture-a.example", env);
  CHECK(r.status == 0);
  CHECK(r.out.find("fixture-a.example,certificate-host-mismatch,mx1.fixture-a.example,"
                   "192.0.2.10,3,1,") != std::string::npos);
}

TEST_CASE("with --log-format json every log line is one JSON object") {
  const scratch_database db;
  const auto r = cli("--log-format json ingest " + sample("mail/inbox-example.com-2026-11-02.eml") +
                         " " + sample("collector/not-a-report.eml"),
                     "TLSRPT_DATABASE_URL=" + quote(db.url()));
  CHECK_MESSAGE(r.status == 0, r.err);
  std::size_t lines = 0;
  std::size_t start = 0;
  while (start < r.err.size()) {
    const auto end = r.err.find('\n', start);
    const std::string line = r.err.substr(start, end - start);
    CHECK_MESSAGE(line.rfind("{\"ts\":\"", 0) == 0, line);
    CHECK_MESSAGE(line.find("\",\"level\":\"") != std::string::npos, line);
    CHECK_MESSAGE(line.back() == '}', line);
    ++lines;
    start = end == std::string::npos ? r.err.size() : end + 1;
  }
  CHECK(lines >= 3);  // migrations, one line per message, the total
  CHECK(r.err.find("\"outcome\":\"stored\"") != std::string::npos);
  CHECK(r.err.find("\"outcome\":\"not_a_report\"") != std::string::npos);
}
