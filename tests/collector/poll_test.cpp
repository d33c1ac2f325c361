// SPDX-License-Identifier: Apache-2.0
// One pass over a mailbox, against fakes of the mailbox and the store: what is fetched, what is
// written, and above all what is acknowledged, when and how.
#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <map>

#include <sstream>

#include "collector/fakes.hpp"

using namespace tlsrpt;
using tlsrpt::test::event_log;
using tlsrpt::test::fake_mailbox;
using tlsrpt::test::fake_store;

namespace {

struct fixture {
  event_log log;
  fake_mailbox mb{log};
  fake_store st{log};
  collector::mailbox_options opts;
  std::atomic<bool> stop{false};
  collector::message_pipeline pipeline = test::fake_pipeline();
  std::ostringstream log_text;
  std::shared_ptr<spdlog::logger> logger;

  fixture() {
    opts.name = "test";
    opts.folder = "INBOX";
    // The exact order of commands is checked with one batch at a time; the overlapped writer
    // has its own cases below.
    opts.overlap_writes = false;
    logger = std::make_shared<spdlog::logger>(
        "collector-test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text));
    logger->set_level(spdlog::level::debug);
  }

  collector::pass_stats poll(collector::mailbox_state* state = nullptr) {
    return collector::poll_mailbox(mb, st, opts, stop, pipeline, logger, state);
  }
};

const std::string processed = "$TLSRPTProcessed";
const std::string failed = "$TLSRPTFailed";

}  // namespace

TEST_CASE("a pass acknowledges all successes with one flag command, only after the write") {
  fixture f;
  const auto a = f.mb.add("REPORT r1");
  const auto b = f.mb.add("REPORT r2 r3");
  const auto c = f.mb.add("NOTREPORT");              // unread ordinary mail
  const auto d = f.mb.add("NOTREPORT", {"\\Seen"});  // read ordinary mail
  const auto e = f.mb.add("BROKEN");
  const auto s = f.poll();

  CHECK(s.found == 5);
  CHECK(s.stored == 2);
  CHECK(s.not_a_report == 2);
  CHECK(s.rejected == 1);
  CHECK(s.batches == 1);
  CHECK_FALSE(s.stopped);

  // Successes: exactly one add_flags, with exactly their UIDs.
  const auto adds = f.log.with("add_flags");
  REQUIRE(adds.size() == 2);
  CHECK(adds[0] == "add_flags 1,2 $TLSRPTProcessed \\Seen");
  CHECK(adds[1] == "add_flags 5 $TLSRPTFailed");
  // Ordinary mail, read or unread, is not touched: the fetch is BODY.PEEK[] (issue 17).
  CHECK(f.log.with("remove_flags").empty());
  CHECK(f.log.with("move").empty());
  // Nothing acknowledged before the write.
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1,2,3,4,5"});
  CHECK(f.log.first("write") < f.log.first("add_flags"));

  CHECK(f.mb.at(a).flags.count(processed) == 1);
  CHECK(f.mb.at(b).flags.count("\\Seen") == 1);
  CHECK(f.mb.at(c).flags.empty());
  CHECK(f.mb.at(d).flags == std::set<std::string>{"\\Seen"});
  CHECK(f.mb.at(e).flags.count(failed) == 1);

  // The broken report is in the ledger with its exact error.
  REQUIRE(f.st.row(e) != nullptr);
  CHECK(f.st.row(e)->result == store::outcome::rejected);
  CHECK(f.st.row(e)->error == "report: policies[1].summary: expected an object");
  // The search excluded our own keywords.
  CHECK(f.log.with("search") == std::vector<std::string>{"search $TLSRPTProcessed $TLSRPTFailed"});
}

TEST_CASE("one log line per message and one per pass, with uid, outcome and report-id") {
  fixture f;
  f.mb.add("REPORT rep-17");
  f.mb.add("BROKEN");
  f.poll();
  const std::string text = f.log_text.str();
  CHECK(text.find("uid=1 outcome=stored message-id=msg1@example.net report-id=rep-17") !=
        std::string::npos);
  CHECK(text.find("uid=2 outcome=rejected") != std::string::npos);
  CHECK(text.find("error=report: policies[1].summary: expected an object") != std::string::npos);
  CHECK(text.find("pass done in") != std::string::npos);
  CHECK(text.find("found 2, stored 1") != std::string::npos);
}

TEST_CASE("a large backlog is written and acknowledged batch by batch") {
  fixture f;
  f.opts.batch_size = 2;
  for (int i = 0; i < 5; ++i) f.mb.add("REPORT r" + std::to_string(i));
  const auto s = f.poll();
  CHECK(s.stored == 5);
  CHECK(s.batches == 3);
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1,2", "write 3,4", "write 5"});
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1,2 $TLSRPTProcessed \\Seen",
                                                            "add_flags 3,4 $TLSRPTProcessed \\Seen",
                                                            "add_flags 5 $TLSRPTProcessed \\Seen"});
  // Each batch is acknowledged before the next one is fetched: bounded memory and progress.
  const std::vector<std::string> expected{"lock test/INBOX",
                                          "select INBOX",
                                          "search $TLSRPTProcessed $TLSRPTFailed",
                                          "fetch 1",
                                          "fetch 2",
                                          "write 1,2",
                                          "add_flags 1,2 $TLSRPTProcessed \\Seen",
                                          "fetch 3",
                                          "fetch 4",
                                          "write 3,4",
                                          "add_flags 3,4 $TLSRPTProcessed \\Seen",
                                          "fetch 5",
                                          "write 5",
                                          "add_flags 5 $TLSRPTProcessed \\Seen",
                                          "unlock test/INBOX"};
  CHECK(f.log.events == expected);
}

