// SPDX-License-Identifier: Apache-2.0
// A folder that keeps no keywords of ours (issue 23): no `\*` in its PERMANENTFLAGS, as on
// Microsoft 365. The harness's Cyrus makes one for real: a folder whose ACL gives us every
// right but `w` (keywords and flags other than \Seen and \Deleted) answers SELECT with
// "[PERMANENTFLAGS (\Deleted \Seen)]" and drops keywords a STORE asks for. Dovecot's harness
// has no ACL plugin, so the case runs against Cyrus only.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "e2e.hpp"
#include "support/support.hpp"

namespace fs = std::filesystem;
using namespace tlsrpt::e2e;

namespace {

int count_lines(const std::string& text, const std::string& needle) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE(
    "a folder that keeps no keywords: stored reports are marked \\Seen, the ledger tells what "
    "is done, the log says so once a run, and a second poll stores nothing") {
  TLSRPT_TEST_ONLY_ON(cyrus, "only the harness's Cyrus has a folder without keyword rights");
  const services s = services::shared();
  database db(s);
  folder f(s, "t8", "nokeywords");
  scratch_dir tmp("nokeywords");
  gen_options go;
  go.count = 120;
  go.seed = 23;
  go.not_a_report = 0.1;
  go.broken = 0.05;
  const gen_totals t = generate_into(f, go, s.mail_user);
  REQUIRE(t.not_a_report > 0);
  REQUIRE(t.broken > 0);
  // Every right but `w`: lookup, read, seen, insert, delete (t, e, x), and administer.
  f.command("SETACL " + f.name() + " " + f.user() + " lrsitekxa");
  CHECK(f.command("SELECT " + f.name()).find("[PERMANENTFLAGS (\\Deleted \\Seen)]") !=
        std::string::npos);

  const fs::path cfg = write_config(tmp.path(), s, db, f, "nokw", "    batch_size: 25\n");
  const auto first = run_collector({"-c", cfg.string(), "poll"});
  INFO("first poll: " << first.err.substr(0, 4000));
  REQUIRE(first.exit_code == 0);
  CHECK(count_lines(first.err, "keeps no new keywords") == 1);  // once, not once per batch
  CHECK(count_lines(first.err, " error: ") == 0);

  const std::string ledger = "SELECT count(*) FROM tlsrpt.messages WHERE source = 'nokw'";
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.reports") == t.reports);
  CHECK(sql_int(db.url(), ledger) == t.messages);
  CHECK(sql_int(db.url(), ledger + " AND outcome = 'rejected'") == t.broken);
  // The mailbox: no keyword stuck; stored reports read, everything else as it was (unread).
  CHECK(f.search("ALL").size() == static_cast<std::size_t>(t.messages));
  CHECK(f.search("KEYWORD $TLSRPTProcessed").empty());
  CHECK(f.search("KEYWORD $TLSRPTFailed").empty());
  CHECK(f.search("SEEN").size() == static_cast<std::size_t>(t.reports));
  CHECK(f.search("UNSEEN").size() == static_cast<std::size_t>(t.not_a_report + t.broken));

  // The next run finds every message again; the ledger knows them all: nothing new is stored,
  // nothing is written twice, the read state stays.
  const auto second = run_collector({"-c", cfg.string(), "poll"});
  INFO("second poll: " << second.err.substr(0, 4000));
  REQUIRE(second.exit_code == 0);
  CHECK(count_lines(second.err, "keeps no new keywords") == 1);
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.reports") == t.reports);
  CHECK(sql_int(db.url(), ledger) == t.messages);
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.conflicts") == 0);
  CHECK(f.search("SEEN").size() == static_cast<std::size_t>(t.reports));
}
