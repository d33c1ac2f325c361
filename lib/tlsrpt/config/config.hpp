// SPDX-License-Identifier: Apache-2.0
// The collector's configuration: one YAML file (see config.example.yaml), validated strictly.
// No yaml-cpp type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tlsrpt::config {

// A configuration problem. what() is "config: <file>:<line>: <key path>: <cause>" (file and
// line when known), so a user can go straight to the offending line.
class error : public std::runtime_error {
 public:
  error(std::string file, int line, std::string key_path, std::string cause);
  const std::string& file() const noexcept { return file_; }
  int line() const noexcept { return line_; }  // 1-based, 0 when not known
  const std::string& key_path() const noexcept { return key_path_; }
  const std::string& cause() const noexcept { return cause_; }

 private:
  std::string file_;
  int line_;
  std::string key_path_;
  std::string cause_;
};

// Where a secret comes from. Secrets are never in the file itself: the file names an
// environment variable, a file, or a systemd credential (a file in $CREDENTIALS_DIRECTORY,
// which LoadCredential= fills), and the value is read when it is needed (resolve_secret), so
// that commands needing only the database run without mailbox credentials.
struct secret_ref {
  enum class kind { none, env, file, credential };
  kind from = kind::none;
  std::string name;      // the variable name, the file path or the credential name
  std::string key_path;  // "mailboxes[0].password_env", for error messages
  int line = 0;
};

// What to do with a message after its outcome has been committed (issue 6).
struct action {
  enum class kind { keyword, move, leave };
  kind what = kind::leave;
  std::string target;  // the keyword to add (keyword) or the folder (move)
};
std::string_view to_string(action::kind k) noexcept;

enum class auth_method { password, xoauth2 };

// OAuth2 tokens the collector gets and renews itself (issue 17): the refresh-token grant when
// refresh_token_file is set (Google, delegated Microsoft), else the client-credentials grant
// (Microsoft app-only IMAP access). token_url and scope default from the provider.
struct oauth2 {
  enum class provider_kind { microsoft, google, generic };
  provider_kind provider = provider_kind::generic;
  std::string tenant;  // microsoft: the directory, e.g. contoso.onmicrosoft.com
  std::string client_id;
  secret_ref client_secret;                       // client_secret_env / client_secret_file
  std::optional<std::string> refresh_token_file;  // read before and rewritten after a rotation
  std::string token_url;                          // https:// (http:// only to a loopback host)
  std::string scope;                              // space-separated; may be empty
  int line = 0;
  bool refresh_grant() const noexcept { return refresh_token_file.has_value(); }
};
std::string_view to_string(oauth2::provider_kind p) noexcept;

struct mailbox {
  std::string name;
  std::string url;     // imaps://host[:port][/folder] or imap://... (plaintext/STARTTLS)
  std::string folder;  // from the `folder` key, else the URL path, else INBOX
  std::string username;
  auth_method auth = auth_method::password;
  secret_ref secret;            // password_env / password_file / token_file / token_env
  std::optional<oauth2> oauth;  // set: tokens from the provider (auth xoauth2, no `secret`)
  bool allow_plaintext = false;
  std::optional<std::string> ca_file;
  bool tls_verify = true;
  action on_success{action::kind::keyword, "$TLSRPTProcessed"};
  action on_failure{action::kind::keyword, "$TLSRPTFailed"};
  action on_not_a_report{action::kind::leave, ""};
  std::size_t batch_size = 1000;
  std::uint64_t max_message_size = 25ull * 1024 * 1024;
  std::uint64_t max_report_size = 20ull * 1024 * 1024;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds operation_timeout = std::chrono::minutes(5);
  int max_attempts = 5;
  int line = 0;  // where the entry starts, for later error messages
};

struct database {
  std::string url;                    // the TLSRPT_DATABASE_URL environment variable overrides
  bool url_from_environment = false;  // so messages can say where the URL came from
  bool url_from_credential = false;   // the systemd credential database-url
  bool migrate_on_start = true;
  std::optional<std::string> migrations_dir;  // default: found next to the program
  std::size_t batch_size = 500;               // messages per transaction (ingest)
};

struct daemon {
  std::chrono::milliseconds interval = std::chrono::minutes(5);
  std::chrono::milliseconds jitter = std::chrono::seconds(30);
  std::chrono::milliseconds max_backoff = std::chrono::hours(1);
  bool idle = true;  // wait in IDLE between passes where the server offers it (RFC 2177)
};

struct logging {
  enum class format { text, json };
  format fmt = format::text;
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
};

// Parser limits (issue 3); the per-message size limits live with each mailbox.
struct limits {
  std::uint64_t max_message_size = 25ull * 1024 * 1024;  // files and stdin (ingest, parse)
  std::uint64_t max_report_size = 20ull * 1024 * 1024;
  std::size_t max_depth = 64;
  std::size_t max_policies = 10'000;
  std::size_t max_failure_details = 100'000;
};

