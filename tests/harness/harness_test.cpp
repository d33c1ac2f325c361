// SPDX-License-Identifier: Apache-2.0
// Proves the service harness (scripts/services.sh): real Dovecot over IMAP and IMAPS, real
// PostgreSQL. These talk to the servers directly, below our own modules.
#include <curl/curl.h>
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>

#include "support/support.hpp"

namespace {

struct curl_deleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct list_result {
  CURLcode code = CURLE_OK;
  std::string body;
  std::string error;
};

list_result imap_list(const std::string& url, const std::string& user, const std::string& pass,
                      bool require_tls) {
  std::unique_ptr<CURL, curl_deleter> c(curl_easy_init());
  REQUIRE(c);
  list_result r;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_USERNAME, user.c_str());
  curl_easy_setopt(c.get(), CURLOPT_PASSWORD, pass.c_str());
  curl_easy_setopt(c.get(), CURLOPT_CAINFO,
                   tlsrpt::test::require_env("TLSRPT_TEST_CA_FILE").c_str());
  curl_easy_setopt(c.get(), CURLOPT_USE_SSL, require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE);
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &r.body);
  r.code = curl_easy_perform(c.get());
  // curl leaves its error buffer empty for some failures (a denied login): fall back.
  r.error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(r.code);
  return r;
}

std::string host() { return tlsrpt::test::require_env("TLSRPT_TEST_IMAP_HOST"); }
std::string password() { return tlsrpt::test::require_env("TLSRPT_TEST_IMAP_PASSWORD"); }

}  // namespace

TEST_CASE("a test user logs into Dovecot over plain IMAP and lists INBOX") {
  const auto r =
      imap_list("imap://" + host() + ":" + tlsrpt::test::require_env("TLSRPT_TEST_IMAP_PORT") + "/",
                "t1", password(), false);
  CHECK_MESSAGE(r.code == CURLE_OK, r.error);
  CHECK(r.body.find("INBOX") != std::string::npos);
}

TEST_CASE("a test user logs in over IMAPS with the certificate verified against the test CA") {
  const auto r =
      imap_list("imaps://localhost:" + tlsrpt::test::require_env("TLSRPT_TEST_IMAPS_PORT") + "/",
                "t1", password(), true);
  CHECK_MESSAGE(r.code == CURLE_OK, r.error);
  CHECK(r.body.find("INBOX") != std::string::npos);
}

TEST_CASE("STARTTLS on the plain port verifies the certificate too") {
  const auto r =
      imap_list("imap://localhost:" + tlsrpt::test::require_env("TLSRPT_TEST_IMAP_PORT") + "/",
                "t1", password(), true);
  CHECK_MESSAGE(r.code == CURLE_OK, r.error);
}

TEST_CASE("a wrong password is a clear login error, not a hang") {
  const auto r =
      imap_list("imap://" + host() + ":" + tlsrpt::test::require_env("TLSRPT_TEST_IMAP_PORT") + "/",
                "t1", "wrong-password", false);
  CHECK(r.code == CURLE_LOGIN_DENIED);
  CHECK_MESSAGE(r.error.find("denied") != std::string::npos, r.error);  // "Login denied"
  // A hang would end in CURLE_OPERATION_TIMEDOUT (the 10 s timeout above), not LOGIN_DENIED.
}

TEST_CASE(
    "every test user logs into the harness's Cyrus; IMAPS is verified; a wrong password is "
    "refused") {
  const auto port = tlsrpt::test::require_env("TLSRPT_TEST_CYRUS_IMAP_PORT");
  const auto imaps = tlsrpt::test::require_env("TLSRPT_TEST_CYRUS_IMAPS_PORT");
  std::istringstream users(tlsrpt::test::require_env("TLSRPT_TEST_IMAP_USERS"));
  for (std::string u; users >> u;) {
    CAPTURE(u);
    const auto r = imap_list("imap://" + host() + ":" + port + "/", u, password(), false);
    CHECK_MESSAGE(r.code == CURLE_OK, r.error);
    CHECK(r.body.find("INBOX") != std::string::npos);
  }
  CHECK_MESSAGE(
      imap_list("imaps://localhost:" + imaps + "/", "t1", password(), true).code == CURLE_OK,
      "IMAPS with the test CA");
  CHECK(imap_list("imap://" + host() + ":" + port + "/", "t1", "wrong-password", false).code ==
        CURLE_LOGIN_DENIED);
}

TEST_CASE("the harness's PostgreSQL accepts the test role over TCP") {
  pqxx::connection conn(tlsrpt::test::require_env("TLSRPT_TEST_DATABASE_URL"));
  pqxx::work tx(conn);
  const auto v = tx.exec1("SELECT current_setting('server_version_num')::int")[0].as<int>();
  CHECK(v >= 150000);
  CHECK(v < 160000);
}

TEST_CASE("a scratch database is created and usable") {
  tlsrpt::test::scratch_database db;
  pqxx::connection conn(db.url());
  pqxx::work tx(conn);
  CHECK(tx.exec1("SELECT current_database()")[0].as<std::string>() == db.name());
}
