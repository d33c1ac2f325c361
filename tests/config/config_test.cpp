// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/support.hpp"
#include "tlsrpt/config/config.hpp"

using namespace std::chrono_literals;
namespace cfg = tlsrpt::config;

namespace {

// The error a piece of YAML produces (the test fails if it loads).
cfg::error error_of(const std::string& yaml) {
  try {
    cfg::parse(yaml, "test.yaml");
  } catch (const cfg::error& e) {
    return e;
  }
  FAIL("expected a configuration error for:\n" << yaml);
  return cfg::error("", 0, "", "");
}

// Sets or clears an environment variable for the scope of one test.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~scoped_env() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

const char* minimal_mailbox =
    "mailboxes:\n"
    "  - name: main\n"
    "    url: imaps://imap.example.com/INBOX\n"
    "    username: u\n"
    "    password_env: TEST_CONFIG_PASSWORD\n";

}  // namespace

TEST_CASE("an empty file gives every default") {
  scoped_env no_url("TLSRPT_DATABASE_URL", nullptr);
  const auto c = cfg::parse("", "empty.yaml");
  CHECK(c.db.url.empty());
  CHECK(c.db.migrate_on_start);
  CHECK_FALSE(c.db.migrations_dir);
  CHECK(c.db.batch_size == 500);
  CHECK(c.mailboxes.empty());
  CHECK(c.run.interval == 5min);
  CHECK(c.run.jitter == 30s);
  CHECK(c.run.max_backoff == 1h);
  CHECK(c.run.idle);
  CHECK(c.log.fmt == cfg::logging::format::text);
  CHECK(c.log.level == "info");
  CHECK(c.lim.max_message_size == 25u * 1024 * 1024);
  CHECK(c.lim.max_report_size == 20u * 1024 * 1024);
  CHECK(c.lim.max_depth == 64);
  CHECK(c.lim.max_policies == 10'000);
  CHECK(c.lim.max_failure_details == 100'000);
}

TEST_CASE("a minimal mailbox gets every mailbox default") {
  const auto c = cfg::parse(minimal_mailbox);
  REQUIRE(c.mailboxes.size() == 1);
  const auto& m = c.mailboxes[0];
  CHECK(m.name == "main");
  CHECK(m.folder == "INBOX");
  CHECK(m.auth == cfg::auth_method::password);
  CHECK(m.secret.from == cfg::secret_ref::kind::env);
  CHECK(m.secret.name == "TEST_CONFIG_PASSWORD");
  CHECK(m.secret.key_path == "mailboxes[0].password_env");
  CHECK(m.secret.line == 5);
  CHECK_FALSE(m.allow_plaintext);
  CHECK_FALSE(m.ca_file);
  CHECK(m.tls_verify);
  CHECK(m.on_success.what == cfg::action::kind::keyword);
  CHECK(m.on_success.target == "$TLSRPTProcessed");
  CHECK(m.on_failure.what == cfg::action::kind::keyword);
  CHECK(m.on_failure.target == "$TLSRPTFailed");
  CHECK(m.on_not_a_report.what == cfg::action::kind::leave);
  CHECK(m.batch_size == 1000);
  CHECK(m.max_message_size == 25u * 1024 * 1024);
  CHECK(m.max_report_size == 20u * 1024 * 1024);
  CHECK(m.connect_timeout == 30s);
  CHECK(m.operation_timeout == 5min);
  CHECK(m.max_attempts == 5);
  CHECK(m.line == 2);
}

TEST_CASE("every key of the full example is read") {
  scoped_env no_url("TLSRPT_DATABASE_URL", nullptr);
  const auto c = cfg::load_file(tlsrpt::test::data_dir() / "config" / "full.yaml");
  CHECK(c.db.url == "postgresql://tlsrpt@db.example.com/tlsrpt");
  CHECK_FALSE(c.db.url_from_environment);
  CHECK_FALSE(c.db.migrate_on_start);
  CHECK(c.db.migrations_dir == "/opt/tlsrpt/migrations");
  CHECK(c.db.batch_size == 50);
  REQUIRE(c.mailboxes.size() == 2);
  const auto& m = c.mailboxes[0];
  CHECK(m.folder == "Reports In");
  CHECK(m.ca_file == "/etc/ssl/ca.pem");
  CHECK(m.on_success.what == cfg::action::kind::move);
  CHECK(m.on_success.target == "Archive/TLSRPT");
  CHECK(m.on_failure.what == cfg::action::kind::keyword);
  CHECK(m.on_failure.target == "$Bad");
  CHECK(m.on_not_a_report.what == cfg::action::kind::move);
  CHECK(m.on_not_a_report.target == "Other");
  CHECK(m.batch_size == 10);
  CHECK(m.max_message_size == 10u * 1024 * 1024);
  CHECK(m.max_report_size == 512u * 1024);
  CHECK(m.connect_timeout == 5s);
  CHECK(m.operation_timeout == 1min);
  CHECK(m.max_attempts == 3);
  const auto& o = c.mailboxes[1];
  CHECK(o.folder == "TLS Reports");
  CHECK(o.auth == cfg::auth_method::xoauth2);
  CHECK(o.secret.from == cfg::secret_ref::kind::file);
  CHECK(o.secret.name == "/run/secrets/token");
  // Mailboxes inherit the global size limits unless they set their own.
  CHECK(o.max_message_size == 30u * 1024 * 1024);
  CHECK(o.max_report_size == 1024ull * 1024 * 1024);
  CHECK(c.run.interval == 15min);
  CHECK(c.run.jitter == 1min);
  CHECK(c.run.max_backoff == 2h);
  CHECK_FALSE(c.run.idle);
  CHECK(c.log.fmt == cfg::logging::format::json);
  CHECK(c.log.level == "debug");
  CHECK(c.lim.max_depth == 32);
  CHECK(c.lim.max_policies == 100);
  CHECK(c.lim.max_failure_details == 1000);
}

TEST_CASE("the example configuration shipped with the project loads") {
  const auto c = cfg::load_file(tlsrpt::test::source_dir() / "config.example.yaml");
  REQUIRE(c.mailboxes.size() >= 1);
  CHECK(c.mailboxes[0].on_success.target == "$TLSRPTProcessed");
  CHECK(c.run.interval == 5min);
}

TEST_CASE("TLSRPT_DATABASE_URL overrides the database url of the file") {
  scoped_env url("TLSRPT_DATABASE_URL", "postgresql://env@localhost/envdb");
  const auto c = cfg::load_file(tlsrpt::test::data_dir() / "config" / "full.yaml");
  CHECK(c.db.url == "postgresql://env@localhost/envdb");
  CHECK(c.db.url_from_environment);
  CHECK(cfg::defaults().db.url == "postgresql://env@localhost/envdb");
}

TEST_CASE("an unknown key is an error naming its path and line") {
  const auto path = tlsrpt::test::data_dir() / "config" / "unknown_key.yaml";
  try {
    cfg::load_file(path);
    FAIL("a misspelt key was accepted");
  } catch (const cfg::error& e) {
    CHECK(e.line() == 7);
    CHECK(e.key_path() == "mailboxes[0].pasword_env");
    CHECK(std::string(e.what()).find("unknown_key.yaml:7: mailboxes[0].pasword_env: unknown key") !=
          std::string::npos);
    CHECK(std::string(e.what()).find("password_env") != std::string::npos);
  }
  const auto e = error_of("databse:\n  url: x\n");
  CHECK(e.line() == 1);
  CHECK(e.key_path() == "databse");
}

TEST_CASE("a value of the wrong type is an error naming its path and line") {
  try {
    cfg::load_file(tlsrpt::test::data_dir() / "config" / "wrong_type.yaml");
    FAIL("a word was accepted as a batch size");
  } catch (const cfg::error& e) {
    CHECK(e.line() == 6);
    CHECK(e.key_path() == "mailboxes[0].batch_size");
    CHECK(e.cause() == "expected an integer, got \"lots\"");
  }
  auto e = error_of("mailboxes:\n  name: main\n");
  CHECK(e.line() == 2);
  CHECK(e.key_path() == "mailboxes");
  e = error_of("database:\n  migrate_on_start: maybe\n");
  CHECK(e.line() == 2);
  CHECK(e.cause() == "expected true or false, got \"maybe\"");
  e = error_of("database:\n  url: [a, b]\n");
  CHECK(e.key_path() == "database.url");
  CHECK(e.cause() == "expected a string, got a list");
  e = error_of("logging:\n  format: xml\n");
  CHECK(e.key_path() == "logging.format");
  e = error_of("logging:\n  level: loud\n");
  CHECK(e.key_path() == "logging.level");
  e = error_of(std::string(minimal_mailbox) + "    max_attempts: 0\n");
  CHECK(e.line() == 6);
  CHECK(e.cause() == "must be at least 1, got 0");
}

TEST_CASE("bad durations and sizes are errors with their line") {
  auto e = error_of("daemon:\n  interval: 5 minutes\n");
  CHECK(e.line() == 2);
  CHECK(e.key_path() == "daemon.interval");
  CHECK(e.cause().find("5 minutes") != std::string::npos);
  e = error_of("daemon:\n  interval: 0s\n");
  CHECK(e.cause() == "must be greater than zero");
  e = error_of("limits:\n  max_report_size: 20 lots\n");
  CHECK(e.line() == 2);
  CHECK(e.key_path() == "limits.max_report_size");
  e = error_of("limits:\n\n  max_message_size: -1\n");
  CHECK(e.line() == 3);
}

TEST_CASE("durations and sizes read in human units") {
  CHECK(cfg::parse_duration("30s") == 30s);
  CHECK(cfg::parse_duration("5m") == 5min);
  CHECK(cfg::parse_duration("1h") == 1h);
  CHECK(cfg::parse_duration("1h30m") == 90min);
  CHECK(cfg::parse_duration("2d") == 48h);
  CHECK(cfg::parse_duration("250ms") == 250ms);
  CHECK(cfg::parse_duration("1.5s") == 1500ms);
  CHECK(cfg::parse_duration("90") == 90s);
  CHECK_THROWS_AS(cfg::parse_duration(""), std::invalid_argument);
  CHECK_THROWS_AS(cfg::parse_duration("5x"), std::invalid_argument);
  CHECK_THROWS_AS(cfg::parse_duration("1h30"), std::invalid_argument);
  CHECK_THROWS_AS(cfg::parse_duration("m"), std::invalid_argument);
  CHECK(cfg::parse_size("25MiB") == 25u * 1024 * 1024);
  CHECK(cfg::parse_size("512KiB") == 512u * 1024);
  CHECK(cfg::parse_size("1GiB") == 1024u * 1024 * 1024);
  CHECK(cfg::parse_size("10MB") == 10'000'000u);
  CHECK(cfg::parse_size("20 MiB") == 20u * 1024 * 1024);
  CHECK(cfg::parse_size("1000") == 1000u);
  CHECK_THROWS_AS(cfg::parse_size("big"), std::invalid_argument);
  CHECK_THROWS_AS(cfg::parse_size("5 parsecs"), std::invalid_argument);
  CHECK(cfg::format_duration(5min) == "5m");
  CHECK(cfg::format_duration(90s) == "90s");
}

TEST_CASE("a mailbox without credentials or with two sources is rejected") {
  auto e = error_of("mailboxes:\n  - name: a\n    url: imaps://h/INBOX\n    username: u\n");
  CHECK(e.line() == 2);
  CHECK(e.key_path() == "mailboxes[0]");
  CHECK(e.cause().find("no credentials") != std::string::npos);
  e = error_of(std::string(minimal_mailbox) + "    password_file: /x\n");
  CHECK(e.cause().find("more than one credential source") != std::string::npos);
  e = error_of("mailboxes:\n  - name: a\n    username: u\n    password_env: P\n");
  CHECK(e.cause() == "missing required key \"url\"");
}

TEST_CASE("mailbox urls are checked and never carry credentials") {
  auto e = error_of(
      "mailboxes:\n  - name: a\n    url: https://h/\n    username: u\n    password_env: P\n");
  CHECK(e.line() == 3);
  CHECK(e.key_path() == "mailboxes[0].url");
  e = error_of(
      "mailboxes:\n  - name: a\n    url: imaps://u:hunter2@h/\n    username: u\n"
      "    password_env: P\n");
  CHECK(e.key_path() == "mailboxes[0].url");
  CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
  e = error_of(std::string(minimal_mailbox) + "  - name: main\n    url: imaps://b/\n" +
               "    username: u\n    password_env: P\n");
  CHECK(e.line() == 6);
  CHECK(e.cause() == "duplicate mailbox name \"main\"");
  e = error_of(std::string(minimal_mailbox) + "    actions:\n      success: move\n");
  CHECK(e.line() == 7);
  CHECK(e.cause().find("success_folder") != std::string::npos);
  e = error_of(std::string(minimal_mailbox) + "    actions:\n      not_a_report: keyword\n");
  CHECK(e.key_path() == "mailboxes[0].actions.not_a_report");
}

TEST_CASE("a missing secret names the key, the variable and the line but not the value") {
  const auto c = cfg::parse(minimal_mailbox, "test.yaml");
  {
    scoped_env unset("TEST_CONFIG_PASSWORD", nullptr);
    try {
      cfg::resolve_secret(c.mailboxes[0].secret, c.file);
      FAIL("a missing variable resolved");
    } catch (const cfg::error& e) {
      CHECK(std::string(e.what()) ==
            "config: test.yaml:5: mailboxes[0].password_env: the environment variable "
            "TEST_CONFIG_PASSWORD is not set or empty");
    }
  }
  scoped_env set("TEST_CONFIG_PASSWORD", "s3cret");
  CHECK(cfg::resolve_secret(c.mailboxes[0].secret, c.file) == "s3cret");
}

TEST_CASE("secrets are read from files without their final newline") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tlsrpt_cfg_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  tlsrpt::test::write_file(dir / "pw", "file-secret\n");
  const auto c = cfg::parse(
      "mailboxes:\n  - name: a\n    url: imaps://h/\n    username: u\n"
      "    password_file: " +
      (dir / "pw").string() + "\n");
  CHECK(cfg::resolve_secret(c.mailboxes[0].secret, c.file) == "file-secret");
  const auto missing = cfg::parse(
      "mailboxes:\n  - name: a\n    url: imaps://h/\n    username: u\n"
      "    token_file: " +
          (dir / "nope").string() + "\n",
      "x.yaml");
  try {
    cfg::resolve_secret(missing.mailboxes[0].secret, missing.file);
    FAIL("a missing file resolved");
  } catch (const cfg::error& e) {
    CHECK(e.line() == 5);
    CHECK(e.key_path() == "mailboxes[0].token_file");
    CHECK(e.cause() == "cannot read the file " + (dir / "nope").string());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("invalid YAML is an error with its line") {
  const auto e = error_of("database:\n  url: [unclosed\n");
  CHECK(e.line() >= 2);
  CHECK(e.cause().find("invalid YAML") != std::string::npos);
}

TEST_CASE("connection strings are redacted for logs") {
  CHECK(cfg::redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db");
  CHECK(cfg::redact_url("postgresql://u@h/db") == "postgresql://u@h/db");
  CHECK(cfg::redact_url("host=h password=pw dbname=x") == "host=h password=*** dbname=x");
}

namespace {
std::string oauth_mailbox(const std::string& oauth2) {
  return "mailboxes:\n  - name: m365\n    url: imaps://outlook.office365.com/INBOX\n"
         "    username: tlsrpt@contoso.com\n    oauth2:\n" +
         oauth2;
}
}  // namespace

TEST_CASE("oauth2 with provider microsoft gets the tenant's token URL and the app-only scope") {
  const auto c =
      cfg::parse(oauth_mailbox("      provider: microsoft\n      tenant: contoso.onmicrosoft.com\n"
                               "      client_id: 00000000-0000-0000-0000-000000000000\n"
                               "      client_secret_env: TLSRPT_OAUTH_SECRET\n"));
  const auto& m = c.mailboxes.at(0);
  CHECK(m.auth == cfg::auth_method::xoauth2);
  CHECK(m.secret.from == cfg::secret_ref::kind::none);
  REQUIRE(m.oauth);
  CHECK(m.oauth->provider == cfg::oauth2::provider_kind::microsoft);
  CHECK(m.oauth->token_url ==
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  CHECK(m.oauth->scope == "https://outlook.office365.com/.default");
  CHECK_FALSE(m.oauth->refresh_grant());
  CHECK(m.oauth->client_secret.key_path == "mailboxes[0].oauth2.client_secret_env");
  CHECK(m.oauth->client_secret.name == "TLSRPT_OAUTH_SECRET");
}

TEST_CASE("oauth2 with a refresh token file is the refresh-token grant; google needs one") {
  const auto c = cfg::parse(
      oauth_mailbox("      provider: google\n      client_id: abc.apps.googleusercontent.com\n"
                    "      client_secret_file: /run/secrets/google\n"
                    "      refresh_token_file: /var/lib/tlsrpt-collector/refresh-token\n"));
  const auto& o = *c.mailboxes.at(0).oauth;
  CHECK(o.refresh_grant());
  CHECK(o.token_url == "https://oauth2.googleapis.com/token");
  CHECK(o.client_secret.from == cfg::secret_ref::kind::file);
  const auto e = error_of(
      oauth_mailbox("      provider: google\n      client_id: x\n      client_secret_env: S\n"));
  CHECK(e.key_path() == "mailboxes[0].oauth2");
  CHECK(e.cause().find("refresh_token_file") != std::string::npos);
  const auto ms =
      cfg::parse(oauth_mailbox("      provider: microsoft\n      tenant: t\n      client_id: x\n"
                               "      refresh_token_file: /r\n      scope: custom\n"));
  CHECK(ms.mailboxes.at(0).oauth->scope == "custom");
}

TEST_CASE("oauth2 mistakes are configuration errors at their line") {
  CHECK(error_of(oauth_mailbox("      provider: yahoo\n      client_id: x\n")).key_path() ==
        "mailboxes[0].oauth2.provider");
  CHECK(error_of(oauth_mailbox("      provider: generic\n      client_id: x\n"
                               "      client_secret_env: S\n"))
            .cause() == "provider generic needs token_url");
  CHECK(error_of(oauth_mailbox("      provider: microsoft\n      client_id: x\n"
                               "      client_secret_env: S\n"))
            .cause()
            .find("tenant") != std::string::npos);
  CHECK(error_of(oauth_mailbox("      provider: microsoft\n      tenant: t\n      client_id: x\n"))
            .cause()
            .find("client secret") != std::string::npos);
  const auto plain_http = error_of(
      oauth_mailbox("      provider: generic\n      client_id: x\n      client_secret_env: S\n"
                    "      token_url: http://idp.example.com/token\n"));
  CHECK(plain_http.key_path() == "mailboxes[0].oauth2.token_url");
  CHECK(plain_http.line() == 9);
  CHECK_NOTHROW(cfg::parse(
      oauth_mailbox("      provider: generic\n      client_id: x\n      client_secret_env: S\n"
                    "      token_url: http://127.0.0.1:8080/token\n")));
  CHECK(error_of(oauth_mailbox("      provider: generic\n      client_id: x\n"
                               "      client_secret_env: S\n      token: y\n"))
            .key_path() == "mailboxes[0].oauth2.token");
  const auto both = error_of(
      "mailboxes:\n  - name: m\n    url: imaps://h/INBOX\n    username: u\n"
      "    password_env: P\n    oauth2:\n      provider: google\n      client_id: x\n"
      "      refresh_token_file: /r\n");
  CHECK(both.cause().find("more than one credential source") != std::string::npos);
}

namespace {
// A credentials directory of its own for one test, removed after it.
class creds_dir {
 public:
  creds_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tlsrpt_creds_XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~creds_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  creds_dir(const creds_dir&) = delete;
  creds_dir& operator=(const creds_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};
}  // namespace

TEST_CASE("a secret can come as a systemd credential, by its name or as the units load it") {
  const creds_dir d;
  tlsrpt::test::write_file(d.path() / "imap-password", "s3cret\n");
  // What `LoadCredential=tlsrpt:/etc/tlsrpt-collector/credentials` makes of the file token.
  tlsrpt::test::write_file(d.path() / "tlsrpt_token", "bearer-token");
  scoped_env creds("CREDENTIALS_DIRECTORY", d.path().c_str());
  const auto c = cfg::parse(
      "mailboxes:\n"
      "  - {name: a, url: imaps://h/INBOX, username: u, password_credential: imap-password}\n"
      "  - {name: b, url: imaps://h/INBOX, username: u, token_credential: token}\n",
      "creds.yaml");
  REQUIRE(c.mailboxes.size() == 2);
  CHECK(c.mailboxes[0].auth == cfg::auth_method::password);
  CHECK(cfg::resolve_secret(c.mailboxes[0].secret, c.file) == "s3cret");
  CHECK(c.mailboxes[1].auth == cfg::auth_method::xoauth2);
  CHECK(cfg::resolve_secret(c.mailboxes[1].secret, c.file) == "bearer-token");
}

TEST_CASE("a missing credential or credentials directory is a configuration error naming it") {
  const auto c = cfg::parse(
      "mailboxes:\n"
      "  - {name: a, url: imaps://h/INBOX, username: u, password_credential: imap-password}\n",
      "creds.yaml");
  {
    scoped_env creds("CREDENTIALS_DIRECTORY", nullptr);
    try {
      (void)cfg::resolve_secret(c.mailboxes[0].secret, c.file);
      FAIL("no credentials directory, yet a secret");
    } catch (const cfg::error& e) {
      CHECK(std::string(e.what()).find("$CREDENTIALS_DIRECTORY is not set") != std::string::npos);
      CHECK(std::string(e.what()).find("mailboxes[0].password_credential") != std::string::npos);
    }
  }
  const creds_dir d;
  scoped_env creds("CREDENTIALS_DIRECTORY", d.path().c_str());
  CHECK_THROWS_WITH_AS((void)cfg::resolve_secret(c.mailboxes[0].secret, c.file),
                       doctest::Contains("cannot read the credential imap-password"), cfg::error);
  // A name is a file name in the directory, never a way out of it.
  tlsrpt::test::write_file(d.path() / "outside", "x");
  std::filesystem::create_directories(d.path() / "sub");
  scoped_env sub("CREDENTIALS_DIRECTORY", (d.path() / "sub").c_str());
  CHECK_FALSE(cfg::read_credential("../outside").has_value());
  CHECK_FALSE(cfg::read_credential("..").has_value());
}

TEST_CASE(
    "the database URL comes from the credential database-url unless the environment sets it") {
  const creds_dir d;
  tlsrpt::test::write_file(d.path() / "tlsrpt_database-url", "postgresql://cred@db/tlsrpt\n");
  scoped_env creds("CREDENTIALS_DIRECTORY", d.path().c_str());
  {
    scoped_env no_url("TLSRPT_DATABASE_URL", nullptr);
    const auto c = cfg::parse("database:\n  url: postgresql://file@db/tlsrpt\n", "db.yaml");
    CHECK(c.db.url == "postgresql://cred@db/tlsrpt");
    CHECK(c.db.url_from_credential);
  }
  scoped_env url("TLSRPT_DATABASE_URL", "postgresql://env@db/tlsrpt");
  const auto c = cfg::parse("database:\n  url: postgresql://file@db/tlsrpt\n", "db.yaml");
  CHECK(c.db.url == "postgresql://env@db/tlsrpt");
  CHECK_FALSE(c.db.url_from_credential);
}

TEST_CASE("every form of a connection string keeps its password out of what is printed") {
  struct form {
    const char* conninfo;
    const char* redacted;
  };
  for (const form& f : {
           form{"postgresql://u:SECRET@[::1/x", "postgresql://u:***@[::1/x"},
           form{"postgresql://u:SE@CRET@127.0.0.1:1/db", "postgresql://u:***@127.0.0.1:1/db"},
           form{"postgres://u:SECRET@h/db?sslmode=require&password=SECRET",
                "postgres://u:***@h/db?sslmode=require&password=***"},
           form{"postgresql://h/db?password=SECRET", "postgresql://h/db?password=***"},
           form{"postgresql://u:S%45CRET@h/db", "postgresql://u:***@h/db"},
           form{"host=h password = SECRET dbname=x", "host=h password = *** dbname=x"},
           form{"host=h password='SEC RET' dbname=x", "host=h password=*** dbname=x"},
           form{"host=h PASSWORD='it\\'s SECRET'", "host=h PASSWORD=***"},
           form{"host=h password=SECRET", "host=h password=***"},
       }) {
    CAPTURE(std::string(f.conninfo));
    CHECK(cfg::redact_url(f.conninfo) == f.redacted);
    const auto secrets = cfg::connection_secrets(f.conninfo);
    REQUIRE(!secrets.empty());
    // What libpq echoes: the string itself, or (unencoded '@') the rest as a host name.
    const std::string echoed = std::string("invalid URI: \"") + f.conninfo +
                               "\"; could not translate host name \"CRET@127.0.0.1\"";
    const std::string scrubbed = cfg::scrub(echoed, secrets);
    CHECK(scrubbed.find("SECRET") == std::string::npos);
    CHECK(scrubbed.find("SEC RET") == std::string::npos);
    CHECK(scrubbed.find("SECRET") == std::string::npos);
  }
  // The decoded form of a percent-encoded password is a secret too.
  const auto s = cfg::connection_secrets("postgresql://u:S%45CRET@h/db");
  CHECK(cfg::scrub("password SECRET", s) == "password ***");
  CHECK(cfg::connection_secrets("postgresql://u@h/db").empty());
  CHECK(cfg::connection_secrets("host=h dbname=x").empty());
}

TEST_CASE("a directory or a non-PostgreSQL URL is a configuration error") {
  const auto dir = std::filesystem::temp_directory_path() / "tlsrpt-config-dir-test";
  std::filesystem::create_directories(dir);
  try {
    (void)cfg::load_file(dir);
    FAIL("a directory loaded");
  } catch (const cfg::error& e) {
    CHECK(std::string(e.what()).ends_with("is a directory, not a configuration file"));
  }
  std::filesystem::remove_all(dir);
  const auto e = error_of("database:\n  url: mysql://u:SECRET@h/db\n");
  CHECK(e.line() == 2);
  CHECK(e.key_path() == "database.url");
  CHECK(e.cause() ==
        "expected a postgresql:// URL or a key=value connection string, got "
        "\"mysql://u:***@h/db\"");
  CHECK(error_of("database:\n  url: db.example.org\n").key_path() == "database.url");
  CHECK_NOTHROW(cfg::parse("database:\n  url: host=h dbname=x\n"));
  CHECK_NOTHROW(cfg::parse("database:\n  url: POSTGRES://h/x\n"));
}

TEST_CASE("intervals and backoffs below one second are rejected") {
  for (const char* key : {"interval", "max_backoff"}) {
    CAPTURE(std::string(key));
    for (const char* v : {"1ms", "999ms", "0.5s"}) {
      const auto e = error_of(std::string("daemon:\n  ") + key + ": " + v + "\n");
      CHECK(e.key_path() == std::string("daemon.") + key);
      CHECK(e.cause().starts_with("must be at least 1s, got " + std::string(v)));
    }
    CHECK_NOTHROW(cfg::parse(std::string("daemon:\n  ") + key + ": 1s\n"));
  }
  CHECK_NOTHROW(cfg::parse("daemon:\n  jitter: 0s\n"));
}

TEST_CASE("secrets others can read and unchecked certificates are warned about") {
  const auto dir = std::filesystem::temp_directory_path() / "tlsrpt-config-warn-test";
  std::filesystem::create_directories(dir);
  const auto pw = dir / "pw";
  tlsrpt::test::write_file(pw, "secret\n");
  std::filesystem::permissions(
      pw, std::filesystem::perms::owner_read | std::filesystem::perms::others_read);
  const auto file = dir / "c.yaml";
  tlsrpt::test::write_file(file,
                           "database:\n  url: postgresql://u:SECRET@h/db\nmailboxes:\n"
                           "  - name: m\n    url: imaps://h/INBOX\n    username: u\n"
                           "    password_file: " +
                               pw.string() + "\n    tls_verify: false\n");
  std::filesystem::permissions(file, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write |
                                         std::filesystem::perms::others_read);
  const scoped_env no_url("TLSRPT_DATABASE_URL", nullptr);
  auto w = cfg::warnings(cfg::load_file(file));
  REQUIRE(w.size() == 3);
  CHECK(w[0].find("database.url: holds a password and the file is readable by others") !=
        std::string::npos);
  CHECK(w[1].find(":7: mailboxes[0].password_file: " + pw.string() + " is readable by others") !=
        std::string::npos);
  CHECK(w[2].find("mailboxes[0].tls_verify: false: the server's certificate is not checked") !=
        std::string::npos);
  for (const auto& line : w) CHECK(line.find("SECRET") == std::string::npos);
  std::filesystem::permissions(pw, std::filesystem::perms::owner_read);
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  w = cfg::warnings(cfg::load_file(file));
  CHECK(w.size() == 1);  // tls_verify: false stays
  std::filesystem::remove_all(dir);
}