// The thresholds of the findings engine (issue 19, lib/tlsrpt/monitor): `alerts.rules`. The
// readiness ones are also the `summary`'s, so a verdict reads the same everywhere.
struct alert_rules {
  std::chrono::milliseconds window = std::chrono::hours(48);         // failure rate, certificate
  std::chrono::milliseconds baseline = std::chrono::hours(14 * 24);  // new failure, spike
  int min_baseline_days = 7;        // a baseline with fewer days of reports is too short to compare
  double threshold = 0.001;         // blocking failure share (failure rate, readiness)
  std::int64_t min_sessions = 100;  // in the window, before a rate means anything
  double spike_factor = 3;
  int silent_active_days = 5;  // of the silent_baseline days before
  std::chrono::milliseconds silent_baseline = std::chrono::hours(14 * 24);
  std::chrono::milliseconds silent_after = std::chrono::hours(3 * 24);
  int min_days = 14;  // readiness: days of reports in testing mode
  int min_reporters = 2;
  int quiet_days = 3;  // readiness: no blocking failure in this many last days
  std::chrono::milliseconds stale_after = std::chrono::hours(1);  // a mailbox failing this long
};

enum class severity { warning, critical };
std::string_view to_string(severity s) noexcept;

struct webhook {
  enum class format { json, slack, teams };
  std::string url;
  format fmt = format::json;
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  int line = 0;
};
std::string_view to_string(webhook::format f) noexcept;

struct email {
  std::string smtp_url;  // smtp://host:587 (STARTTLS required) or smtps://host:465
  std::string username;  // empty: no SMTP AUTH
  secret_ref password;   // password_env / password_file
  std::string from;
  std::vector<std::string> to;
  bool allow_plaintext = false;  // smtp:// without STARTTLS (a local relay)
  std::optional<std::string> ca_file;
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  int line = 0;
};

struct alerts {
  std::vector<webhook> webhooks;
  std::optional<email> mail;
  severity min_severity = severity::warning;
  alert_rules rules;
};

// A reader of the dashboard (http.users): basic auth against a crypt(3) hash.
struct http_user {
  std::string name;
  std::string password_hash;  // "$6$...", "$y$...", "$2b$..."
  int line = 0;
};

// The HTTP side (issue 18): the RFC 8460 §3 receiver, /metrics, /healthz, /readyz, and the
// dashboard's pages (issue 20) at /, /domain and /messages.
struct http_server {
  std::vector<std::string> listen{"127.0.0.1:8460"};  // host:port, IPv6 as [::1]:8460
  std::optional<std::string> tls_cert;                // PEM chain; with tls_key: native HTTPS
  std::optional<std::string> tls_key;
  std::string report_path = "/tlsrpt";
  std::vector<std::string> trusted_proxies;  // addresses or CIDR blocks
  std::uint64_t max_body_size = 25ull * 1024 * 1024;
  unsigned max_connections = 256;
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  // Empty: the dashboard answers without a password (listen is loopback by default).
  std::vector<http_user> users;
  int line = 0;
};

struct configuration {
  std::string file;  // where it was loaded from, "" for the built-in defaults
  database db;
  std::vector<mailbox> mailboxes;
  daemon run;
  logging log;
  limits lim;
  struct alerts alerts;
  std::optional<http_server> http;  // set when the file has an `http:` section
};

// Loads and validates a file. Throws error.
configuration load_file(const std::filesystem::path& path);
// Parses YAML text; `name` is used in messages. Throws error.
configuration parse(std::string_view yaml, const std::string& name = "<config>");
// The defaults, for commands run without a file.
configuration defaults();
// Applies TLSRPT_DATABASE_URL when set (load_file/parse/defaults already call this).
void apply_environment(configuration& c);

// What is valid but unsafe, one "config: file:line: key: why" line each: a file holding the
// database password or a password file readable by others, tls_verify: false.
std::vector<std::string> warnings(const configuration& c);

// Reads a secret now. Throws error naming the key and the variable or file, never the value.
std::string resolve_secret(const secret_ref& ref, const std::string& file);

// The systemd credential `name` from $CREDENTIALS_DIRECTORY: the file `name`, else
// `tlsrpt_<name>` (what the shipped units' `LoadCredential=tlsrpt:/etc/tlsrpt-collector/
// credentials` makes of the file `name` in that directory). nullopt when there is no such
// credential or no credentials directory.
std::optional<std::string> read_credential(std::string_view name);

// "30s", "5m", "1h", "2d", "500ms", or a bare number of seconds. Throws std::invalid_argument.
std::chrono::milliseconds parse_duration(std::string_view text);
// "25MiB", "512KiB", "1GiB", "10MB", "1000", "20 MiB". Throws std::invalid_argument.
std::uint64_t parse_size(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);

// A database URL or key=value connection string with every password in it replaced by ***
// (userinfo up to the last '@', password= query parameters, password = '...' keywords), for
// printing. Works on malformed strings too (they are what libpq echoes in its errors).
std::string redact_url(std::string_view url);
// The password values a connection string holds, as written and decoded: what scrub() must
// remove from any text that may quote the string (libpq's error messages do).
std::vector<std::string> connection_secrets(std::string_view conninfo);
// `text` with every occurrence of each secret replaced by ***.
std::string scrub(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace tlsrpt::config
