// SPDX-License-Identifier: Apache-2.0
// The program with `oauth2:` against the harness: the token service issues tokens, the real
// Dovecot checks them (user `oauth`, no password). check-config --connect gets a token and
// logs in, poll stores a report, a revoked client is a configuration error (78).
#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "cli.hpp"
#include "support/support.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::app;

namespace {

std::string token_service() { return require_env("TLSRPT_TEST_OAUTH_URL"); }

void admin(const std::string& what, const std::string& json) {
  const auto r = run("curl -sS -X POST --data-binary " + quote(json) + " " + token_service() +
                     "/admin/" + what);
  REQUIRE_MESSAGE(r.status == 0, r.out);
}

// IMAP as the oauth user with a token of `client`, through curl(1).
std::string imap_oauth(const std::string& client, const std::string& folder,
                       const std::string& curl_args) {
  auto t = run("curl -sS " + token_service() + "/token -d grant_type=client_credentials -d " +
               "client_id=" + client + " -d client_secret=app-secret | jq -r .access_token");
  REQUIRE(t.status == 0);
  while (!t.out.empty() && t.out.back() == '\n') t.out.pop_back();
  const auto r =
      run("curl -sS --cacert " + quote(require_env("TLSRPT_TEST_CA_FILE")) + " -u " +
          require_env("TLSRPT_TEST_OAUTH_USER") + ": --oauth2-bearer " + quote(t.out) + " " +
          quote("imaps://127.0.0.1:" + require_env("TLSRPT_TEST_IMAPS_PORT") + "/" + folder) + " " +
          curl_args + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  return r.out;
}

}  // namespace

TEST_CASE("with oauth2 the collector gets its own token to check, poll and refuse") {
  const scratch_database db;
  const scratch_dir d;
  const std::string client = "app-" + std::to_string(::getpid());
  admin("client", R"({"client_id":")" + client + R"(","client_secret":"app-secret","username":")" +
                      require_env("TLSRPT_TEST_OAUTH_USER") + R"(","expires_in":3600})");
  const std::string folder = "app-oauth-" + std::to_string(::getpid());
  imap_oauth(client, "", "-X " + quote("CREATE " + folder));
  write_file(d.path() / "r.eml", report_mail("oauth-report", 4));
  imap_oauth(client, folder, "-T " + quote((d.path() / "r.eml").string()));

  const auto cfg = d.path() / "c.yaml";
  write_file(cfg, "mailboxes:\n  - name: m365\n    url: imaps://127.0.0.1:" +
                      require_env("TLSRPT_TEST_IMAPS_PORT") + "/" + folder +
                      "\n    username: " + require_env("TLSRPT_TEST_OAUTH_USER") +
                      "\n    ca_file: " + require_env("TLSRPT_TEST_CA_FILE") +
                      "\n    oauth2:\n      provider: generic\n      client_id: " + client +
                      "\n      client_secret_env: TLSRPT_APP_TEST_SECRET\n      token_url: " +
                      token_service() + "/token\n");
  const std::string env =
      "TLSRPT_DATABASE_URL=" + quote(db.url()) + " TLSRPT_APP_TEST_SECRET=app-secret";
  // check-config --connect fails on an unmigrated database (it says to run migrate).
  REQUIRE(cli("migrate", env).status == 0);

  auto r = cli("-c " + quote(cfg.string()) + " check-config --connect", env);
  CHECK_MESSAGE(r.status == 0, r.out << r.err);
  CHECK(r.out.find("OAuth2 (generic, client-credentials grant, client " + client) !=
        std::string::npos);
  CHECK(r.out.find("token: ok: got an access token") != std::string::npos);
  CHECK(r.out.find("connect: ok: logged in, " + folder + " has 1 message(s)") != std::string::npos);
  CHECK(r.out.find("app-secret") == std::string::npos);

  r = cli("-c " + quote(cfg.string()) + " poll", env);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(sql(db.url(), "select count(*) from tlsrpt.reports where report_id = 'oauth-report'") ==
        "1");
  CHECK(r.err.find("app-secret") == std::string::npos);
  CHECK(r.err.find("at-") == std::string::npos);  // no token in the log

  admin("revoke", R"({"client_id":")" + client + R"("})");
  r = cli("-c " + quote(cfg.string()) + " check-config --connect", env);
  CHECK(r.status == 78);
  CHECK(r.out.find("token: FAILED: oauth2: cannot get a token for client " + client) !=
        std::string::npos);
  CHECK(r.out.find("invalid_client: AADSTS7000215") != std::string::npos);
  r = cli("-c " + quote(cfg.string()) + " poll", env);
  CHECK(r.status == 78);
  CHECK(r.err.find("invalid_client") != std::string::npos);
  r = cli("-c " + quote(cfg.string()) + " run", env);
  CHECK(r.status == 78);
  // The folder goes with the client (it cannot log in any more): re-register to delete it.
  admin("client", R"({"client_id":")" + client + R"(","client_secret":"app-secret","username":")" +
                      require_env("TLSRPT_TEST_OAUTH_USER") + R"(","expires_in":3600})");
  imap_oauth(client, "", "-X " + quote("DELETE " + folder));
}
