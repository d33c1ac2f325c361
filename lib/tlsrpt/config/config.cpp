// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "reader.hpp"

namespace tlsrpt::config {

namespace {

using detail::lower;
using detail::node_kind;
using detail::reader;
using detail::trim;

std::string compose(const std::string& file, int line, const std::string& path,
                    const std::string& cause) {
  std::string s = "config: ";
  if (!file.empty()) {
    s += file;
    if (line > 0) s += ":" + std::to_string(line);
    s += ": ";
  } else if (line > 0) {
    s += "line " + std::to_string(line) + ": ";
  }
  if (!path.empty()) s += path + ": ";
  return s + cause;
}

// Reads the number at the front of `s` (digits and an optional fraction) and removes it.
std::optional<double> take_number(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() &&
         ((s[n] >= '0' && s[n] <= '9') || (s[n] == '.' && n > 0 && n + 1 < s.size())))
    ++n;
  if (n == 0) return std::nullopt;
  const std::string digits(s.substr(0, n));
  s.remove_prefix(n);
  try {
    return std::stod(digits);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// PostgreSQL takes a postgresql:// (or postgres://) URL or a key=value string; anything else
// (mysql://, a bare host name) is a configuration error now rather than a libpq error later.
std::string database_url_problem(std::string_view url) {
  if (url.empty()) return {};
  const std::string l = lower(std::string(url.substr(0, 13)));
  if (l.starts_with("postgresql://") || l.starts_with("postgres://")) return {};
  if (url.find("://") == std::string_view::npos && url.find('=') != std::string_view::npos)
    return {};
  return "expected a postgresql:// URL or a key=value connection string, got \"" + redact_url(url) +
         "\"";
}

action::kind parse_action(const reader& r, const YAML::Node& n, const std::string& path,
                          bool allow_keyword) {
  const std::string v = lower(trim(r.scalar(n, path, "keyword, move or leave")));
  if (v == "keyword" && allow_keyword) return action::kind::keyword;
  if (v == "move") return action::kind::move;
  if (v == "leave") return action::kind::leave;
  r.fail(n, path,
         std::string("expected ") + (allow_keyword ? "keyword, move or leave" : "move or leave") +
             ", got \"" + n.Scalar() + "\"");
}

// imaps://host[:port][/folder]: the folder is the percent-decoded path.
std::string folder_from_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  const auto slash = url.find('/', scheme_end + 3);
  if (slash == std::string::npos) return {};
  std::string path = url.substr(slash + 1);
  const auto semicolon = path.find(';');
  if (semicolon != std::string::npos) path.resize(semicolon);
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() &&
        std::isxdigit(static_cast<unsigned char>(path[i + 1])) != 0 &&
        std::isxdigit(static_cast<unsigned char>(path[i + 2])) != 0) {
      out += static_cast<char>(std::stoi(path.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += path[i];
    }
  }
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

bool loopback_host(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

// The provider presets: Microsoft identity platform v2.0 and Google's OAuth 2.0 endpoint.
oauth2 read_oauth2(const reader& r, const YAML::Node& n, const std::string& path) {
  r.expect_map(n, path,
               {"provider", "tenant", "client_id", "client_secret_env", "client_secret_file",
                "client_secret_credential", "refresh_token_file", "token_url", "scope"});
  if (!n.IsMap()) r.fail(n, path, "expected a mapping with at least provider and client_id");
  oauth2 o;
  o.line = reader::line_of(n);
  for (const char* required : {"provider", "client_id"})
    if (!n[required]) r.fail(n, path, std::string("missing required key \"") + required + "\"");
  const std::string prov =
      lower(trim(r.scalar(n["provider"], reader::join(path, "provider"), "a provider name")));
  if (prov == "microsoft") {
    o.provider = oauth2::provider_kind::microsoft;
  } else if (prov == "google") {
    o.provider = oauth2::provider_kind::google;
  } else if (prov == "generic") {
    o.provider = oauth2::provider_kind::generic;
  } else {
    r.fail(n["provider"], reader::join(path, "provider"),
           "expected microsoft, google or generic, got \"" + n["provider"].Scalar() + "\"");
  }
  r.read(n, path, "tenant", o.tenant);
  r.read(n, path, "client_id", o.client_id);
  if (o.client_id.empty())
    r.fail(n["client_id"], reader::join(path, "client_id"), "must not be empty");
  int secrets = 0;
  for (const auto& [key, kind] :
       {std::pair{"client_secret_env", secret_ref::kind::env},
        std::pair{"client_secret_file", secret_ref::kind::file},
        std::pair{"client_secret_credential", secret_ref::kind::credential}}) {
    const YAML::Node s = n[key];
    if (!s) continue;
    ++secrets;
    o.client_secret.from = kind;
    o.client_secret.key_path = reader::join(path, key);
    o.client_secret.name = r.scalar(s, o.client_secret.key_path, "a string");
    o.client_secret.line = reader::line_of(s);
    if (o.client_secret.name.empty()) r.fail(s, o.client_secret.key_path, "must not be empty");
  }
  if (secrets > 1)
    r.fail(n, path,
           "set only one of client_secret_env, client_secret_file and client_secret_credential");
  r.read(n, path, "refresh_token_file", o.refresh_token_file);
  if (o.refresh_token_file && o.refresh_token_file->empty())
    r.fail(n["refresh_token_file"], reader::join(path, "refresh_token_file"), "must not be empty");
  if (!o.refresh_token_file && secrets == 0)
    r.fail(n, path,
           "the client-credentials grant needs a client secret: set client_secret_env, "
           "client_secret_file or client_secret_credential (or refresh_token_file for the "
           "refresh-token grant)");
  switch (o.provider) {
    case oauth2::provider_kind::microsoft:
      if (o.tenant.empty() && !n["token_url"])
        r.fail(n, path, "provider microsoft needs tenant (e.g. contoso.onmicrosoft.com)");
      o.token_url = "https://login.microsoftonline.com/" + o.tenant + "/oauth2/v2.0/token";
      // App-only access takes the resource's .default scope; delegated access names the
      // permission, and offline_access keeps a refresh token coming.
      o.scope = o.refresh_grant()
                    ? "https://outlook.office365.com/IMAP.AccessAsUser.All offline_access"
                    : "https://outlook.office365.com/.default";
      break;
    case oauth2::provider_kind::google:
      // Gmail's IMAP takes no service-account token without domain-wide delegation (a signed
      // JWT grant we do not do): the user consents once and we keep refreshing.
      if (!o.refresh_grant())
        r.fail(n, path, "provider google needs refresh_token_file (the refresh-token grant)");
      o.token_url = "https://oauth2.googleapis.com/token";
      break;
    case oauth2::provider_kind::generic:
      if (!n["token_url"]) r.fail(n, path, "provider generic needs token_url");
      break;
  }
  r.read(n, path, "token_url", o.token_url);
  r.read(n, path, "scope", o.scope);
  const std::string url_path = reader::join(path, "token_url");
  const YAML::Node url_node = n["token_url"] ? n["token_url"] : n;
  const std::string scheme = lower(o.token_url.substr(0, o.token_url.find("://")));
  const auto host_start = o.token_url.find("://");
  std::string host = host_start == std::string::npos ? "" : o.token_url.substr(host_start + 3);
  host = host.substr(0, host.find_first_of("/?#"));
  if (host.starts_with("[")) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host_start == std::string::npos || host.empty() || (scheme != "https" && scheme != "http"))
    r.fail(url_node, url_path, "expected an https:// URL, got \"" + redact_url(o.token_url) + "\"");
  if (o.token_url.find('@') != std::string::npos)
    r.fail(url_node, url_path, "must not contain credentials: use client_secret_env");
  // The client secret travels in the request body: plain HTTP only to a local token proxy.
  if (scheme == "http" && !loopback_host(lower(host)))
    r.fail(url_node, url_path, "must be https:// (http:// is allowed only to a loopback host)");
  return o;
}

mailbox read_mailbox(const reader& r, const YAML::Node& n, const std::string& path,
                     const limits& lim) {
  r.expect_map(n, path,
               {"name",
                "url",
                "folder",
                "username",
                "password_env",
                "password_file",
                "token_file",
                "token_env",
                "password_credential",
                "token_credential",
                "allow_plaintext",
                "ca_file",
                "tls_verify",
                "actions",
                "keywords",
                "batch_size",
                "max_message_size",
                "max_report_size",
                "connect_timeout",
                "operation_timeout",
                "max_attempts",
                "oauth2"});
  if (!n.IsMap()) r.fail(n, path, "expected a mapping with at least name, url and username");
  mailbox m;
  m.line = reader::line_of(n);
  m.max_message_size = lim.max_message_size;
  m.max_report_size = lim.max_report_size;
  for (const char* required : {"name", "url", "username"}) {
    if (!n[required]) r.fail(n, path, std::string("missing required key \"") + required + "\"");
  }
  r.read(n, path, "name", m.name);
  r.read(n, path, "url", m.url);
  r.read(n, path, "username", m.username);
  if (m.name.empty()) r.fail(n["name"], reader::join(path, "name"), "must not be empty");
  r.read(n, path, "allow_plaintext", m.allow_plaintext);
  const std::string scheme = lower(m.url.substr(0, m.url.find("://")));
  if (m.url.find("://") == std::string::npos || (scheme != "imaps" && scheme != "imap") ||
      m.url.size() <= scheme.size() + 3) {
    r.fail(n["url"], reader::join(path, "url"),
           "expected imaps://host[:port]/FOLDER (or imap:// for STARTTLS), got \"" +
               redact_url(m.url) + "\"");
  }
  if (m.url.find('@') != std::string::npos)
    r.fail(n["url"], reader::join(path, "url"),
           "must not contain credentials: use username and password_env/password_file");
  m.folder = folder_from_url(m.url);
  r.read(n, path, "folder", m.folder);
  if (m.folder.empty()) m.folder = "INBOX";

  // Exactly one source of the secret: never the secret itself in the file.
  int sources = 0;
  for (const auto& [key, kind, method] :
       {std::tuple{"password_env", secret_ref::kind::env, auth_method::password},
        std::tuple{"password_file", secret_ref::kind::file, auth_method::password},
        std::tuple{"token_env", secret_ref::kind::env, auth_method::xoauth2},
        std::tuple{"token_file", secret_ref::kind::file, auth_method::xoauth2},
        std::tuple{"password_credential", secret_ref::kind::credential, auth_method::password},
        std::tuple{"token_credential", secret_ref::kind::credential, auth_method::xoauth2}}) {
    const YAML::Node s = n[key];
    if (!s) continue;
    ++sources;
    m.secret.from = kind;
    m.secret.name = r.scalar(s, reader::join(path, key), "a string");
    m.secret.key_path = reader::join(path, key);
    m.secret.line = reader::line_of(s);
    m.auth = method;
    if (m.secret.name.empty()) r.fail(s, m.secret.key_path, "must not be empty");
  }
  if (const YAML::Node o = n["oauth2"]) {
    ++sources;
    m.oauth = read_oauth2(r, o, reader::join(path, "oauth2"));
    m.auth = auth_method::xoauth2;
  }
  if (sources == 0)
    r.fail(n, path,
           "no credentials: set one of password_env, password_file, password_credential, "
           "token_env, token_file, token_credential or oauth2");
  if (sources > 1)
    r.fail(n, path,
           "more than one credential source: set only one of password_env, password_file, "
           "password_credential, token_env, token_file, token_credential, oauth2");

  r.read(n, path, "ca_file", m.ca_file);
  r.read(n, path, "tls_verify", m.tls_verify);

  const YAML::Node kw = n["keywords"];
  const std::string kw_path = reader::join(path, "keywords");
  if (kw) {
    r.expect_map(kw, kw_path, {"processed", "failed"});
    r.read(kw, kw_path, "processed", m.on_success.target);
    r.read(kw, kw_path, "failed", m.on_failure.target);
  }
  const std::string processed_kw = m.on_success.target;
  const std::string failed_kw = m.on_failure.target;

  const YAML::Node act = n["actions"];
  const std::string act_path = reader::join(path, "actions");
  if (act) {
    r.expect_map(act, act_path,
                 {"success", "success_folder", "failure", "failure_folder", "not_a_report",
                  "not_a_report_folder"});
    struct slot {
      const char* key;
      const char* folder_key;
      action* act;
      bool allow_keyword;
      std::string keyword;
    };
    for (const slot& s :
         {slot{"success", "success_folder", &m.on_success, true, processed_kw},
          slot{"failure", "failure_folder", &m.on_failure, true, failed_kw},
          slot{"not_a_report", "not_a_report_folder", &m.on_not_a_report, false, ""}}) {
      const std::string p = reader::join(act_path, s.key);
      if (act[s.key]) s.act->what = parse_action(r, act[s.key], p, s.allow_keyword);
      std::string folder;
      r.read(act, act_path, s.folder_key, folder);
      switch (s.act->what) {
        case action::kind::keyword:
          s.act->target = s.keyword;
          break;
        case action::kind::move:
          if (folder.empty())
            r.fail(act[s.key] ? act[s.key] : act, p,
                   std::string("move needs a folder: set ") + s.folder_key);
          s.act->target = folder;
          break;
        case action::kind::leave:
          s.act->target.clear();
          break;
      }
    }
  }

  r.read_int<std::size_t>(n, path, "batch_size", m.batch_size, 1);
  r.read_size(n, path, "max_message_size", m.max_message_size);
  r.read_size(n, path, "max_report_size", m.max_report_size);
  r.read_duration(n, path, "connect_timeout", m.connect_timeout);
  r.read_duration(n, path, "operation_timeout", m.operation_timeout);
  r.read_int(n, path, "max_attempts", m.max_attempts, 1);
  return m;
}

configuration read_root(const reader& r, const YAML::Node& root) {
  configuration c;
  c.file = r.file();
  if (!root || root.IsNull()) return c;
  r.expect_map(root, "",
               {"database", "mailboxes", "daemon", "logging", "limits", "alerts", "http"});
  if (const YAML::Node h = root["http"]) c.http = detail::read_http(r, h);

  if (const YAML::Node db = root["database"]) {
    r.expect_map(db, "database", {"url", "migrate_on_start", "migrations_dir", "batch_size"});
    if (db.IsMap()) {
      r.read(db, "database", "url", c.db.url);
      if (const std::string why = database_url_problem(c.db.url); !why.empty())
        r.fail(db["url"], "database.url", why);
      r.read(db, "database", "migrate_on_start", c.db.migrate_on_start);
      r.read(db, "database", "migrations_dir", c.db.migrations_dir);
      r.read_int<std::size_t>(db, "database", "batch_size", c.db.batch_size, 1);
    }
  }
  if (const YAML::Node d = root["daemon"]) {
    r.expect_map(d, "daemon", {"interval", "jitter", "max_backoff", "idle"});
    if (d.IsMap()) {
      // Intervals and backoffs below one second: `max_backoff: 1ms` would log in ~800 times
      // a second against a database that is down.
      r.read_duration(d, "daemon", "interval", c.run.interval, false, std::chrono::seconds(1));
      r.read_duration(d, "daemon", "jitter", c.run.jitter, true);
      r.read_duration(d, "daemon", "max_backoff", c.run.max_backoff, false,
                      std::chrono::seconds(1));
      r.read(d, "daemon", "idle", c.run.idle);
    }
  }
  if (const YAML::Node l = root["logging"]) {
    r.expect_map(l, "logging", {"format", "level"});
    if (l.IsMap()) {
      if (const YAML::Node f = l["format"]) {
        const std::string v = lower(r.scalar(f, "logging.format", "text or json"));
        if (v == "text") {
          c.log.fmt = logging::format::text;
        } else if (v == "json") {
          c.log.fmt = logging::format::json;
        } else {
          r.fail(f, "logging.format", "expected text or json, got \"" + f.Scalar() + "\"");
        }
      }
      if (const YAML::Node lv = l["level"]) {
        const std::string v = lower(r.scalar(lv, "logging.level", "a log level"));
        static const std::set<std::string> levels{"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
        if (levels.count(v) == 0)
          r.fail(lv, "logging.level",
                 "expected trace, debug, info, warn, error, critical or off, got \"" + lv.Scalar() +
                     "\"");
        c.log.level = v;
      }
    }
  }
  if (const YAML::Node l = root["limits"]) {
    r.expect_map(l, "limits",
                 {"max_message_size", "max_report_size", "max_depth", "max_policies",
                  "max_failure_details"});
    if (l.IsMap()) {
      r.read_size(l, "limits", "max_message_size", c.lim.max_message_size);
      r.read_size(l, "limits", "max_report_size", c.lim.max_report_size);
      r.read_int<std::size_t>(l, "limits", "max_depth", c.lim.max_depth, 1);
      r.read_int<std::size_t>(l, "limits", "max_policies", c.lim.max_policies, 1);
      r.read_int<std::size_t>(l, "limits", "max_failure_details", c.lim.max_failure_details, 1);
    }
  }
  if (const YAML::Node a = root["alerts"]) detail::read_alerts(r, a, c.alerts);
  if (const YAML::Node ms = root["mailboxes"]) {
    if (!ms.IsNull() && !ms.IsSequence())
      r.fail(ms, "mailboxes", std::string("expected a list, got ") + node_kind(ms));
    std::set<std::string> names;
    for (std::size_t i = 0; i < ms.size(); ++i) {
      const std::string path = "mailboxes[" + std::to_string(i) + "]";
      mailbox m = read_mailbox(r, ms[i], path, c.lim);
      if (!names.insert(m.name).second)
        r.fail(ms[i]["name"], path + ".name", "duplicate mailbox name \"" + m.name + "\"");
      c.mailboxes.push_back(std::move(m));
    }
  }
  return c;
}

}  // namespace

error::error(std::string file, int line, std::string key_path, std::string cause)
    : std::runtime_error(compose(file, line, key_path, cause)),
      file_(std::move(file)),
      line_(line),
      key_path_(std::move(key_path)),
      cause_(std::move(cause)) {}

std::string_view to_string(action::kind k) noexcept {
  switch (k) {
    case action::kind::keyword:
      return "keyword";
    case action::kind::move:
      return "move";
    case action::kind::leave:
      return "leave";
  }
  return "leave";
}

configuration parse(std::string_view yaml, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw error(name, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "invalid YAML: " + e.msg);
  }
  configuration c;
  try {
    c = read_root(reader(name), root);
  } catch (const YAML::Exception& e) {
    // Conversions we did not anticipate still end as a config error with a line.
    throw error(name, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", e.msg);
  }
  apply_environment(c);
  return c;
}

configuration load_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw error(path.string(), 0, "", "is a directory, not a configuration file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(path.string(), 0, "", "cannot open the configuration file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path.string());
}

configuration defaults() {
  configuration c;
  apply_environment(c);
  return c;
}

void apply_environment(configuration& c) {
  const char* url = std::getenv("TLSRPT_DATABASE_URL");
  if (url != nullptr && *url != '\0') {
    if (const std::string why = database_url_problem(url); !why.empty())
      throw error("", 0, "TLSRPT_DATABASE_URL", why);
    c.db.url = url;
    c.db.url_from_environment = true;
    return;
  }
  // Under systemd the URL (which may hold a password) comes best as a credential: it is then
  // in neither the environment nor a world-readable file.
  if (auto cred = read_credential("database-url")) {
    c.db.url = std::move(*cred);
    c.db.url_from_credential = true;
  }
}

namespace {

std::optional<std::string> read_secret_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  // Files written with `echo` end with a newline that is not part of the secret.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::optional<std::string> read_credential(std::string_view name) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  // A credential name is a file name, never a path out of the credentials directory.
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos)
    return std::nullopt;
  const std::filesystem::path base(dir);
  if (auto s = read_secret_file(base / std::string(name))) return s;
  return read_secret_file(base / ("tlsrpt_" + std::string(name)));
}

std::string_view to_string(oauth2::provider_kind p) noexcept {
  switch (p) {
    case oauth2::provider_kind::microsoft:
      return "microsoft";
    case oauth2::provider_kind::google:
      return "google";
    case oauth2::provider_kind::generic:
      return "generic";
  }
  return "generic";
}

std::string resolve_secret(const secret_ref& ref, const std::string& file) {
  switch (ref.from) {
    case secret_ref::kind::none:
      throw error(file, ref.line, ref.key_path, "no secret configured");
    case secret_ref::kind::env: {
      const char* v = std::getenv(ref.name.c_str());
      if (v == nullptr || *v == '\0')
        throw error(file, ref.line, ref.key_path,
                    "the environment variable " + ref.name + " is not set or empty");
      return v;
    }
    case secret_ref::kind::file: {
      auto s = read_secret_file(ref.name);
      if (!s) throw error(file, ref.line, ref.key_path, "cannot read the file " + ref.name);
      if (s->empty())
        throw error(file, ref.line, ref.key_path, "the file " + ref.name + " is empty");
      return *s;
    }
    case secret_ref::kind::credential: {
      const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
      if (dir == nullptr || *dir == '\0')
        throw error(file, ref.line, ref.key_path,
                    "cannot read the credential " + ref.name +
                        ": $CREDENTIALS_DIRECTORY is not set (run under systemd with "
                        "LoadCredential=, as the shipped units do)");
      auto s = read_credential(ref.name);
      if (!s)
        throw error(file, ref.line, ref.key_path,
                    "cannot read the credential " + ref.name + " in " + dir +
                        " (put it in /etc/tlsrpt-collector/credentials/" + ref.name + ")");
      if (s->empty())
        throw error(file, ref.line, ref.key_path, "the credential " + ref.name + " is empty");
      return *s;
    }
  }
  throw error(file, ref.line, ref.key_path, "no secret configured");
}

std::chrono::milliseconds parse_duration(std::string_view text) {
  const std::string original = trim(text);
  std::string_view s = original;
  const std::string bad =
      "expected a duration such as 30s, 5m, 1h or 1h30m, got \"" + original + "\"";
  if (s.empty()) throw std::invalid_argument(bad);
  double total_ms = 0;
  bool bare = true;
  while (!s.empty()) {
    const auto number = take_number(s);
    if (!number) throw std::invalid_argument(bad);
    std::size_t n = 0;
    while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n])) != 0) ++n;
    const std::string unit = lower(std::string(s.substr(0, n)));
    s.remove_prefix(n);
    double factor = 0;
    if (unit.empty()) {
      // A bare number is seconds, but only on its own ("90"), not inside "1h30".
      if (!s.empty() || !bare) throw std::invalid_argument(bad);
      factor = 1000;
    } else if (unit == "ms") {
      factor = 1;
    } else if (unit == "s") {
      factor = 1000;
    } else if (unit == "m" || unit == "min") {
      factor = 60'000;
    } else if (unit == "h") {
      factor = 3'600'000;
    } else if (unit == "d") {
      factor = 86'400'000;
    } else {
      throw std::invalid_argument(bad + " (units: ms, s, m, h, d)");
    }
    bare = false;
    total_ms += *number * factor;
  }
  if (total_ms > 1e15) throw std::invalid_argument(bad + " (too long)");
  return std::chrono::milliseconds(static_cast<std::int64_t>(total_ms));
}

std::uint64_t parse_size(std::string_view text) {
  const std::string original = trim(text);
  std::string_view s = original;
  const std::string bad = "expected a size such as 512KiB, 25MiB or 1GiB, got \"" + original + "\"";
  const auto number = take_number(s);
  if (!number) throw std::invalid_argument(bad);
  const std::string unit = lower(trim(s));
  double factor = 0;
  if (unit.empty() || unit == "b") {
    factor = 1;
  } else if (unit == "kib") {
    factor = 1024.0;
  } else if (unit == "mib") {
    factor = 1024.0 * 1024;
  } else if (unit == "gib") {
    factor = 1024.0 * 1024 * 1024;
  } else if (unit == "kb") {
    factor = 1e3;
  } else if (unit == "mb") {
    factor = 1e6;
  } else if (unit == "gb") {
    factor = 1e9;
  } else {
    throw std::invalid_argument(bad + " (units: B, KiB, MiB, GiB, KB, MB, GB)");
  }
  const double bytes = *number * factor;
  if (bytes > 1e15) throw std::invalid_argument(bad + " (too large)");
  return static_cast<std::uint64_t>(bytes);
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 3'600'000 == 0 && ms != 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms != 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace tlsrpt::config