TEST_CASE("a store that cannot commit aborts the pass with nothing acknowledged") {
  fixture f;
  f.opts.batch_size = 2;
  f.mb.add("REPORT r1");
  f.mb.add("REPORT r2", {"\\Seen"});
  f.mb.add("REPORT r3");
  f.st.fail_writes = true;
  CHECK_THROWS_AS(f.poll(), store::error);
  CHECK(f.log.with("add_flags").empty());
  CHECK(f.log.with("move").empty());
  // The pass stopped at the first failed batch.
  CHECK(f.log.with("fetch") == std::vector<std::string>{"fetch 1", "fetch 2"});
  // Nothing was touched: the mailbox is as before the pass.
  CHECK(f.log.with("remove_flags").empty());
  CHECK(f.mb.at(1).flags.empty());
  CHECK(f.mb.at(2).flags == std::set<std::string>{"\\Seen"});
  CHECK(f.mb.at(3).flags.empty());
  CHECK(f.st.ledger.empty());

  // The database is back: the next pass does everything, once.
  f.st.fail_writes = false;
  const auto s = f.poll();
  CHECK(s.stored == 3);
  CHECK(f.st.reports.size() == 3);
}

TEST_CASE("a non-transient store failure also leaves the batch unacknowledged") {
  fixture f;
  f.mb.add("REPORT r1");
  f.st.fail_writes = true;
  f.st.fail_transient = false;  // disk full, read-only database
  CHECK_THROWS_AS(f.poll(), store::error);
  CHECK(f.log.with("add_flags").empty());
  CHECK(f.log_text.str().find("pass aborted") != std::string::npos);
}

TEST_CASE("after a crash between commit and acknowledgement the next pass only acknowledges") {
  fixture f;
  f.mb.add("REPORT r1");
  f.mb.add("BROKEN");
  f.mb.add("REPORT r2");
  // The first run committed uids 1 and 2 and died before flagging them.
  f.st.ledger[{"test", "INBOX", 1000, 1}] = {store::outcome::stored, "", std::nullopt, {"r1"}};
  f.st.ledger[{"test", "INBOX", 1000, 2}] = {store::outcome::rejected, "x", std::nullopt, {}};
  const auto s = f.poll();
  CHECK(s.already_done == 2);
  CHECK(s.stored == 1);
  CHECK(f.log.with("fetch") == std::vector<std::string>{"fetch 3"});
  CHECK(f.log.with("write") == std::vector<std::string>{"write 3"});
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1,3 $TLSRPTProcessed \\Seen",
                                                            "add_flags 2 $TLSRPTFailed"});
  CHECK(f.st.written.size() == 1);
}

TEST_CASE("a store that cannot tell a done message's outcome gets it classified again, unwritten") {
  fixture f;
  f.st.knows_outcomes = false;  // the interface's default done_messages()
  f.mb.add("REPORT r1");
  f.mb.add("NOTREPORT");
  f.st.ledger[{"test", "INBOX", 1000, 1}] = {store::outcome::stored, "", std::nullopt, {"r1"}};
  f.st.ledger[{"test", "INBOX", 1000, 2}] = {store::outcome::not_a_report, "", std::nullopt, {}};
  const auto s = f.poll();
  CHECK(s.already_done == 2);
  CHECK(f.log.with("write").empty());
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1 $TLSRPTProcessed \\Seen"});
  CHECK(f.mb.at(2).flags.empty());  // still unread, no keyword
}

