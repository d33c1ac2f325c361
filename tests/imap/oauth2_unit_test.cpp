// SPDX-License-Identifier: Apache-2.0
// The token endpoint's text and the token bookkeeping, checked without a server.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "support/support.hpp"
#include "tlsrpt/imap/oauth2.hpp"

namespace d = tlsrpt::imap::detail;
using namespace std::chrono_literals;

TEST_CASE("a token reply is read with its lifetime, and unknown members are skipped") {
  const auto r = d::parse_token_reply(
      R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,)"
      R"("scope":["a",{"b":[1,2.5e3,true,null]}],"access_token":"eyJ0\u0065st\/x"})");
  CHECK(r.access_token == "eyJ0est/x");
  CHECK(r.token_type == "Bearer");
  REQUIRE(r.expires_in);
  CHECK(*r.expires_in == 3599);
  CHECK(r.refresh_token.empty());
}

TEST_CASE("Azure AD v1.0's expires_in as a string is a lifetime too") {
  const auto r = d::parse_token_reply(R"( {"access_token":"t","expires_in":"3600"} )");
  REQUIRE(r.expires_in);
  CHECK(*r.expires_in == 3600);
}

TEST_CASE("an error reply keeps the provider's code and description") {
  const auto r = d::parse_token_reply(
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret\n\u00e9\ud83d\ude00"})");
  CHECK(r.error == "invalid_client");
  CHECK(r.error_description == "AADSTS7000215: Invalid client secret\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(d::printable(r.error_description) ==
        "AADSTS7000215: Invalid client secret\\x0a\xc3\xa9\xf0\x9f\x98\x80");
}

TEST_CASE("a reply that is not one JSON object is refused") {
  for (const char* bad :
       {"", "[]", "{", R"({"access_token":"t")", R"({"access_token":"t"} x)",
        R"({"access_token":"a\qb"})", R"({"expires_in":-5})", R"({"expires_in":"soon"})",
        R"({"access_token":"\ud800"})", "<html>Service Unavailable</html>"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(d::parse_token_reply(bad), std::invalid_argument);
  }
  std::string deep = R"({"x":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  CHECK_THROWS_AS(d::parse_token_reply(deep), std::invalid_argument);
}

TEST_CASE("form values are percent-encoded, spaces as plus") {
  CHECK(d::form_encode("https://outlook.office365.com/.default offline_access") ==
        "https%3A%2F%2Foutlook.office365.com%2F.default+offline_access");
  CHECK(d::form_encode("a&b=c+d") == "a%26b%3Dc%2Bd");
}

TEST_CASE("a token is renewed five minutes before it expires, or half way for short ones") {
  const auto t0 = std::chrono::steady_clock::time_point{};
  CHECK(d::renew_at(t0, 3600s) == t0 + 3300s);
  CHECK(d::renew_at(t0, 120s) == t0 + 60s);
  CHECK(d::renew_at(t0, 0s) == t0);
}

TEST_CASE("printable bounds what it keeps") {
  const std::string long_text(1000, 'a');
  CHECK(d::printable(long_text, 10) == "aaaaaaaaaa...");
}

TEST_CASE("a file written atomically replaces the old one with mode 0600") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("oauth2-unit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto p = dir / "refresh-token";
  tlsrpt::test::write_file(p, "old\n");
  std::filesystem::permissions(p, std::filesystem::perms::all);
  d::write_file_atomically(p, "new\n");
  CHECK(tlsrpt::test::read_file(p) == "new\n");
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Nothing left behind but the file itself.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  CHECK(entries == 1);
  CHECK_THROWS_AS(d::write_file_atomically(dir / "missing-dir" / "f", "x"), std::system_error);
  std::filesystem::remove_all(dir);
}
