// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include "tlsrpt/store/pg_store.hpp"

namespace st = tlsrpt::store;

TEST_CASE("sha256_hex matches the FIPS 180-4 test vectors") {
  CHECK(st::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(st::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(st::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(st::sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("the reporter is the organization, else the contact, else the submitter") {
  tlsrpt::report::report r;
  r.organization_name = "Google Inc.";
  r.contact_info = "smtp-tls-reporting@google.com";
  CHECK(st::reporter_of(r, "google.com") == "Google Inc.");
  r.organization_name.clear();
  CHECK(st::reporter_of(r, "google.com") == "smtp-tls-reporting@google.com");
  r.contact_info.reset();
  CHECK(st::reporter_of(r, "mail.example.net") == "mail.example.net");
  CHECK(st::reporter_of(r, std::nullopt).empty());
}

TEST_CASE("the content digest ignores warnings but sees every counted value") {
  tlsrpt::report::report r;
  r.organization_name = "Org";
  r.report_id = "1";
  tlsrpt::report::policy p;
  p.type_raw = "sts";
  p.policy_domain = "example.com";
  p.total_successful_session_count = 10;
  r.policies.push_back(p);
  const std::string base = st::content_digest(r);
  CHECK(base.size() == 64);

  auto warned = r;
  warned.warnings.push_back("policies[0]: something tolerated");
  CHECK(st::content_digest(warned) == base);

  auto more = r;
  more.policies[0].total_successful_session_count = 11;
  CHECK(st::content_digest(more) != base);

  auto no_domain = r;
  no_domain.policies[0].policy_domain.reset();
  CHECK(st::content_digest(no_domain) != base);

  // Field boundaries are unambiguous: moving a character between fields changes the digest.
  auto a = r;
  a.organization_name = "Or";
  a.report_id = "g1";
  CHECK(st::content_digest(a) != base);
}