TEST_CASE("ordinary mail is left untouched and not fetched again on the next pass") {
  fixture f;
  const auto uid = f.mb.add("NOTREPORT", {"$Label1"});
  f.poll();
  CHECK(f.mb.at(uid).flags == std::set<std::string>{"$Label1"});
  REQUIRE(f.st.row(uid) != nullptr);
  CHECK(f.st.row(uid)->result == store::outcome::not_a_report);
  CHECK(f.st.row(uid)->error == "no report part");

  f.log.events.clear();
  const auto s = f.poll();
  CHECK(s.found == 1);
  CHECK(s.already_done == 1);
  CHECK(f.log.events == std::vector<std::string>{"lock test/INBOX", "select INBOX",
                                                 "search $TLSRPTProcessed $TLSRPTFailed",
                                                 "unlock test/INBOX"});
  CHECK(f.mb.at(uid).flags == std::set<std::string>{"$Label1"});
}

TEST_CASE("an oversized message is recorded as skipped and flagged failed without a fetch") {
  fixture f;
  f.opts.max_message_bytes = 1000;
  f.mb.add("REPORT small");
  const auto big = f.mb.add("REPORT big");
  f.mb.set_size(big, 5000);
  const auto s = f.poll();
  CHECK(s.skipped == 1);
  CHECK(s.stored == 1);
  CHECK(f.log.with("fetch") == std::vector<std::string>{"fetch 1"});
  REQUIRE(f.st.row(big) != nullptr);
  CHECK(f.st.row(big)->result == store::outcome::skipped);
  CHECK(f.st.row(big)->error ==
        "message of 5000 bytes is over the limit of 1000 bytes; not downloaded");
  CHECK(f.log.with("add_flags 2") == std::vector<std::string>{"add_flags 2 $TLSRPTFailed"});
  // Never downloaded, so never marked read.
  CHECK(f.mb.at(big).flags == std::set<std::string>{failed});
}

TEST_CASE("a network failure while fetching writes what came before it, then ends the pass") {
  fixture f;
  f.mb.add("REPORT r1");
  f.mb.add("REPORT r2");
  f.mb.add("REPORT r3");
  f.mb.transient_fetch_failure = 2;
  CHECK_THROWS_AS(f.poll(), imap::error);
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1"});
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1 $TLSRPTProcessed \\Seen"});
  CHECK(f.log.first("write 1") < f.log.first("add_flags 1"));
  CHECK(f.log.with("fetch 3").empty());
  // Counted, so a message that breaks the connection every time cannot stall the mailbox.
  CHECK(f.st.attempts == std::map<std::uint32_t, int>{{2, 1}});
}

TEST_CASE("a message whose fetch keeps breaking the connection is quarantined, not a stall") {
  fixture f;
  f.opts.max_attempts = 2;
  const auto poison = f.mb.add("REPORT r1");
  const auto after = f.mb.add("REPORT r2");
  f.mb.transient_fetch_failure = poison;
  CHECK_THROWS_AS(f.poll(), imap::error);  // first time: the pass ends, mail untouched
  CHECK(f.mb.at(after).flags.count(processed) == 0);

  const auto s = f.poll();  // second time: quarantined, and the pass goes on past it
  CHECK(s.quarantined == 1);
  REQUIRE(f.st.row(poison) != nullptr);
  CHECK(f.st.row(poison)->result == store::outcome::rejected);
  CHECK(f.st.row(poison)->error.starts_with("quarantined after 2 failed attempts: "));
  CHECK(f.mb.at(poison).flags.count(failed) == 1);
  CHECK(f.mb.at(after).flags.count(processed) == 1);
}

TEST_CASE("a login or select failure propagates with nothing done") {
  fixture f;
  f.mb.add("REPORT r1");
  f.mb.fail_select = true;
  CHECK_THROWS_AS(f.poll(), imap::error);
  CHECK(f.log.with("search").empty());
  CHECK(f.log.with("write").empty());
}

