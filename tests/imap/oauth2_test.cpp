// SPDX-License-Identifier: Apache-2.0
// OAuth2 tokens against the harness: the token service of scripts/services.sh issues them
// (tests/harness/oauth2_server.py) and the real Dovecot checks every login with it by token
// introspection (its oauth2 passdb), as user `oauth`, who has no password.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "support/support.hpp"
#include "tlsrpt/imap/curl_mailbox.hpp"
#include "tlsrpt/imap/oauth2.hpp"

namespace {

using namespace std::chrono_literals;
using tlsrpt::imap::oauth2_error;
using tlsrpt::imap::oauth2_options;
using tlsrpt::imap::token_source;
using tlsrpt::test::require_env;

const tlsrpt::imap::library curl_library;

std::string oauth_url() { return require_env("TLSRPT_TEST_OAUTH_URL"); }

// A client of its own for each test case, so counts start at zero.
std::string unique_client(const std::string& stem) {
  static std::atomic<int> counter{0};
  return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::string admin(const std::string& what, const std::string& json) {
  const auto r = tlsrpt::test::run("curl -sS -X POST --data-binary '" + json + "' " + oauth_url() +
                                   "/admin/" + what);
  REQUIRE_MESSAGE(r.status == 0, r.out);
  return r.out;
}

void register_client(const std::string& id, int expires_in, const std::string& refresh = "",
                     bool rotate = false) {
  const auto out =
      admin("client", R"({"client_id":")" + id + R"(","client_secret":"s3cret","username":")" +
                          require_env("TLSRPT_TEST_OAUTH_USER") + R"(","expires_in":)" +
                          std::to_string(expires_in) + R"(,"refresh_token":")" + refresh +
                          R"(","rotate":)" + (rotate ? "true" : "false") + "}");
  REQUIRE(out.find("\"ok\"") != std::string::npos);
}

// One value from /admin/stats (jq syntax).
std::string stat_text(const std::string& id, const std::string& key) {
  auto r = tlsrpt::test::run("curl -sS '" + oauth_url() + "/admin/stats?client_id=" + id +
                             "' | jq -cr '." + key + "'");
  REQUIRE(r.status == 0);
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}
int stat(const std::string& id, const std::string& key) { return std::stoi(stat_text(id, key)); }

oauth2_options client(const std::string& id) {
  oauth2_options o;
  o.token_url = oauth_url() + "/token";
  o.client_id = id;
  o.client_secret = "s3cret";
  o.scope = "https://outlook.office365.com/.default";
  o.timeout = 10s;
  return o;
}

tlsrpt::imap::connection_options mailbox() {
  tlsrpt::imap::connection_options o;
  o.url = "imaps://localhost:" + require_env("TLSRPT_TEST_IMAPS_PORT") + "/";
  o.username = require_env("TLSRPT_TEST_OAUTH_USER");
  o.ca_file = require_env("TLSRPT_TEST_CA_FILE");
  o.connect_timeout = 10s;
  o.operation_timeout = 30s;
  return o;
}

}  // namespace

TEST_CASE("a login with a freshly issued token works, and the token is reused while valid") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the token login is Dovecot's oauth2 passdb");
  const auto id = unique_client("fresh");
  register_client(id, 3600);
  token_source tokens(client(id));
  for (int pass = 0; pass < 2; ++pass) {
    const auto mb = tlsrpt::imap::connect_with_token(mailbox(), tokens);
    CHECK(mb->select("INBOX").uidvalidity != 0);
  }
  CHECK(tokens.renewals() == 1);
  CHECK(stat(id, "token_requests") == 1);
  CHECK(stat(id, "introspections") == 2);  // Dovecot checked each login
  CHECK(stat_text(id, "last_form.grant_type") == "client_credentials");
  CHECK(stat_text(id, "last_form.scope") == "https://outlook.office365.com/.default");
  CHECK(stat_text(id, "last_form.client_secret") == "<set>");
}

