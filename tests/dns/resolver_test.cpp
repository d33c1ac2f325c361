// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dns/resolver.hpp"

#include <doctest/doctest.h>

#include "dns/local_dns.hpp"
#include "tlsrpt/dns/records.hpp"

using namespace tlsrpt;
using tlsrpt::test::shared_dns;

TEST_CASE("an answer from a zone without a trust anchor is insecure") {
  dns::resolver r(shared_dns().options());
  CHECK(r.validating());
  const auto a = r.query("r1._domainkey.reporter.example", dns::rr_type::txt);
  CHECK(a.rcode == 0);
  CHECK(a.sec == dns::security::insecure);
  REQUIRE(a.rdata.size() == 1);
  CHECK(dns::txt_joined(a.rdata[0]).starts_with("v=DKIM1; k=rsa; p=MII"));
  CHECK(dns::txt_strings(a.rdata[0]).size() > 1);  // a 2048-bit key needs several strings
}

TEST_CASE("an answer from the signed zone validates as secure") {
  dns::resolver r(shared_dns().options());
  const auto a = r.query("www.signed.example", dns::rr_type::a);
  CHECK(a.sec == dns::security::secure);
  CHECK(a.usable());
  REQUIRE(a.rdata.size() == 1);
  CHECK(dns::decode_address(a.rdata[0]) == "192.0.2.10");
}

TEST_CASE("a name the signed zone does not have is a secure NXDOMAIN") {
  dns::resolver r(shared_dns().options());
  const auto a = r.query("nothing-here.signed.example", dns::rr_type::a);
  CHECK(a.nxdomain);
  CHECK(a.rdata.empty());
  CHECK(a.sec == dns::security::secure);
  CHECK(a.usable());
}

TEST_CASE("a record changed after signing is bogus and not usable") {
  dns::resolver r(shared_dns().options());
  const auto a = r.query("www.bogus.example", dns::rr_type::a);
  CHECK(a.sec == dns::security::bogus);
  CHECK_FALSE(a.usable());
  CHECK_FALSE(a.why_bogus.empty());
}

TEST_CASE("without a trust anchor nothing is validated and the signed zone reads insecure") {
  auto o = shared_dns().options();
  o.trust_anchor = "";
  dns::resolver r(o);
  CHECK_FALSE(r.validating());
  const auto a = r.query("www.signed.example", dns::rr_type::a);
  CHECK(a.sec == dns::security::insecure);
  const auto b = r.query("www.bogus.example", dns::rr_type::a);
  CHECK(b.sec == dns::security::insecure);  // no validation: the tampering goes unseen
  REQUIRE(b.rdata.size() == 1);
  CHECK(dns::decode_address(b.rdata[0]) == "192.0.2.21");
}

TEST_CASE("a server that never answers is a transient error after the timeout") {
  auto o = shared_dns().options();
  o.servers = {shared_dns().black_hole()};
  o.timeout = std::chrono::milliseconds(500);
  dns::resolver r(o);
  try {
    (void)r.query("r1._domainkey.reporter.example", dns::rr_type::txt);
    FAIL("no error");
  } catch (const dns::error& e) {
    CHECK(e.transient());
    CHECK(std::string(e.what()) ==
          "dns: cannot resolve r1._domainkey.reporter.example TXT: no answer within 500 ms");
  }
}

TEST_CASE("a name with bytes no host name has is refused before any query") {
  dns::resolver r(shared_dns().options());
  CHECK_THROWS_AS((void)r.query("bad name.example", dns::rr_type::txt), dns::error);
  CHECK_FALSE(dns::valid_query_name(""));
  CHECK_FALSE(dns::valid_query_name("a..b"));
  CHECK_FALSE(dns::valid_query_name(std::string(64, 'a') + ".example"));
  CHECK(dns::valid_query_name("_smtp._tls.example.org."));
}

TEST_CASE("server addresses are host:port, [v6]:port or a bare host on port 53") {
  CHECK(dns::forwarder_address("127.0.0.1:5353") == "127.0.0.1@5353");
  CHECK(dns::forwarder_address("127.0.0.1") == "127.0.0.1@53");
  CHECK(dns::forwarder_address("[::1]:53") == "::1@53");
  CHECK(dns::forwarder_address("::1") == "::1@53");
  CHECK_THROWS_AS(dns::forwarder_address("127.0.0.1:0"), std::invalid_argument);
  CHECK_THROWS_AS(dns::forwarder_address("127.0.0.1:x"), std::invalid_argument);
  CHECK_THROWS_AS(dns::forwarder_address("[::1"), std::invalid_argument);
  dns::options o;
  o.servers = {"127.0.0.1:99999"};
  CHECK_THROWS_AS(dns::resolver{o}, dns::error);
}

TEST_CASE("an unreadable trust anchor is a configuration error") {
  auto o = shared_dns().options();
  o.trust_anchor = "/nonexistent/anchor.ds";
  CHECK_THROWS_AS(dns::resolver{o}, dns::error);
}