TEST_CASE("a poison message is deferred untouched, then quarantined after max_attempts") {
  fixture f;
  f.opts.max_attempts = 3;
  const auto good = f.mb.add("REPORT r1");
  const auto poison = f.mb.add("THROW");

  for (int pass = 1; pass <= 2; ++pass) {
    CAPTURE(pass);
    const auto s = f.poll();
    CHECK(s.deferred == 1);
    CHECK(s.quarantined == 0);
    CHECK(f.st.row(poison) == nullptr);
    CHECK(f.mb.at(poison).flags.empty());  // unread again, no keyword
    CHECK(f.st.attempts[poison] == pass);
  }
  CHECK(f.st.last_attempt_error == "processing blew up");
  CHECK(f.mb.at(good).flags.count(processed) == 1);

  const auto s = f.poll();
  CHECK(s.quarantined == 1);
  CHECK(s.rejected == 1);
  REQUIRE(f.st.row(poison) != nullptr);
  CHECK(f.st.row(poison)->result == store::outcome::rejected);
  CHECK(f.st.row(poison)->error == "quarantined after 3 failed attempts: processing blew up");
  CHECK(f.mb.at(poison).flags.count(failed) == 1);
  // Its ledger row carries the message digest like any other.
  CHECK(f.st.written.back().facts.key.sha256 == "sha-5");

  // Quarantined for good: the next pass does not see it.
  f.log.events.clear();
  const auto again = f.poll();
  CHECK(again.found == 0);
}

TEST_CASE("the stop flag mid-pass finishes the batch in hand and returns") {
  fixture f;
  f.opts.batch_size = 3;
  for (int i = 0; i < 6; ++i) f.mb.add("REPORT r" + std::to_string(i));
  f.mb.on_fetch = [&](std::uint32_t uid) {
    if (uid == 2) f.stop = true;
  };
  const auto s = f.poll();
  CHECK(s.stopped);
  CHECK(s.stored == 2);
  CHECK(f.log.with("fetch") == std::vector<std::string>{"fetch 1", "fetch 2"});
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1,2"});
  CHECK(f.log.with("add_flags") ==
        std::vector<std::string>{"add_flags 1,2 $TLSRPTProcessed \\Seen"});
  for (std::uint32_t uid = 3; uid <= 6; ++uid) CHECK(f.mb.at(uid).flags.empty());
  CHECK(f.log_text.str().find("pass stopped") != std::string::npos);
}

TEST_CASE("with the move action each outcome class is moved with one command") {
  fixture f;
  f.opts.on_success = {collector::action::move, "Reports/Done"};
  f.opts.on_failure = {collector::action::move, "Reports/Failed"};
  f.opts.on_not_a_report = {collector::action::move, "Other"};
  f.mb.add("REPORT r1");
  f.mb.add("REPORT r2");
  f.mb.add("BROKEN");
  f.mb.add("NOTREPORT");
  f.poll();
  CHECK(f.log.with("search") == std::vector<std::string>{"search "});  // nothing excluded
  CHECK(f.log.with("move") == std::vector<std::string>{"move 1,2 -> Reports/Done",
                                                       "move 3 -> Reports/Failed",
                                                       "move 4 -> Other"});
  CHECK(f.log.with("add_flags").empty());
  // Unread ordinary mail arrives unread in its folder: nothing set \Seen on it.
  CHECK(f.log.with("remove_flags").empty());
  REQUIRE(f.mb.moved["Other"].size() == 1);
  CHECK(f.mb.moved["Other"][0].flags.empty());
  CHECK(f.mb.moved["Reports/Done"].size() == 2);
  CHECK_FALSE(f.mb.has(1));
}

TEST_CASE("switching from keywords to move sweeps already processed mail without a rewrite") {
  fixture f;
  f.mb.add("REPORT r1", {processed, "\\Seen"});
  f.st.ledger[{"test", "INBOX", 1000, 1}] = {store::outcome::stored, "", std::nullopt, {"r1"}};
  f.opts.on_success = {collector::action::move, "Done"};
  const auto s = f.poll();
  CHECK(s.already_done == 1);
  CHECK(f.log.with("write").empty());
  CHECK(f.log.with("move") == std::vector<std::string>{"move 1 -> Done"});
}

TEST_CASE("search exclusions follow the actions") {
  collector::mailbox_options o;
  CHECK(collector::search_exclusions(o) == std::vector<std::string>{processed, failed});
  o.on_success.how = collector::action::move;
  CHECK(collector::search_exclusions(o) == std::vector<std::string>{failed});
  o.on_failure.how = collector::action::move;
  CHECK(collector::search_exclusions(o).empty());
  o.on_success.how = collector::action::keyword;
  o.processed_keyword = "$Done";
  CHECK(collector::search_exclusions(o) == std::vector<std::string>{"$Done"});
}

