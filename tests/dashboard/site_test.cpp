// SPDX-License-Identifier: Apache-2.0
// The served dashboard's request handling that needs no database: basic auth against crypt(3)
// hashes, read-only methods, query strings, and a database that cannot be reached.
#include <doctest/doctest.h>

#include "tlsrpt/dashboard/site.hpp"

namespace db = tlsrpt::dashboard;

namespace {
// `openssl passwd -6 -salt h20salt 'correct horse'`
const std::string hash =
    "$6$h20salt$a2MNodTOFQ14BdHqn7vJhWXFxMGiRYqFGBm8DQVDap8qzYt2SGUPFOVLlOhS.63l87BJrSKwZAZLO5uR1"
    "vjc81";
const std::vector<db::user> users{{"admin", hash}};

std::string header(const db::answer& a, const std::string& name) {
  for (const auto& [k, v] : a.headers)
    if (k == name) return v;
  return "";
}
}  // namespace

TEST_CASE("a crypt(3) SHA-512 hash accepts its password and nothing else") {
  CHECK(db::password_matches("correct horse", hash));
  CHECK_FALSE(db::password_matches("correct horse ", hash));
  CHECK_FALSE(db::password_matches("", hash));
  CHECK_FALSE(db::password_matches("correct horse", ""));
  CHECK_FALSE(db::password_matches("correct horse", "plain-text"));
  CHECK_FALSE(db::password_matches("correct horse", "$6$h20salt$broken"));
}

TEST_CASE("basic auth needs a listed user with the right password") {
  // base64("admin:correct horse"), base64("admin:wrong"), base64("root:correct horse")
  CHECK(db::authorized(users, "Basic YWRtaW46Y29ycmVjdCBob3JzZQ=="));
  CHECK(db::authorized(users, "basic   YWRtaW46Y29ycmVjdCBob3JzZQ== "));
  CHECK_FALSE(db::authorized(users, "Basic YWRtaW46d3Jvbmc="));
  CHECK_FALSE(db::authorized(users, "Basic cm9vdDpjb3JyZWN0IGhvcnNl"));
  CHECK_FALSE(db::authorized(users, "Bearer YWRtaW46Y29ycmVjdCBob3JzZQ=="));
  CHECK_FALSE(db::authorized(users, "Basic !!!"));
  CHECK_FALSE(db::authorized(users, "Basic YWRtaW4="));  // no colon
  CHECK_FALSE(db::authorized(users, std::nullopt));
  CHECK(db::authorized({}, std::nullopt));  // no users configured: open (loopback by default)
}

TEST_CASE("query values are percent-decoded and looked up by key") {
  CHECK(db::query_value("name=example.com&days=7", "days") == "7");
  CHECK(db::query_value("name=ex%41mple.com", "name") == "exAmple.com");
  CHECK(db::query_value("name=a+b", "name") == "a b");
  CHECK(db::query_value("name=%zz%4", "name") == "%zz%4");
  CHECK(db::query_value("flag", "flag") == "");
  CHECK_FALSE(db::query_value("days=7", "name").has_value());
}

TEST_CASE("without credentials every page answers 401 with a Basic challenge") {
  const db::site s("postgresql://127.0.0.1:1/none", {}, users);
  for (const auto& path : db::site::paths()) {
    const auto a = s.handle("GET", path, "", std::nullopt);
    CHECK(a.status == 401);
    CHECK(header(a, "WWW-Authenticate").starts_with("Basic realm="));
    CHECK(header(a, "Content-Security-Policy").find("frame-ancestors 'none'") != std::string::npos);
  }
}

TEST_CASE("the pages are read-only and say so when the database cannot be read") {
  const db::site s("postgresql://tlsrpt@127.0.0.1:1/none?connect_timeout=2", {});
  const auto post = s.handle("POST", "/", "", std::nullopt);
  CHECK(post.status == 405);
  CHECK(header(post, "Allow") == "GET, HEAD");
  const auto down = s.handle("GET", "/", "days=7", std::nullopt);
  CHECK(down.status == 503);
  CHECK(down.body.find("Database unavailable") != std::string::npos);
  CHECK(header(down, "Retry-After") == "30");
  CHECK(header(down, "X-Content-Type-Options") == "nosniff");
}
