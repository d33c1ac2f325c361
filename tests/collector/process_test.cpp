// SPDX-License-Identifier: Apache-2.0
// One message through the real extraction and parser: how their outcomes map onto what the
// store records. Messages are the project's own, in tests/data/collector.
#include <doctest/doctest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "collector/fakes.hpp"
#include "support/support.hpp"
#include "tlsrpt/mime/extract.hpp"

using namespace tlsrpt;
using tlsrpt::test::event_log;
using tlsrpt::test::fake_store;

namespace {

std::string sample(const std::string& name) {
  return test::read_file(test::data_dir() / "collector" / name);
}

store::message_key imap_key(std::uint32_t uid) {
  return store::message_key{"main", "INBOX", 7u, uid, ""};
}

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("collector-process-test",
                                          std::make_shared<spdlog::sinks::null_sink_mt>());
}

}  // namespace

TEST_CASE("a report message becomes a stored input with its parsed report and facts") {
  const std::string raw = sample("report.eml");
  const auto in = collector::process_message(raw, imap_key(3));
  REQUIRE(in.kind == store::outcome::stored);
  CHECK(in.error.empty());
  REQUIRE(in.reports.size() == 1);
  CHECK(in.reports[0].parsed.report_id == "collector-sample-1");
  CHECK(in.reports[0].parsed.organization_name == "Example Mail Org");
  REQUIRE(in.reports[0].parsed.policies.size() == 1);
  CHECK(in.reports[0].parsed.policies[0].total_successful_session_count == 12);
  CHECK(in.reports[0].raw_json.find("\"report-id\":\"collector-sample-1\"") != std::string::npos);

  CHECK(in.facts.key.source == "main");
  CHECK(in.facts.key.uid == 3u);
  CHECK(in.facts.key.sha256 == mime::sha256_hex(raw));
  CHECK(in.facts.key.sha256.size() == 64);
  CHECK(in.facts.size == raw.size());
  CHECK(in.facts.message_id == "collector-sample-1@mail.example.net");
  CHECK(in.facts.from == "noreply-tlsrpt@mail.example.net");
  // RFC 8460 §5.3: the submitter header wins over the From domain.
  CHECK(in.facts.submitter == "reports.example.net");
  CHECK(in.facts.subject.has_value());
}

TEST_CASE("without TLS-Report-Submitter the submitter is the From domain") {
  const auto in = collector::process_message(sample("report-without-submitter.eml"), imap_key(1));
  REQUIRE(in.kind == store::outcome::stored);
  CHECK(in.facts.submitter == "relay.example.com");
}

TEST_CASE("ordinary mail becomes not_a_report with a reason") {
  const auto in = collector::process_message(sample("not-a-report.eml"), imap_key(1));
  CHECK(in.kind == store::outcome::not_a_report);
  CHECK_FALSE(in.error.empty());
  CHECK(in.reports.empty());
  CHECK(in.facts.message_id == "lunch@example.com");
}

TEST_CASE("a report that does not parse is rejected with the parser's exact error") {
  const auto in = collector::process_message(sample("bad-report.eml"), imap_key(1));
  REQUIRE(in.kind == store::outcome::rejected);
  CHECK(in.reports.empty());
  CHECK(in.error.rfind("report: policies[0].summary.total-successful-session-count", 0) == 0);
}

TEST_CASE("a message with one bad report among several is rejected as a whole") {
  const auto in = collector::process_message(sample("two-reports-one-bad.eml"), imap_key(1));
  REQUIRE(in.kind == store::outcome::rejected);
  CHECK(in.reports.empty());
  CHECK(in.error.rfind("report 2 of 2: report: policies[0].summary", 0) == 0);
}

TEST_CASE("a truncated gzip report part is rejected with a mime error") {
  // A good sample mutated: its report gzipped (60 of 370 bytes kept) and base64-encoded.
  std::string raw = sample("report.eml");
  const std::string cut_gzip_b64 =
      "H4sIAAAAAAACA3WSTWvDMAyG7/sVwec6JNlW1px22XHs0J46yjC2mhn8ESylpCv775OTtoeWEUPs6LH0";
  const auto at = raw.find("Content-Type: application/tlsrpt+json");
  REQUIRE(at != std::string::npos);
  raw = raw.substr(0, at) +
        "Content-Type: application/tlsrpt+gzip\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=\"r.json.gz\"\n\n" +
        cut_gzip_b64 + "\n--b1--\n";
  const auto in = collector::process_message(raw, imap_key(1));
  REQUIRE(in.kind == store::outcome::rejected);
  CHECK(in.reports.empty());
  CHECK(in.error.rfind("mime: ", 0) == 0);
}

TEST_CASE("ingest of a bare JSON file stores it, and a second ingest finds a duplicate") {
  event_log log;
  fake_store st(log);
  const std::string json = sample("report.json");
  const auto first = collector::ingest_message(
      json, store::message_key{"file", "report.json", std::nullopt, std::nullopt, ""}, st, {},
      quiet());
  CHECK(first.result == store::outcome::stored);
  CHECK(first.report_names == std::vector<std::string>{"collector-sample-1"});
  CHECK(first.report_ids == std::vector<std::int64_t>{1});
  REQUIRE(st.written.size() == 1);
  CHECK(st.written[0].facts.key.sha256 == mime::sha256_hex(json));

  const auto second = collector::ingest_message(
      json, store::message_key{"stdin", "", std::nullopt, std::nullopt, ""}, st, {}, quiet());
  CHECK(second.result == store::outcome::duplicate);
}

TEST_CASE("ingest of a broken report says rejected with the error") {
  event_log log;
  fake_store st(log);
  const auto r = collector::ingest_message(
      sample("bad-report.eml"), store::message_key{"stdin", "", std::nullopt, std::nullopt, ""}, st,
      {}, quiet());
  CHECK(r.result == store::outcome::rejected);
  CHECK(r.error.rfind("report: ", 0) == 0);
}

TEST_CASE("ingest with the database down throws the store's error") {
  event_log log;
  fake_store st(log);
  st.fail_writes = true;
  CHECK_THROWS_AS(
      collector::ingest_message(sample("report.eml"), store::message_key{"stdin", "", {}, {}, ""},
                                st, {}, quiet()),
      store::error);
}

TEST_CASE("a pass with the real pipeline stores the report and leaves ordinary mail alone") {
  event_log log;
  test::fake_mailbox mb(log);
  fake_store st(log);
  const auto report = mb.add(sample("report.eml"));
  const auto lunch = mb.add(sample("not-a-report.eml"));
  const auto bad = mb.add(sample("bad-report.eml"));
  collector::mailbox_options opts;
  opts.name = "test";
  std::atomic<bool> stop{false};
  const auto s = collector::poll_mailbox(mb, st, opts, stop, quiet());
  CHECK(s.stored == 1);
  CHECK(s.not_a_report == 1);
  CHECK(s.rejected == 1);
  CHECK(mb.at(report).flags == std::set<std::string>{"$TLSRPTProcessed", "\\Seen"});
  CHECK(mb.at(lunch).flags.empty());
  CHECK(mb.at(bad).flags.count("$TLSRPTFailed") == 1);
  REQUIRE(st.row(bad) != nullptr);
  CHECK(st.row(bad)->error.rfind("report: ", 0) == 0);
}