TEST_CASE(
    "a folder without \\* in PERMANENTFLAGS is acknowledged with \\Seen and the ledger, "
    "logged once per mailbox state") {
  // Microsoft 365's PERMANENTFLAGS, as its SELECT answers (tests/imap/quirks_test.cpp).
  fixture f;
  f.mb.permanent_flags = std::vector<std::string>{"\\Seen",    "\\Answered", "\\Flagged",
                                                  "\\Deleted", "\\Draft",    "$MDNSent"};
  const auto a = f.mb.add("REPORT r1");
  const auto b = f.mb.add("NOTREPORT");
  const auto c = f.mb.add("BROKEN");
  collector::mailbox_state state;
  const auto s1 = f.poll(&state);
  CHECK(s1.stored == 1);
  // No keyword asked for (it would not stick): the report gets \Seen, the others nothing.
  CHECK(f.log.with("search") == std::vector<std::string>{"search "});
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1 \\Seen"});
  CHECK(f.mb.at(a).flags == std::set<std::string>{"\\Seen"});
  CHECK(f.mb.at(b).flags.empty());
  CHECK(f.mb.at(c).flags.empty());
  CHECK(state.fallback_logged);
  const auto said = [&] {
    std::size_t n = 0;
    const auto t = f.log_text.str();
    for (auto p = t.find("keeps no new keywords"); p != std::string::npos;
         p = t.find("keeps no new keywords", p + 1))
      ++n;
    return n;
  };
  CHECK(said() == 1);

  // The next pass finds all three again; the ledger knows them: no write, no fetch, and the
  // report already \Seen gets no second STORE. The fallback is not said again.
  f.log.events.clear();
  const auto s2 = f.poll(&state);
  CHECK(s2.found == 3);
  CHECK(s2.already_done == 3);
  CHECK(s2.stored == 0);
  CHECK(f.log.with("write").empty());
  CHECK(f.log.with("fetch").empty());
  CHECK(f.log.with("add_flags").empty());
  CHECK(said() == 1);
}

TEST_CASE("the acknowledgement plan keeps what the folder keeps, and moves stay moves") {
  collector::mailbox_options o;
  imap::folder_state all;  // no PERMANENTFLAGS: every flag is kept
  auto p = collector::plan_acknowledgement(o, all);
  CHECK(p.keywords_kept);
  CHECK(p.fallback.empty());
  CHECK(p.success_flags == std::vector<std::string>{processed, "\\Seen"});
  CHECK(p.search_exclusions == std::vector<std::string>{processed, failed});

  imap::folder_state star;
  star.permanent_flags = std::vector<std::string>{"\\Seen", "\\*"};
  CHECK(collector::plan_acknowledgement(o, star).fallback.empty());

  // Cyrus on a folder where we lack every right but lookup and read: nothing is kept.
  imap::folder_state none;
  none.permanent_flags = std::vector<std::string>{};
  p = collector::plan_acknowledgement(o, none);
  CHECK_FALSE(p.keywords_kept);
  CHECK(p.success_flags.empty());
  CHECK(p.failure_flags.empty());
  CHECK(p.search_exclusions.empty());
  CHECK(p.fallback.find("left as they are") != std::string::npos);

  // Moved away on success: only the failure keyword is missed.
  o.on_success = {collector::action::move, "Done"};
  imap::folder_state seen_only;
  seen_only.permanent_flags = std::vector<std::string>{"\\Seen", "\\Deleted"};
  p = collector::plan_acknowledgement(o, seen_only);
  CHECK(p.on_success.how == collector::action::move);
  CHECK(p.failure_flags.empty());
  CHECK(p.search_exclusions.empty());
  CHECK_FALSE(p.fallback.empty());
  // Everything moved: keywords do not matter.
  o.on_failure = {collector::action::move, "Failed"};
  CHECK(collector::plan_acknowledgement(o, seen_only).fallback.empty());
}

TEST_CASE("a UIDVALIDITY change is logged and every message is read again") {
  fixture f;
  collector::mailbox_state state;
  f.mb.add("NOTREPORT");
  f.poll(&state);
  CHECK(state.uidvalidity == 1000u);
  f.mb.uidvalidity = 2000;
  f.log.events.clear();
  const auto s = f.poll(&state);
  CHECK(state.uidvalidity == 2000u);
  CHECK(s.already_done == 0);
  CHECK(f.log.with("fetch") == std::vector<std::string>{"fetch 1"});
  CHECK(f.log_text.str().find("UIDVALIDITY changed from 1000 to 2000") != std::string::npos);
}

