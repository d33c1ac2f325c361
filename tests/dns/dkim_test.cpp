// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dns/dkim.hpp"

#include <doctest/doctest.h>

#include "dns/local_dns.hpp"

using namespace tlsrpt;
using tlsrpt::test::shared_dns;

namespace {

dns::dkim_verdict verify(const std::string& mail,
                         std::optional<std::string_view> submitter = "reporter.example") {
  dns::resolver r(shared_dns().options());
  dns::dkim_verifier v(r);
  return v.verify(shared_dns().mail(mail), submitter);
}

}  // namespace

TEST_CASE("a good signature from the submitter's domain passes") {
  const auto v = verify("good.eml");
  CHECK(v.result == dns::dkim_result::pass);
  CHECK(v.domain == "reporter.example");
  REQUIRE(v.signatures.size() == 1);
  CHECK(v.signatures[0].aligned);
  CHECK(v.signatures[0].selector == "r1");
}

TEST_CASE("the same mail with bare LF line ends (a file) still passes") {
  CHECK(verify("lf-line-ends.eml").result == dns::dkim_result::pass);
}

TEST_CASE("a body altered after signing fails") {
  const auto v = verify("body-altered.eml");
  CHECK(v.result == dns::dkim_result::fail);
  CHECK(v.domain == "reporter.example");
  CHECK(v.detail.find("body hash") != std::string::npos);
}

TEST_CASE("a signed header altered after signing fails") {
  const auto v = verify("header-altered.eml");
  CHECK(v.result == dns::dkim_result::fail);
  CHECK(v.domain == "reporter.example");
}

TEST_CASE("a signature made with another key than the one published fails") {
  CHECK(verify("wrong-key.eml").result == dns::dkim_result::fail);
}

TEST_CASE("a selector without a key record is a permerror") {
  const auto v = verify("no-key.eml");
  CHECK(v.result == dns::dkim_result::permerror);
  CHECK(v.detail == "no key record at gone._domainkey.reporter.example");
}

TEST_CASE("a key for s=email only does not allow the tlsrpt service") {
  const auto v = verify("email-only.eml");
  CHECK(v.result == dns::dkim_result::permerror);
  REQUIRE(v.signatures.size() == 1);
  CHECK_FALSE(v.signatures[0].key_allows_tlsrpt);
  CHECK(v.detail.find("tlsrpt service") != std::string::npos);
}

TEST_CASE("a key for s=email:tlsrpt passes (libopendkim alone would refuse it)") {
  const auto v = verify("tlsrpt-service.eml");
  CHECK(v.result == dns::dkim_result::pass);
  REQUIRE(v.signatures.size() == 1);
  CHECK(v.signatures[0].key_allows_tlsrpt);
}

TEST_CASE("of two signatures, one bad and one good, the good one decides") {
  const auto v = verify("two-signatures.eml");
  CHECK(v.result == dns::dkim_result::pass);
  REQUIRE(v.signatures.size() == 2);
  int passed = 0;
  int failed = 0;
  for (const auto& s : v.signatures) {
    passed += s.result == dns::dkim_result::pass;
    failed += s.result == dns::dkim_result::fail;
  }
  CHECK(passed == 1);
  CHECK(failed == 1);
}

TEST_CASE("a valid signature from a domain other than the submitter's fails") {
  const auto v = verify("unaligned.eml");
  CHECK(v.result == dns::dkim_result::fail);
  CHECK(v.domain == "other.example");
  CHECK(v.detail.find("not the submitter's domain reporter.example") != std::string::npos);
  CHECK(verify("good.eml", std::nullopt).result == dns::dkim_result::fail);
}

TEST_CASE("a mail without a signature is none") {
  const auto v = verify("unsigned.eml");
  CHECK(v.result == dns::dkim_result::none);
  CHECK_FALSE(v.domain);
  CHECK(v.signatures.empty());
}

TEST_CASE("a key from the signed zone passes, one that fails DNSSEC is a temperror") {
  CHECK(verify("secure.eml", "signed.example").result == dns::dkim_result::pass);
  const auto v = verify("bogus.eml", "bogus.example");
  CHECK(v.result == dns::dkim_result::temperror);
  CHECK(v.detail.find("DNSSEC") != std::string::npos);
}

TEST_CASE("a DNS server that does not answer is a temperror") {
  auto o = shared_dns().options();
  o.servers = {shared_dns().black_hole()};
  o.timeout = std::chrono::milliseconds(500);
  dns::resolver r(o);
  dns::dkim_verifier v(r);
  const auto d = v.verify(shared_dns().mail("good.eml"), "reporter.example");
  CHECK(d.result == dns::dkim_result::temperror);
  CHECK(d.detail.find("no answer within 500 ms") != std::string::npos);
}

TEST_CASE("garbage and truncated mail never throws") {
  dns::resolver r(shared_dns().options());
  dns::dkim_verifier v(r);
  const std::string good = shared_dns().mail("good.eml");
  CHECK(v.verify("", "reporter.example").result == dns::dkim_result::none);
  CHECK(v.verify("not a mail at all", "reporter.example").result == dns::dkim_result::none);
  const auto t = v.verify(good.substr(0, 300), "reporter.example");
  CHECK(t.result != dns::dkim_result::pass);
}

TEST_CASE("alignment is equality or a subdomain either way, never a bare TLD") {
  CHECK(dns::domains_aligned("Example.org", "example.ORG."));
  CHECK(dns::domains_aligned("example.org", "reports.example.org"));
  CHECK(dns::domains_aligned("mail.example.org", "example.org"));
  CHECK_FALSE(dns::domains_aligned("example.org", "badexample.org"));
  CHECK_FALSE(dns::domains_aligned("org", "example.org"));
  CHECK_FALSE(dns::domains_aligned("", "example.org"));
}

TEST_CASE("s= names services separated by colons; absent means all") {
  CHECK(dns::service_allows_tlsrpt("v=DKIM1; p=abc"));
  CHECK(dns::service_allows_tlsrpt("v=DKIM1; s=*; p=abc"));
  CHECK(dns::service_allows_tlsrpt("v=DKIM1; s = email : TLSRPT ; p=abc"));
  CHECK_FALSE(dns::service_allows_tlsrpt("v=DKIM1; s=email; p=abc"));
}
