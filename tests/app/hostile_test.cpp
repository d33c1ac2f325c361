// SPDX-License-Identifier: Apache-2.0
// Hostile senders (issue 15): nothing a sender writes forges a log line or a table row,
// reaches the terminal raw, or pulls a password into what we print; a link loop under an
// ingest directory is walked once.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "cli.hpp"
#include "support/support.hpp"
#include "tlsrpt/text/utf8.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::app;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto end = s.find('\n', start);
    out.push_back(s.substr(start, end - start));
    start = end == std::string::npos ? s.size() : end + 1;
  }
  return out;
}

// No byte a terminal acts on: C0 controls (but tab), DEL, and the bidi overrides/isolates.
bool terminal_safe(const std::string& line) {
  for (const char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) return false;
  }
  return !has(line, "\u202E") && !has(line, "\u2066") && !has(line, "\u200F");
}

// A report whose sender-controlled strings hold JSON escapes (decoded by the parser into raw
// control characters and bidi overrides).
std::string hostile_report(const std::string& id, const std::string& domain, const std::string& org,
                           const std::string& mx) {
  return "{\"organization-name\":\"" + org +
         "\",\"date-range\":{\"start-datetime\":\"2026-11-01T00:00:00Z\",\"end-datetime\":"
         "\"2026-11-01T23:59:59Z\"},\"contact-info\":\"x@example.net\",\"report-id\":\"" +
         id +
         "\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[],"
         "\"policy-domain\":\"" +
         domain +
         "\"},\"summary\":{\"total-successful-session-count\":1,\"total-failure-session-count\":"
         "1},\"failure-details\":[{\"result-type\":\"validation-failure\\u001b[2J\","
         "\"receiving-mx-hostname\":\"" +
         mx + "\",\"failed-session-count\":1}]}]}";
}

}  // namespace

TEST_CASE("a report-id, Message-ID or file name cannot forge a log line, text or JSON") {
  const scratch_database db;
  const scratch_dir d;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  REQUIRE(cli("migrate", env).status == 0);
  // report-id with a newline and a fake outcome, an OSC title sequence, NUL is not JSON-legal
  // in a string but \u0000 is.
  write_file(d.path() / "a.json",
             hostile_report("r1\\noutcome=stored FORGED\\u001b]0;owned\\u0007\\u0000", "a.example",
                            "Org\\u202Eevil", "mx.a.example"));
  // A file name with a newline and ESC in it.
  const std::string evil_name = "b\nFORGED line \x1b[31m.json";
  write_file(d.path() / evil_name, hostile_report("r2", "b.example", "Org B", "mx.b.example"));
  // A message whose Message-ID holds raw 8-bit bytes that are not UTF-8.
  write_file(
      d.path() / "c.eml",
      "From: r@c.example\r\nMessage-ID: <\xff\xfe\x80@c.example>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: application/tlsrpt+json\r\n\r\n" +
          hostile_report("r3 key=value \\\"quoted\\\"", "c.example", "Org C", "mx.c.example") +
          "\r\n");

  const auto text = cli("ingest " + quote(d.path().string()), env);
  CHECK_MESSAGE(text.status == 0, text.err);
  const auto lines = lines_of(text.err);
  for (const auto& line : lines) {
    CAPTURE(line);
    CHECK(terminal_safe(line));
    CHECK(line.starts_with("20"));  // every line is one of ours, with its timestamp
  }
  CHECK(has(text.err, "report-id=\"r1\\noutcome=stored FORGED\\x1b]0;owned\\x07\\x00\""));
  CHECK(has(text.err, "b\\nFORGED line \\x1b[31m.json"));
  CHECK(has(text.err, "message-id=\\xff\\xfe\\x80@c.example"));
  CHECK(has(text.err, "report-id=\"r3 key=value \\\"quoted\\\"\""));

  sql(db.url(), "truncate tlsrpt.messages, tlsrpt.reports cascade");
  const auto json = cli("--log-format json ingest " + quote(d.path().string()), env);
  CHECK_MESSAGE(json.status == 0, json.err);
  for (const auto& line : lines_of(json.err)) {
    CAPTURE(line);
    CHECK(tlsrpt::text::is_valid_utf8(line));
    CHECK(terminal_safe(line));
    CHECK(line.starts_with("{\"ts\":"));
    CHECK(line.ends_with("}"));
  }
  CHECK(
      has(json.err, "\"report_id\":[\"r1\\noutcome=stored FORGED\\u001b]0;owned\\u0007\\u0000\"]"));
  CHECK(has(json.err, "\"message_id\":\"\\ufffd\\ufffd\\ufffd@c.example\""));
}

