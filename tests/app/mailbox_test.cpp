// SPDX-License-Identifier: Apache-2.0
// poll, reprocess and check-config --connect against the harness's Dovecot (users t6, t7).
#include <doctest/doctest.h>

#include <unistd.h>

#include <string>

#include "cli.hpp"
#include "support/support.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::app;

namespace {

std::string mailbox_config(const std::string& user, const std::string& folder,
                           const std::string& password_env) {
  return "mailboxes:\n  - name: " + user + "-" + folder +
         "\n    url: imaps://127.0.0.1:" + require_env("TLSRPT_TEST_IMAPS_PORT") + "/" + folder +
         "\n    username: " + user + "\n    password_env: " + password_env +
         "\n    ca_file: " + require_env("TLSRPT_TEST_CA_FILE") + "\n";
}

bool has_uids(const std::string& search_answer) {
  return search_answer.find_first_of("0123456789") != std::string::npos;
}

}  // namespace

TEST_CASE("poll stores reports, flags a broken one, and reprocess clears its failure mark") {
  const scratch_database db;
  const scratch_dir d;
  const std::string folder = "app-poll";
  imap_fresh_folder("t6", folder);
  write_file(d.path() / "good.eml", report_mail("poll-good", 7));
  std::string broken = report_mail("poll-broken", 1);
  broken.replace(broken.find("\"report-id\""), 11, "\"report-xx\"");
  write_file(d.path() / "broken.eml", broken);
  imap_append("t6", folder, d.path() / "good.eml");
  imap_append("t6", folder, d.path() / "broken.eml");
  imap_append("t6", folder, data_dir() / "collector/not-a-report.eml");
  const auto cfg = d.path() / "c.yaml";
  write_file(cfg, mailbox_config("t6", folder, "TLSRPT_APP_TEST_PW"));
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url()) +
                          " TLSRPT_APP_TEST_PW=" + quote(require_env("TLSRPT_TEST_IMAP_PASSWORD"));

  auto r = cli("-c " + quote(cfg.string()) + " poll", env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.err.find("3 found, 1 stored") != std::string::npos);
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports") == "1");
  CHECK(has_uids(imap("t6", folder, "UID SEARCH KEYWORD $TLSRPTProcessed")));
  CHECK(has_uids(imap("t6", folder, "UID SEARCH KEYWORD $TLSRPTFailed")));

  r = cli("-c " + quote(cfg.string()) + " reprocess", env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.out.find("1 message(s) will be processed again") != std::string::npos);
  CHECK(r.out.find("failure mark cleared on 1 of 1") != std::string::npos);
  CHECK_FALSE(has_uids(imap("t6", folder, "UID SEARCH KEYWORD $TLSRPTFailed")));

  // Still broken: the next pass rejects it again, and flags it again.
  r = cli("-c " + quote(cfg.string()) + " poll", env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(has_uids(imap("t6", folder, "UID SEARCH KEYWORD $TLSRPTFailed")));
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports") == "1");

  r = cli("-c " + quote(cfg.string()) + " reprocess --mailbox nosuch", env);
  CHECK(r.status == 64);
}

