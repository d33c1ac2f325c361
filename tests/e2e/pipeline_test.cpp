// SPDX-License-Identifier: Apache-2.0
// End to end: every real sample and 2,000 generated mails through Dovecot, `poll` and
// PostgreSQL, checked message by message from both ends.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <set>

#include "e2e.hpp"
#include "support/support.hpp"

namespace fs = std::filesystem;
using namespace tlsrpt::e2e;

namespace {

// What `tlsrpt-collector parse` says about a sample: the oracle for its ledger row.
struct expected_report {
  std::string id;
  std::int64_t successful = 0, failed = 0, policies = 0;
};
struct expected_file {
  enum { reports, not_a_report, rejected } kind = reports;
  std::vector<expected_report> found;
};

expected_file oracle(const fs::path& file) {
  const auto r = run_collector({"parse", file.string()});
  INFO("parse " << file << ": " << r.err);
  REQUIRE((r.exit_code == 0 || r.exit_code == 65));
  expected_file e;
  if (r.exit_code == 65) {
    e.kind = expected_file::rejected;
    return e;
  }
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  REQUIRE(d.IsArray());
  for (const auto& rep : d.GetArray()) {
    expected_report x;
    x.id = rep["report-id"].GetString();
    for (const auto& p : rep["policies"].GetArray()) {
      ++x.policies;
      x.successful += p["summary"]["total-successful-session-count"].GetInt64();
      x.failed += p["summary"]["total-failure-session-count"].GetInt64();
    }
    e.found.push_back(x);
  }
  if (e.found.empty()) {
    REQUIRE(r.err.find("not a report") != std::string::npos);
    e.kind = expected_file::not_a_report;
  }
  return e;
}

struct ledger_row {
  std::string outcome, error, refs;
};

std::map<std::string, ledger_row> ledger(const std::string& url, const std::string& key_column,
                                         const std::string& where) {
  std::map<std::string, ledger_row> out;
  const std::string rows =
      sql(url, "SELECT " + key_column +
                   " || chr(9) || coalesce(outcome, 'NULL') || chr(9) || "
                   "array_to_string(report_refs, ',') || chr(9) || "
                   "replace(coalesce(error, ''), chr(10), ' ') FROM tlsrpt.messages WHERE " +
                   where);
  std::istringstream in(rows);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string key;
    ledger_row r;
    std::getline(f, key, '\t');
    std::getline(f, r.outcome, '\t');
    std::getline(f, r.refs, '\t');
    std::getline(f, r.error);
    out[key] = r;
  }
  return out;
}

// The ledger row of one sample against what `parse` says of it.
void check_sample(const std::string& url, const fs::path& file, const expected_file& e,
                  const ledger_row* row) {
  INFO("sample " << file);
  REQUIRE(row != nullptr);
  switch (e.kind) {
    case expected_file::rejected:
      CHECK(row->outcome == "rejected");
      CHECK(!row->error.empty());
      return;
    case expected_file::not_a_report:
      CHECK(row->outcome == "not_a_report");
      CHECK(row->refs.empty());
      return;
    case expected_file::reports:
      break;
  }
  CHECK((row->outcome == "stored" || row->outcome == "duplicate" || row->outcome == "conflict"));
  std::vector<std::string> refs;
  std::istringstream in(row->refs);
  for (std::string r; std::getline(in, r, ',');) refs.push_back(r);
  REQUIRE(refs.size() == e.found.size());
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const std::string got =
        sql(url,
            "SELECT report_id || chr(9) || successful_sessions || chr(9) || "
            "failed_sessions || chr(9) || policy_count FROM tlsrpt.reports WHERE id = " +
                refs[i]);
    const auto& x = e.found[i];
    CHECK(got.substr(0, got.find('\t')) == x.id);
    // A conflict keeps the first version's numbers; anything else carries this sample's.
    if (row->outcome != "conflict")
      CHECK(got == x.id + "\t" + std::to_string(x.successful) + "\t" + std::to_string(x.failed) +
                       "\t" + std::to_string(x.policies));
  }
}