TEST_CASE("summary shows what senders wrote escaped and with capped widths") {
  const scratch_database db;
  const scratch_dir d;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  write_file(d.path() / "a.json",
             hostile_report("t1", "evil\\u001b[31m.example", "Org\\u202Eroftuo",
                            "mx\\r\\nfixture-z.example  999  999  999  0  0.00%  Forged"));
  write_file(d.path() / "b.json",
             hostile_report("t2", std::string(10000, 'x') + ".example", "Big", "mx.big.example"));
  write_file(d.path() / "c.json",
             hostile_report("t3", "rtl\\u2066.example", "Org\\r\\nForged row", "mx.c.example"));
  REQUIRE(cli("ingest " + quote(d.path().string()), env).status == 0);
  const auto r = cli("summary --days 36500", env);
  CHECK(r.status == 0);
  for (const auto& line : lines_of(r.out)) {
    CAPTURE(line);
    CHECK(terminal_safe(line));
    CHECK(line.size() < 300);  // a 10 KB domain does not pad every row
    CHECK(!line.starts_with("fixture-z.example"));
    CHECK(!line.starts_with("Forged"));
  }
  CHECK(has(r.out, "evil\\x1b[31m.example"));
  CHECK(has(r.out, "Org\\u{202e}roftuo"));
  CHECK(has(r.out, "mx\\r\\nfixture-z.example"));
  CHECK(has(r.out, "validation-failure\\x1b[2J"));
  CHECK(has(r.out, "xxx..."));
}

TEST_CASE("the database password is never printed, whatever the form of the URL") {
  const scratch_dir d;
  write_file(d.path() / "c.yaml",
             "mailboxes:\n  - name: m\n    url: imaps://127.0.0.1:1/INBOX\n"
             "    username: u\n    password_env: TLSRPT_APP_TEST_PW\n");
  for (const char* url : {
           "postgresql://u:SECRET@[::1/x",
           "postgresql://u:SE@CRET@127.0.0.1:1/db",
           "postgresql://tlsrpt:SECRET@127.0.0.1:1/db",
           "postgresql://127.0.0.1:1/db?password=SECRET",
           "host=127.0.0.1 port=1 password = SECRET dbname=x",
           "host=127.0.0.1 port=1 password='SEC RET' dbname",
           "host=127.0.0.1 port=1 password=SECRET dbname",
       }) {
    CAPTURE(std::string(url));
    const std::string env = "TLSRPT_DATABASE_URL=" + quote(url) + " TLSRPT_APP_TEST_PW=x";
    for (const char* command : {"check-config", "check-config --connect", "migrate", "summary",
                                "--log-format json migrate", "poll", "--log-format json poll"}) {
      CAPTURE(std::string(command));
      const auto r = cli("-c " + quote((d.path() / "c.yaml").string()) + " " + command, env);
      if (std::string(command) != "check-config") CHECK(r.status != 0);
      const std::string all = r.out + r.err;
      CHECK(!all.empty());
      CHECK(!has(all, "SECRET"));
      CHECK(!has(all, "SEC RET"));
      CHECK(!has(all, "CRET"));
    }
  }
}

TEST_CASE("check-config warns of secrets others can read and of tls_verify: false") {
  const scratch_dir d;
  const auto pw = d.path() / "imap-password";
  write_file(pw, "x\n");
  ::chmod(pw.c_str(), 0644);
  const auto cfg = d.path() / "c.yaml";
  write_file(cfg,
             "database:\n  url: postgresql://tlsrpt:SECRET@127.0.0.1:1/db\nmailboxes:\n"
             "  - name: m\n    url: imaps://127.0.0.1:1/INBOX\n    username: u\n"
             "    password_file: " +
                 pw.string() + "\n    tls_verify: false\n");
  ::chmod(cfg.c_str(), 0644);
  auto r = cli("-c " + quote(cfg.string()) + " check-config");
  CHECK(r.status == 0);
  CHECK(has(r.out, "Warning: config: " + cfg.string() +
                       ": database.url: holds a password and the file is readable by others"));
  CHECK(has(r.out, "Warning: config: " + cfg.string() + ":7: mailboxes[0].password_file: " +
                       pw.string() + " is readable by others"));
  CHECK(has(r.out, "Warning: config: " + cfg.string() +
                       ":4: mailboxes[0].tls_verify: false: the server's certificate is not "
                       "checked"));
  CHECK(!has(r.out + r.err, "SECRET"));
  ::chmod(cfg.c_str(), 0600);
  ::chmod(pw.c_str(), 0600);
  r = cli("-c " + quote(cfg.string()) + " check-config");
  CHECK(!has(r.out, "readable by others"));
  CHECK(has(r.out, "tls_verify: false"));
}

TEST_CASE("a symlink loop under an ingest directory is walked once, with a warning") {
  const scratch_database db;
  const scratch_dir d;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url());
  const auto root = d.path() / "reports";
  std::filesystem::create_directories(root / "sub");
  std::filesystem::copy_file(data_dir() / "collector/report.json", root / "sub" / "r.json");
  std::filesystem::copy_file(data_dir() / "app/fixture-1.json", root / "z.json");
  std::filesystem::create_directory_symlink(root, root / "sub" / "loop");
  std::filesystem::create_directory_symlink("..", root / "sub" / "up");
  const auto r = cli("ingest " + quote(root.string()), env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(has(r.err, "not following the directory link " + (root / "sub" / "loop").string()));
  CHECK(has(r.err, "ingest done: 2 stored, 0 duplicate"));
  CHECK(sql(db.url(), "select count(*) from tlsrpt.messages") == "2");
}