TEST_CASE("check-config --connect says what works and what does not") {
  const scratch_database db;
  const scratch_dir d;
  const auto cfg = d.path() / "c.yaml";
  write_file(cfg, mailbox_config("t7", "INBOX", "TLSRPT_APP_TEST_PW"));
  const std::string pw = "TLSRPT_APP_TEST_PW=" + quote(require_env("TLSRPT_TEST_IMAP_PASSWORD"));
  REQUIRE(cli("migrate", "TLSRPT_DATABASE_URL=" + quote(db.url())).status == 0);

  auto r = cli("-c " + quote(cfg.string()) + " check-config --connect",
               "TLSRPT_DATABASE_URL=" + quote(db.url()) + " " + pw);
  CHECK_MESSAGE(r.status == 0, r.out << r.err);
  CHECK(r.out.find("connect: ok: PostgreSQL") != std::string::npos);
  CHECK(r.out.find("connect: ok: logged in, INBOX has") != std::string::npos);
  CHECK(r.out.find("Everything checked works.") != std::string::npos);
  CHECK(r.out.find(require_env("TLSRPT_TEST_IMAP_PASSWORD")) == std::string::npos);
  // What the collector's choices rest on (issue 23), as Dovecot 2.3 offers it.
  CHECK_MESSAGE(r.out.find("  server: * OK [CAPABILITY ") != std::string::npos, r.out);
  CHECK(
      r.out.find("  capabilities: IDLE yes, UIDPLUS yes, MOVE yes, ESEARCH yes, CONDSTORE yes\n") !=
      std::string::npos);
  CHECK(r.out.find("  keywords: keywords kept (PERMANENTFLAGS (") != std::string::npos);
  CHECK(r.out.find("  acknowledgement: as configured\n") != std::string::npos);
  CHECK(r.out.find("  moving: UID MOVE\n") != std::string::npos);
  CHECK(r.out.find("  waiting for mail: IDLE between passes\n") != std::string::npos);

  r = cli("-c " + quote(cfg.string()) + " check-config --connect",
          "TLSRPT_DATABASE_URL=" + quote(db.url()) + " TLSRPT_APP_TEST_PW=wrong-password");
  CHECK(r.status == 69);
  CHECK(r.out.find("connect: FAILED") != std::string::npos);
  CHECK(r.out.find("wrong-password") == std::string::npos);

  r = cli("-c " + quote(cfg.string()) + " check-config --connect",
          "TLSRPT_DATABASE_URL=postgresql://tlsrpt@127.0.0.1:1/none " + pw);
  CHECK(r.status == 75);
  CHECK(r.out.find("Database: postgresql://tlsrpt@127.0.0.1:1/none") != std::string::npos);
}

TEST_CASE("check-config --connect names the fallback on a folder that keeps no keywords") {
  // The harness's Cyrus, on a folder whose ACL gives us every right but `w` (keywords): its
  // SELECT says "[PERMANENTFLAGS (\\Deleted \\Seen)]", as Microsoft 365's lists no \\*.
  const std::string base = "imap://127.0.0.1:" + require_env("TLSRPT_TEST_CYRUS_IMAP_PORT") + "/";
  const std::string login = quote("t7:" + require_env("TLSRPT_TEST_IMAP_PASSWORD"));
  const std::string folder = "app-nokw-" + std::to_string(::getpid());
  for (const std::string& c : {"CREATE " + folder, "SETACL " + folder + " t7 lrsitekxa"}) {
    const auto r =
        tlsrpt::test::run("curl -sS " + quote(base) + " -u " + login + " -X " + quote(c) + " 2>&1");
    REQUIRE_MESSAGE(r.status == 0, c << ": " << r.out);
  }
  const scratch_dir d;
  const auto cfg = d.path() / "c.yaml";
  write_file(cfg, "mailboxes:\n  - name: nokw\n    url: imaps://127.0.0.1:" +
                      require_env("TLSRPT_TEST_CYRUS_IMAPS_PORT") + "/" + folder +
                      "\n    username: t7\n    password_env: TLSRPT_APP_TEST_PW\n    ca_file: " +
                      require_env("TLSRPT_TEST_CA_FILE") + "\n");
  const auto r = cli("-c " + quote(cfg.string()) + " check-config --connect",
                     "TLSRPT_APP_TEST_PW=" + quote(require_env("TLSRPT_TEST_IMAP_PASSWORD")));
  tlsrpt::test::run("curl -sS " + quote(base) + " -u " + login + " -X " +
                    quote("DELETE " + folder) + " >/dev/null 2>&1");
  CHECK_MESSAGE(r.out.find("connect: ok: logged in") != std::string::npos, r.out << r.err);
  CHECK(r.out.find("  keywords: no new keywords kept (PERMANENTFLAGS (\\Deleted \\Seen))") !=
        std::string::npos);
  CHECK(r.out.find("  acknowledgement: fallback: the folder keeps no new keywords") !=
        std::string::npos);
  CHECK(r.out.find("stored reports are marked \\Seen only") != std::string::npos);
  CHECK(r.out.find("ESEARCH yes") != std::string::npos);  // Cyrus 3.6 has it
}
