// SPDX-License-Identifier: Apache-2.0
// The fast MIME walker against GMime's, and the bound on MIME nesting (issue 9, issue 4).
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "helpers.hpp"
#include "support/support.hpp"
#include "tlsrpt/mime/extract.hpp"
#ifdef TLSRPT_HAVE_BENCH_GEN
#include "gen/generator.hpp"
#endif

namespace {

namespace mime = tlsrpt::mime;
namespace h = tlsrpt::test::mime;

std::string good_mail() {
  return tlsrpt::test::read_file(tlsrpt::test::data_dir() /
                                 "mail/inbox-example.com-2026-11-02.eml");
}

// `levels` multiparts, each the only part of the one around it, with the report at the bottom.
std::string nested_mail(std::size_t levels) {
  std::string m =
      "From: a@example.com\nTLS-Report-Domain: example.com\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"b0\"\n\n";
  // append() rather than operator+: GCC 12 at -O3 warns falsely (-Wrestrict) on the latter.
  for (std::size_t i = 0; i < levels; ++i) {
    m.append("--b").append(std::to_string(i));
    m.append("\nContent-Type: multipart/mixed; boundary=\"b").append(std::to_string(i + 1));
    m.append("\"\n\n");
  }
  const std::string inner = std::to_string(levels);
  m.append("--b").append(inner).append("\nContent-Type: application/tlsrpt+json\n\n");
  m.append(h::sample_json("deep")).append("\n--b").append(inner).append("--\n");
  for (std::size_t i = levels; i-- > 0;) m.append("--b").append(std::to_string(i)).append("--\n");
  return m;
}

}  // namespace

TEST_CASE("the fast walker reads every corpus report mail and agrees with GMime on all of them" *
          doctest::test_suite("corpus")) {
  std::size_t fast = 0, total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tlsrpt::test::corpus_dir())) {
    if (e.path().extension() != ".eml") continue;
    const std::string m = tlsrpt::test::read_file(e.path());
    h::extract(m);  // checks both walkers give the same extraction
    ++total;
    if (h::fast_path_taken(m)) ++fast;
  }
  CHECK(total >= 15);
  // Every corpus mail is well-formed enough for the fast walker; GMime is the safety net.
  CHECK(fast == total);
}

TEST_CASE("what the fast walker does not understand goes to GMime with the same result") {
  const std::string good = good_mail();
  // Each mutation leaves a readable report but uses a form the fast walker leaves to GMime.
  const std::string boundary_at = "--000000000000";
  const std::vector<std::pair<std::string, std::string>> swaps = {
      {"Content-Type: application/tlsrpt+gzip;", "Content-Type: application/tlsrpt+gzip (c);"},
      {"filename=\"", "filename*=\"'"},
      {"Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: base64 (comment)"},
  };
  for (const auto& [from, to] : swaps) {
    std::string m = good;
    const auto at = m.find(from);
    REQUIRE(at != std::string::npos);
    m.replace(at, from.size(), to);
    CAPTURE(to);
    CHECK_FALSE(h::fast_path_taken(m));
    h::extract(m);
  }
  // A report forwarded as message/rfc822 is always GMime's.
  std::string fwd =
      "From: fwd@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"f\"\n\n"
      "--f\nContent-Type: text/plain\n\nsee attached\n--f\nContent-Type: message/rfc822\n\n";
  fwd.append(good).append("\n--f--\n");
  CHECK_FALSE(h::fast_path_taken(fwd));
  CHECK(h::extract(fwd).kind == mime::outcome::reports_found);
  // A line that starts like the boundary but is not one.
  std::string odd = h::report_mail("application/tlsrpt+json", "r.json", "", h::sample_json("x"));
  odd.insert(odd.find("A TLS report."), "--bogus line\n");
  CHECK_FALSE(h::fast_path_taken(odd));
  CHECK(h::extract(odd).kind == mime::outcome::reports_found);
}

TEST_CASE("nested multiparts within the fast walker's depth are read by it") {
  const std::string m = nested_mail(5);
  CHECK(h::fast_path_taken(m));
  const auto x = h::extract(m);
  REQUIRE(x.kind == mime::outcome::reports_found);
  CHECK(x.reports[0].json == h::sample_json("deep"));
}

TEST_CASE("nesting deeper than the fast walker's depth but within GMime's bound is GMime's") {
  const std::string m = nested_mail(20);
  CHECK_FALSE(h::fast_path_taken(m));
  const auto x = h::extract(m);
  CHECK(x.kind == mime::outcome::reports_found);
}

TEST_CASE("100,000 nested multiparts are a broken report, quickly and without a crash") {
  const std::string m = nested_mail(100'000);
  REQUIRE(m.size() < mime::limits{}.max_message_bytes);
  const auto t0 = std::chrono::steady_clock::now();
  const auto x = mime::extract(m);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason == "cannot parse message: MIME parts nested deeper than 64 levels");
  // A bound, not a benchmark: the pre-scan stops at the limit (milliseconds in practice).
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("100,000 nested multiparts that never close are a broken report too") {
  std::string m = "From: a@example.com\nContent-Type: multipart/mixed; boundary=\"x\"\n\n";
  for (int i = 0; i < 100'000; ++i)
    m.append("--x\nContent-Type: multipart/mixed; boundary=\"x\"\n\n");
  const auto x = mime::extract(m);
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason.find("nested deeper than") != std::string::npos);
}

#ifdef TLSRPT_HAVE_BENCH_GEN
TEST_CASE("the fast walker reads the benchmark corpus and agrees with GMime on every mail") {
  tlsrpt::bench::gen_options opt;
  opt.seed = 7;
  opt.not_a_report_fraction = 0.1;
  opt.broken_fraction = 0.05;
  std::size_t fast = 0;
  const std::size_t n = 600;
  for (std::size_t i = 0; i < n; ++i) {
    const auto g = tlsrpt::bench::generate(opt, i);
    CAPTURE(i);
    const auto x = h::extract(g.bytes);
    if (g.kind != tlsrpt::bench::mail_kind::not_a_report &&
        g.kind != tlsrpt::bench::mail_kind::broken) {
      REQUIRE(x.kind == mime::outcome::reports_found);
      // A 7bit JSON part keeps the line break that ends its last line.
      std::string json = x.reports.at(0).json;
      while (!json.empty() && (json.back() == '\n' || json.back() == '\r')) json.pop_back();
      CHECK(json == g.json);
    }
    if (h::fast_path_taken(g.bytes)) ++fast;
  }
  CHECK(fast == n);
}
#endif