bool is_report_kind(const std::string& kind) { return kind != "not_a_report" && kind != "broken"; }

}  // namespace

TEST_CASE(
    "every real sample and 2,000 generated mails are stored once with their values, "
    "acknowledged with their action, and a second poll finds nothing new" *
    doctest::test_suite("corpus")) {
  TLSRPT_TEST_ONLY_ON(dovecot, "the checks read Dovecot's Maildir names (uid_names)");
  const services s = services::shared();
  database db(s);
  folder f(s, "t8", "pipeline");
  scratch_dir tmp("pipeline");

  // Generated mail: 3% ordinary mail (half of it already read), 2% broken reports.
  const fs::path gen_dir = tmp.path() / "gen";
  gen_options go;
  go.count = 2000;
  go.seed = 8;
  const gen_totals t = generate_eml(gen_dir, go);
  REQUIRE(t.messages == 2000);
  REQUIRE(t.broken > 0);
  REQUIRE(t.not_a_report > 0);
  std::set<std::string> delivered_seen;
  for (const auto& e : fs::directory_iterator(gen_dir)) {
    const std::string stem = e.path().stem().string();  // NNNNNNNN-<kind>
    const std::string base = "g" + stem;
    const bool seen = stem.find("not_a_report") != std::string::npos && stem[7] % 2 == 0;
    if (seen) delivered_seen.insert(base);
    f.deliver(base, tlsrpt::test::read_file(e.path()), seen);
  }
  REQUIRE(!delivered_seen.empty());

  // The real samples: messages go to the mailbox, bare JSON to `ingest`.
  std::map<std::string, fs::path> corpus_mail;  // Maildir base name -> sample
  std::vector<fs::path> corpus_json;
  std::map<fs::path, expected_file> expect;
  for (const auto& e : fs::recursive_directory_iterator(tlsrpt::test::corpus_dir())) {
    const std::string name = e.path().filename().string();
    const bool eml = name.ends_with(".eml");
    if (!eml && !name.ends_with(".json") && !name.ends_with(".json.gz")) continue;
    expect[e.path()] = oracle(e.path());
    if (eml) {
      const std::string base = "c" + std::to_string(corpus_mail.size());
      corpus_mail[base] = e.path();
      f.deliver(base, tlsrpt::test::read_file(e.path()));
    } else {
      corpus_json.push_back(e.path());
    }
  }
  REQUIRE(corpus_mail.size() >= 10);
  REQUIRE(corpus_json.size() >= 10);

  const fs::path cfg = write_config(tmp.path(), s, db, f, "e2e");
  const auto first = run_collector({"-c", cfg.string(), "poll"});
  INFO("first poll: " << first.err.substr(first.err.size() > 4000 ? first.err.size() - 4000 : 0));
  REQUIRE(first.exit_code == 0);

  // Message by message, from the mailbox and the ledger.
  const auto names = f.uid_names();
  REQUIRE(names.size() == static_cast<std::size_t>(t.messages) + corpus_mail.size());
  const auto processed = f.search("KEYWORD $TLSRPTProcessed");
  const auto failed = f.search("KEYWORD $TLSRPTFailed");
  const auto seen = f.search("SEEN");
  const auto in = [](const std::vector<std::uint32_t>& v, std::uint32_t u) {
    return std::binary_search(v.begin(), v.end(), u);
  };
  const auto rows = ledger(db.url(), "uid::text", "source = 'e2e'");
  REQUIRE(rows.size() == names.size());
  std::vector<std::string> generated_uids;
  for (const auto& [uid, base] : names) {
    INFO("UID " << uid << " = " << base);
    const auto row = rows.find(std::to_string(uid));
    REQUIRE(row != rows.end());
    if (base.starts_with("g")) {
      generated_uids.push_back(std::to_string(uid));
      const std::string kind = base.substr(10);
      if (is_report_kind(kind)) {
        CHECK(row->second.outcome == "stored");
        CHECK(in(processed, uid));
        CHECK(in(seen, uid));
        CHECK(!in(failed, uid));
      } else if (kind == "broken") {
        CHECK(row->second.outcome == "rejected");
        CHECK(row->second.error.find("mime") != std::string::npos);
        CHECK(in(failed, uid));
        CHECK(!in(processed, uid));
      } else {
        REQUIRE(kind == "not_a_report");
        CHECK(row->second.outcome == "not_a_report");
        CHECK(!in(processed, uid));
        CHECK(!in(failed, uid));
        CHECK(in(seen, uid) == delivered_seen.contains(base));
      }
    } else {
      const auto& sample = corpus_mail.at(base);
      const auto& e = expect.at(sample);
      check_sample(db.url(), sample, e, &row->second);
      CHECK(in(processed, uid) == (e.kind == expected_file::reports));
      CHECK(in(failed, uid) == (e.kind == expected_file::rejected));
      if (e.kind == expected_file::not_a_report) CHECK(!in(seen, uid));
    }
  }

  // The generated reports add up to the generator's totals, exactly.
  const std::string gen_reports =
      "FROM tlsrpt.reports WHERE id IN (SELECT unnest(report_refs) FROM tlsrpt.messages "
      "WHERE source = 'e2e' AND uid IN (" +
      [&] {
        std::string l;
        for (const auto& u : generated_uids) l += (l.empty() ? "" : ",") + u;
        return l;
      }() +
      "))";
  CHECK(sql_int(db.url(), "SELECT count(*) " + gen_reports) == t.reports);
  CHECK(sql_int(db.url(), "SELECT sum(policy_count) " + gen_reports) == t.policies);
  CHECK(sql_int(db.url(), "SELECT sum(successful_sessions) " + gen_reports) ==
        t.successful_sessions);
  CHECK(sql_int(db.url(), "SELECT sum(failed_sessions) " + gen_reports) == t.failed_sessions);
  CHECK(sql_int(db.url(),
                "SELECT count(*) FROM tlsrpt.failure_details WHERE report_ref IN "
                "(SELECT id " +
                    gen_reports + ")") == t.failure_details);

  // The bare JSON samples through `ingest`, into the same store and identity rules.
  std::vector<std::string> args = {"-c", cfg.string(), "ingest"};
  bool any_rejected = false;
  for (const auto& p : corpus_json) {
    args.push_back(p.string());
    any_rejected = any_rejected || expect.at(p).kind == expected_file::rejected;
  }
  const auto ingest = run_collector(args);
  INFO("ingest: " << ingest.err);
  CHECK(ingest.exit_code == (any_rejected ? 65 : 0));
  const auto file_rows = ledger(db.url(), "folder", "source = 'file'");
  for (const auto& p : corpus_json) {
    const auto row = file_rows.find(p.string());
    check_sample(db.url(), p, expect.at(p), row == file_rows.end() ? nullptr : &row->second);
  }

  // Nothing is counted twice: a report row per distinct identity, whatever the number of
  // messages that carried it.
  const std::int64_t reports = sql_int(db.url(), "SELECT count(*) FROM tlsrpt.reports");
  CHECK(reports == sql_int(db.url(),
                           "SELECT count(DISTINCT r) FROM tlsrpt.messages, "
                           "unnest(report_refs) r"));
  CHECK(reports == sql_int(db.url(),
                           "SELECT count(*) FROM tlsrpt.messages WHERE outcome = "
                           "'stored'"));

  // The second pass: nothing new, nothing stored, nothing changed in the mailbox.
  const std::int64_t ledger_rows = sql_int(db.url(), "SELECT count(*) FROM tlsrpt.messages");
  const auto second = run_collector({"-c", cfg.string(), "poll"});
  INFO("second poll: " << second.err);
  CHECK(second.exit_code == 0);
  CHECK(second.err.find("nothing new") != std::string::npos);
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.reports") == reports);
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.messages") == ledger_rows);
  CHECK(f.search("KEYWORD $TLSRPTProcessed") == processed);
  CHECK(f.search("KEYWORD $TLSRPTFailed") == failed);
  CHECK(f.search("SEEN") == seen);
}