TEST_CASE("a second pass over a fully processed mailbox finds nothing") {
  fixture f;
  f.mb.add("REPORT r1");
  f.mb.add("BROKEN");
  f.poll();
  f.log.events.clear();
  const auto s = f.poll();
  CHECK(s.found == 0);
  CHECK(f.log.with("fetch").empty());
  CHECK(f.log.with("write").empty());
}

TEST_CASE("the same report in two messages is stored once and both are acknowledged") {
  fixture f;
  f.mb.add("REPORT same");
  f.mb.add("REPORT same");
  const auto s = f.poll();
  CHECK(s.stored == 1);
  CHECK(s.duplicate == 1);
  CHECK(f.log.with("add_flags") ==
        std::vector<std::string>{"add_flags 1,2 $TLSRPTProcessed \\Seen"});
}

TEST_CASE("a conflicting report is acknowledged as done and logged with what conflicted") {
  fixture f;
  f.st.conflicting.insert("r1");
  f.mb.add("REPORT r1");
  const auto s = f.poll();
  CHECK(s.conflict == 1);
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1 $TLSRPTProcessed \\Seen"});
  CHECK(f.log_text.str().find("outcome=conflict") != std::string::npos);
  CHECK(f.log_text.str().find("error=report-id already stored with different content") !=
        std::string::npos);
}

TEST_CASE("a message the server refuses to hand over counts attempts, then is quarantined") {
  fixture f;
  f.opts.max_attempts = 2;
  f.mb.add("REPORT r1");
  const auto refused = f.mb.add("REPORT r2");
  f.mb.refuse_fetch.insert(refused);
  auto s = f.poll();
  CHECK(s.deferred == 1);
  CHECK(s.stored == 1);
  CHECK(f.st.row(refused) == nullptr);
  CHECK(f.st.last_attempt_error.find("no such message") != std::string::npos);
  s = f.poll();
  CHECK(s.quarantined == 1);
  REQUIRE(f.st.row(refused) != nullptr);
  CHECK(f.st.row(refused)->result == store::outcome::rejected);
  CHECK(f.mb.at(refused).flags.count(failed) == 1);
}

TEST_CASE("nothing marks mail read before or after its fetch: ordinary mail keeps its flags") {
  fixture f;
  f.mb.add("REPORT r1");
  f.mb.add("NOTREPORT");
  f.mb.add("REPORT r2", {"\\Seen"});
  f.mb.add("BROKEN");
  f.mb.add("NOTREPORT", {"\\Seen", "$Label1"});
  f.poll();
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1,3 $TLSRPTProcessed \\Seen",
                                                            "add_flags 4 $TLSRPTFailed"});
  CHECK(f.log.with("remove_flags").empty());
  CHECK(f.mb.at(2).flags.empty());
  CHECK(f.mb.at(5).flags == std::set<std::string>{"\\Seen", "$Label1"});
}

TEST_CASE("a stop mid-batch writes and acknowledges what was fetched, leaves the rest untouched") {
  fixture f;
  f.mb.add("REPORT r1");
  f.mb.add("REPORT r2");
  f.mb.add("REPORT r3");
  f.mb.on_fetch = [&](std::uint32_t uid) {
    if (uid == 1) f.stop = true;
  };
  const auto s = f.poll();
  CHECK(s.stopped);
  CHECK(s.stored == 1);
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1"});
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1 $TLSRPTProcessed \\Seen"});
  CHECK(f.mb.at(2).flags.empty());
  CHECK(f.mb.at(3).flags.empty());
}

TEST_CASE("a large backlog is acknowledged in groups of batches, after the last commit of each") {
  fixture f;
  f.opts.batch_size = 1;
  f.opts.flag_groups = 2;  // 5 batches in 2 groups: 3 and 2
  for (int i = 0; i < 5; ++i) f.mb.add("REPORT r" + std::to_string(i));
  const auto s = f.poll();
  CHECK(s.stored == 5);
  CHECK(s.batches == 5);  // one transaction per batch still
  const std::vector<std::string> expected{"lock test/INBOX",
                                          "select INBOX",
                                          "search $TLSRPTProcessed $TLSRPTFailed",
                                          "fetch 1",
                                          "write 1",
                                          "fetch 2",
                                          "write 2",
                                          "fetch 3",
                                          "write 3",
                                          "add_flags 1,2,3 $TLSRPTProcessed \\Seen",
                                          "fetch 4",
                                          "write 4",
                                          "fetch 5",
                                          "write 5",
                                          "add_flags 4,5 $TLSRPTProcessed \\Seen",
                                          "unlock test/INBOX"};
  CHECK(f.log.events == expected);
}