TEST_CASE("a token the server refuses before its expiry is renewed and the login retried") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the token login is Dovecot's oauth2 passdb");
  const auto id = unique_client("expired");
  register_client(id, 3600);
  token_source tokens(client(id));
  (void)tokens.token();
  admin("expire", R"({"client_id":")" + id + R"("})");  // the provider ends it early
  const auto mb = tlsrpt::imap::connect_with_token(mailbox(), tokens);
  CHECK(mb->select("INBOX").uidvalidity != 0);
  CHECK(tokens.renewals() == 2);
  CHECK(stat(id, "refused_introspections") == 1);  // the old token reached Dovecot, refused
  CHECK(stat(id, "token_requests") == 2);
}

TEST_CASE("a token close to its expiry is renewed before the login") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the token login is Dovecot's oauth2 passdb");
  const auto id = unique_client("short");
  register_client(id, 2);  // renewed after half its life
  token_source tokens(client(id));
  (void)tokens.token();
  std::this_thread::sleep_for(1200ms);
  const auto mb = tlsrpt::imap::connect_with_token(mailbox(), tokens);
  CHECK(mb->select("INBOX").uidvalidity != 0);
  CHECK(tokens.renewals() == 2);
  CHECK(stat(id, "refused_introspections") == 0);  // never presented an expired token
}

TEST_CASE("a revoked client is a configuration error with the provider's text") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the token login is Dovecot's oauth2 passdb");
  const auto id = unique_client("revoked");
  register_client(id, 3600);
  admin("revoke", R"({"client_id":")" + id + R"("})");
  token_source tokens(client(id));
  try {
    (void)tokens.token();
    FAIL("a revoked client got a token");
  } catch (const oauth2_error& e) {
    CHECK(e.configuration());
    CHECK_FALSE(e.transient());
    const std::string what = e.what();
    CHECK(what.find("oauth2: cannot get a token for client " + id) == 0);
    CHECK(what.find("invalid_client: AADSTS7000215") != std::string::npos);
    CHECK(what.find("s3cret") == std::string::npos);
  }
}

TEST_CASE("a wrong secret is a configuration error, an unreachable endpoint a transient one") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the token login is Dovecot's oauth2 passdb");
  const auto id = unique_client("wrong");
  register_client(id, 3600);
  auto o = client(id);
  o.client_secret = "not-it";
  token_source wrong(o);
  CHECK_THROWS_AS(wrong.token(), oauth2_error);
  try {
    (void)wrong.token();
  } catch (const oauth2_error& e) {
    CHECK(e.configuration());
    CHECK(std::string(e.what()).find("not-it") == std::string::npos);
  }
  o = client(id);
  o.token_url = "http://127.0.0.1:1/token";  // nothing listens on port 1
  token_source down(o);
  try {
    (void)down.token();
    FAIL("got a token from nowhere");
  } catch (const oauth2_error& e) {
    CHECK(e.transient());
    CHECK_FALSE(e.configuration());
  }
}

TEST_CASE("the refresh-token grant writes a rotated refresh token back, mode 0600") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the token login is Dovecot's oauth2 passdb");
  const auto id = unique_client("refresh");
  register_client(id, 3600, "rt-first-" + id, true);
  const auto dir =
      std::filesystem::temp_directory_path() / ("oauth2-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "refresh-token";
  tlsrpt::test::write_file(file, "rt-first-" + id + "\n");
  auto o = client(id);
  o.refresh_token_file = file;
  o.scope.clear();
  {
    token_source tokens(o);
    const auto mb = tlsrpt::imap::connect_with_token(mailbox(), tokens);
    CHECK(mb->select("INBOX").uidvalidity != 0);
  }
  const std::string rotated = tlsrpt::test::read_file(file);
  CHECK(rotated.find("rt-") == 0);
  CHECK(rotated != "rt-first-" + id + "\n");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(stat_text(id, "last_form.grant_type") == "refresh_token");
  CHECK(stat_text(id, "last_form | has(\"scope\")") == "false");
  // A new process reads the rotated token (the first one is gone at the provider).
  token_source again(o);
  CHECK_NOTHROW((void)again.token());
  // A refresh token the provider no longer knows is invalid_grant: a configuration error.
  tlsrpt::test::write_file(file, "rt-first-" + id + "\n");
  token_source stale(o);
  try {
    (void)stale.token();
    FAIL("a stale refresh token was accepted");
  } catch (const oauth2_error& e) {
    CHECK(e.configuration());
    CHECK(std::string(e.what()).find("invalid_grant") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