TEST_CASE("groups with overlapped writes: a group is acknowledged after its last batch's write") {
  fixture f;
  f.opts.overlap_writes = true;
  f.opts.batch_size = 1;
  f.opts.flag_groups = 2;
  for (int i = 0; i < 5; ++i) f.mb.add("REPORT r" + std::to_string(i));
  f.mb.add("NOTREPORT");  // uid 6: groups of 3 batches, 3 + 3
  const auto s = f.poll();
  CHECK(s.stored == 5);
  CHECK(s.not_a_report == 1);
  CHECK(f.log.with("add_flags") ==
        std::vector<std::string>{"add_flags 1,2,3 $TLSRPTProcessed \\Seen",
                                 "add_flags 4,5 $TLSRPTProcessed \\Seen"});
  CHECK(f.log.first("write 3") < f.log.first("add_flags 1,2,3 $TLSRPTProcessed \\Seen"));
  CHECK(f.log.first("write 5") < f.log.first("add_flags 4,5 $TLSRPTProcessed \\Seen"));
  CHECK(f.log.with("remove_flags").empty());
  CHECK(f.mb.at(6).flags.empty());
  for (std::uint32_t uid = 1; uid <= 5; ++uid) {
    CHECK(f.mb.at(uid).flags == std::set<std::string>{processed, "\\Seen"});
  }
}

TEST_CASE("a commit failing inside a group acknowledges the committed batches, not the rest") {
  fixture f;
  f.opts.batch_size = 1;
  f.opts.flag_groups = 1;  // one group of 5 batches
  for (int i = 0; i < 5; ++i) f.mb.add("REPORT r" + std::to_string(i));
  f.st.fail_from_write = 2;  // the third batch's write fails
  CHECK_THROWS_AS(f.poll(), store::error);
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1", "write 2", "write 3"});
  CHECK(f.mb.at(1).flags == std::set<std::string>{processed, "\\Seen"});
  CHECK(f.mb.at(2).flags == std::set<std::string>{processed, "\\Seen"});
  for (std::uint32_t uid = 3; uid <= 5; ++uid) CHECK(f.mb.at(uid).flags.empty());
  CHECK(f.log.with("remove_flags").empty());
  CHECK(f.log.first("fetch 4") == -1);

  // The next pass writes only what did not commit.
  f.st.fail_from_write = SIZE_MAX;
  const auto s = f.poll();
  CHECK(s.stored == 3);
  CHECK(f.st.reports.size() == 5);
}

TEST_CASE("a batch ends early once its processed reports pass batch_bytes; a huge one goes alone") {
  fixture f;
  f.opts.batch_size = 100;
  f.opts.batch_bytes = 1;  // every message fills a batch on its own
  for (int i = 0; i < 3; ++i) f.mb.add("REPORT r" + std::to_string(i));
  const auto s = f.poll();
  CHECK(s.stored == 3);
  CHECK(s.batches == 3);
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1", "write 2", "write 3"});
  // With room for all, one batch.
  fixture g;
  g.opts.batch_size = 100;
  for (int i = 0; i < 3; ++i) g.mb.add("REPORT r" + std::to_string(i));
  CHECK(g.poll().batches == 1);
}

TEST_CASE("adjacent messages that break the connection each count one attempt per pass") {
  fixture f;
  f.opts.max_attempts = 3;
  f.opts.batch_size = 10;
  const auto a = f.mb.add("REPORT r1");
  const auto b = f.mb.add("REPORT r2");
  const auto good = f.mb.add("REPORT r3");
  // Whichever comes first breaks the connection while it is fetched.
  f.mb.on_fetch = [&](std::uint32_t uid) {
    if (uid == a || uid == b) f.mb.transient_fetch_failure = uid;
  };
  for (int pass = 0; pass < 8 && !f.mb.at(good).flags.count(processed); ++pass) {
    try {
      f.poll();
    } catch (const imap::error&) {
    }
  }
  // Never more than max_attempts for either, each quarantined, and the good one stored.
  CHECK(f.st.attempts.at(a) == 3);
  CHECK(f.st.attempts.at(b) == 3);
  CHECK(f.st.row(a)->result == store::outcome::rejected);
  CHECK(f.st.row(b)->result == store::outcome::rejected);
  CHECK(f.mb.at(good).flags.count(processed) == 1);
}

TEST_CASE("a folder another collector is polling is skipped for this pass, untouched") {
  fixture f;
  f.mb.add("REPORT r1");
  f.st.held_elsewhere = true;
  const auto s = f.poll();
  CHECK(s.locked_out);
  CHECK(s.found == 0);
  CHECK(f.log.events == std::vector<std::string>{"lock test/INBOX"});  // not even a SELECT
}

TEST_CASE("a pass holds the folder's lock from before SELECT until after the last ack") {
  fixture f;
  f.mb.add("REPORT r1");
  f.poll();
  const auto& ev = f.log.events;
  REQUIRE(ev.size() >= 3);
  CHECK(ev.front() == "lock test/INBOX");
  CHECK(ev[1] == "select INBOX");
  CHECK(ev.back() == "unlock test/INBOX");
  CHECK(f.log.with("add_flags").size() == 1);
}

TEST_CASE("with overlapped writes each batch is acknowledged only after its own write") {
  fixture f;
  f.opts.overlap_writes = true;
  f.opts.batch_size = 2;
  for (int i = 0; i < 5; ++i) f.mb.add("REPORT r" + std::to_string(i));
  const auto s = f.poll();
  CHECK(s.stored == 5);
  CHECK(s.batches == 3);
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1,2", "write 3,4", "write 5"});
  CHECK(f.log.with("add_flags") == std::vector<std::string>{"add_flags 1,2 $TLSRPTProcessed \\Seen",
                                                            "add_flags 3,4 $TLSRPTProcessed \\Seen",
                                                            "add_flags 5 $TLSRPTProcessed \\Seen"});
  // The write of a batch may run while the next one is fetched, but its acknowledgement
  // comes after it, and batches are acknowledged in order.
  CHECK(f.log.first("write 1,2") < f.log.first("add_flags 1,2"));
  CHECK(f.log.first("write 3,4") < f.log.first("add_flags 3,4"));
  CHECK(f.log.first("write 5") < f.log.first("add_flags 5"));
  CHECK(f.log.first("fetch 3") < f.log.first("add_flags 1,2"));  // fetched before batch 1 acked
  CHECK(f.log.first("add_flags 1,2") < f.log.first("add_flags 3,4"));
  for (std::uint32_t uid = 1; uid <= 5; ++uid) {
    CHECK(f.mb.at(uid).flags == std::set<std::string>{processed, "\\Seen"});
  }
}

TEST_CASE("with overlapped writes a failed commit leaves both batches in hand untouched") {
  fixture f;
  f.opts.overlap_writes = true;
  f.opts.batch_size = 2;
  f.mb.add("REPORT r1");
  f.mb.add("REPORT r2", {"\\Seen"});
  f.mb.add("REPORT r3");
  f.mb.add("REPORT r4");
  f.mb.add("REPORT r5");
  f.st.fail_writes = true;
  CHECK_THROWS_AS(f.poll(), store::error);
  CHECK(f.log.with("add_flags").empty());
  CHECK(f.st.ledger.empty());
  // No more than the batch being written and the one fetched meanwhile were fetched.
  CHECK(f.log.first("fetch 5") == -1);
  CHECK(f.mb.at(1).flags.empty());
  CHECK(f.mb.at(2).flags == std::set<std::string>{"\\Seen"});
  CHECK(f.mb.at(3).flags.empty());
  CHECK(f.mb.at(4).flags.empty());
  CHECK(f.mb.at(5).flags.empty());

  f.st.fail_writes = false;
  const auto s = f.poll();
  CHECK(s.stored == 5);
  CHECK(f.st.reports.size() == 5);
}

TEST_CASE("with overlapped writes a broken connection still acknowledges the committed batch") {
  fixture f;
  f.opts.overlap_writes = true;
  f.opts.batch_size = 2;
  for (int i = 0; i < 4; ++i) f.mb.add("REPORT r" + std::to_string(i));
  f.mb.transient_fetch_failure = 3;
  CHECK_THROWS_AS(f.poll(), imap::error);
  CHECK(f.log.with("write") == std::vector<std::string>{"write 1,2"});
  CHECK(f.log.first("write 1,2") < f.log.first("add_flags 1,2"));
  CHECK(f.mb.at(1).flags == std::set<std::string>{processed, "\\Seen"});
  CHECK(f.mb.at(2).flags == std::set<std::string>{processed, "\\Seen"});
  CHECK(f.log.with("add_flags 3").empty());
}
