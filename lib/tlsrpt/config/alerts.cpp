// SPDX-License-Identifier: Apache-2.0
// The `alerts:` section (issue 19): where findings are sent and the thresholds of the rules.
#include <cmath>
#include <stdexcept>

#include "reader.hpp"

namespace tlsrpt::config {

std::string_view to_string(severity s) noexcept {
  return s == severity::critical ? "critical" : "warning";
}

std::string_view to_string(webhook::format f) noexcept {
  switch (f) {
    case webhook::format::slack:
      return "slack";
    case webhook::format::teams:
      return "teams";
    case webhook::format::json:
      break;
  }
  return "json";
}

namespace detail {

namespace {

// "0.1%" or a plain share "0.001".
double read_share(const reader& r, const YAML::Node& n, const std::string& path) {
  std::string v = trim(r.scalar(n, path, "a share such as 0.1% or 0.001"));
  const bool percent = !v.empty() && v.back() == '%';
  if (percent) v = trim(std::string_view(v).substr(0, v.size() - 1));
  double d = 0;
  try {
    std::size_t used = 0;
    d = std::stod(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
  } catch (const std::exception&) {
    r.fail(n, path, "expected a share such as 0.1% or 0.001, got \"" + n.Scalar() + "\"");
  }
  if (percent) d /= 100.0;
  if (!std::isfinite(d) || d < 0 || d > 1)
    r.fail(n, path, "must lie between 0 and 100%, got \"" + n.Scalar() + "\"");
  return d;
}

int whole_days(const reader& r, const YAML::Node& n, const std::string& path,
               std::chrono::milliseconds d) {
  const auto days = std::chrono::duration_cast<std::chrono::hours>(d).count() / 24;
  if (days < 1 || d % std::chrono::hours(24) != std::chrono::milliseconds(0))
    r.fail(n, path, "must be a whole number of days, such as 2d or 14d");
  return static_cast<int>(days);
}

void read_rules(const reader& r, const YAML::Node& n, alert_rules& out) {
  const std::string path = "alerts.rules";
  r.expect_map(n, path,
               {"window", "baseline", "min_baseline_days", "threshold", "min_sessions",
                "spike_factor", "silent_active_days", "silent_baseline", "silent_after", "min_days",
                "min_reporters", "quiet_days", "stale_after"});
  if (!n.IsMap()) return;
  // Day-based windows: the rules count UTC days of reports.
  for (const auto& [key, slot] :
       {std::pair{"window", &out.window}, std::pair{"baseline", &out.baseline},
        std::pair{"silent_baseline", &out.silent_baseline},
        std::pair{"silent_after", &out.silent_after}}) {
    r.read_duration(n, path, key, *slot);
    if (n[key]) whole_days(r, n[key], reader::join(path, key), *slot);
  }
  r.read_duration(n, path, "stale_after", out.stale_after);
  r.read_int(n, path, "min_baseline_days", out.min_baseline_days, 1);
  if (const YAML::Node t = n["threshold"]) out.threshold = read_share(r, t, path + ".threshold");
  r.read_int<std::int64_t>(n, path, "min_sessions", out.min_sessions, 1);
  if (const YAML::Node f = n["spike_factor"]) {
    const std::string v = trim(r.scalar(f, path + ".spike_factor", "a number"));
    try {
      std::size_t used = 0;
      out.spike_factor = std::stod(v, &used);
      if (used != v.size()) throw std::invalid_argument(v);
    } catch (const std::exception&) {
      r.fail(f, path + ".spike_factor", "expected a number such as 3, got \"" + f.Scalar() + "\"");
    }
    if (!(out.spike_factor > 1))
      r.fail(f, path + ".spike_factor", "must be greater than 1, got " + v);
  }
  r.read_int(n, path, "silent_active_days", out.silent_active_days, 1);
  r.read_int(n, path, "min_days", out.min_days, 1);
  r.read_int(n, path, "min_reporters", out.min_reporters, 1);
  r.read_int(n, path, "quiet_days", out.quiet_days, 1);
}

webhook read_webhook(const reader& r, const YAML::Node& n, const std::string& path) {
  r.expect_map(n, path, {"url", "format", "timeout"});
  if (!n.IsMap() || !n["url"]) r.fail(n, path, "expected a mapping with at least url");
  webhook w;
  w.line = reader::line_of(n);
  r.read(n, path, "url", w.url);
  const std::string scheme = lower(w.url.substr(0, w.url.find("://")));
  if (w.url.find("://") == std::string::npos || (scheme != "https" && scheme != "http"))
    r.fail(n["url"], path + ".url", "expected an https:// (or http://) URL");
  if (const YAML::Node f = n["format"]) {
    const std::string v = lower(trim(r.scalar(f, path + ".format", "slack, teams or json")));
    if (v == "slack") {
      w.fmt = webhook::format::slack;
    } else if (v == "teams") {
      w.fmt = webhook::format::teams;
    } else if (v == "json") {
      w.fmt = webhook::format::json;
    } else {
      r.fail(f, path + ".format", "expected slack, teams or json, got \"" + f.Scalar() + "\"");
    }
  }
  r.read_duration(n, path, "timeout", w.timeout);
  return w;
}

email read_email(const reader& r, const YAML::Node& n) {
  const std::string path = "alerts.email";
  r.expect_map(n, path,
               {"smtp_url", "username", "password_env", "password_file", "password_credential",
                "from", "to", "allow_plaintext", "ca_file", "timeout"});
  if (!n.IsMap()) r.fail(n, path, "expected a mapping with smtp_url, from and to");
  for (const char* required : {"smtp_url", "from", "to"})
    if (!n[required]) r.fail(n, path, std::string("missing required key \"") + required + "\"");
  email e;
  e.line = reader::line_of(n);
  r.read(n, path, "smtp_url", e.smtp_url);
  const std::string scheme = lower(e.smtp_url.substr(0, e.smtp_url.find("://")));
  if (e.smtp_url.find("://") == std::string::npos || (scheme != "smtp" && scheme != "smtps"))
    r.fail(n["smtp_url"], path + ".smtp_url",
           "expected smtp://host:587 (STARTTLS) or smtps://host:465, got \"" +
               redact_url(e.smtp_url) + "\"");
  if (e.smtp_url.find('@') != std::string::npos)
    r.fail(n["smtp_url"], path + ".smtp_url",
           "must not contain credentials: use username and password_env/password_file");
  r.read(n, path, "username", e.username);
  for (const auto& [key, kind] : {std::pair{"password_env", secret_ref::kind::env},
                                  std::pair{"password_file", secret_ref::kind::file},
                                  std::pair{"password_credential", secret_ref::kind::credential}}) {
    const YAML::Node s = n[key];
    if (!s) continue;
    if (e.password.from != secret_ref::kind::none)
      r.fail(s, path, "set only one of password_env, password_file and password_credential");
    e.password.from = kind;
    e.password.name = r.scalar(s, reader::join(path, key), "a string");
    e.password.key_path = reader::join(path, key);
    e.password.line = reader::line_of(s);
  }
  if (e.password.from != secret_ref::kind::none && e.username.empty())
    r.fail(n, path, "a password needs a username");
  r.read(n, path, "from", e.from);
  const YAML::Node to = n["to"];
  if (to.IsScalar()) {
    e.to.push_back(to.Scalar());
  } else if (to.IsSequence()) {
    for (std::size_t i = 0; i < to.size(); ++i)
      e.to.push_back(r.scalar(to[i], path + ".to[" + std::to_string(i) + "]", "an address"));
  } else {
    r.fail(to, path + ".to", "expected an address or a list of addresses");
  }
  for (const auto& a : e.to)
    if (a.find('@') == std::string::npos || a.find_first_of("<>\r\n ,") != std::string::npos)
      r.fail(to, path + ".to", "expected plain addresses (local@domain), got \"" + a + "\"");
  if (e.to.empty()) r.fail(to, path + ".to", "must name at least one address");
  if (e.from.find('@') == std::string::npos ||
      e.from.find_first_of("<>\r\n ,") != std::string::npos)
    r.fail(n["from"], path + ".from", "expected a plain address (local@domain)");
  r.read(n, path, "allow_plaintext", e.allow_plaintext);
  r.read(n, path, "ca_file", e.ca_file);
  r.read_duration(n, path, "timeout", e.timeout);
  return e;
}

}  // namespace

void read_alerts(const reader& r, const YAML::Node& n, alerts& out) {
  r.expect_map(n, "alerts", {"webhooks", "email", "min_severity", "rules"});
  if (!n.IsMap()) return;
  if (const YAML::Node ws = n["webhooks"]) {
    if (!ws.IsNull() && !ws.IsSequence())
      r.fail(ws, "alerts.webhooks", std::string("expected a list, got ") + node_kind(ws));
    for (std::size_t i = 0; i < ws.size(); ++i)
      out.webhooks.push_back(read_webhook(r, ws[i], "alerts.webhooks[" + std::to_string(i) + "]"));
  }
  if (const YAML::Node e = n["email"]; e && !e.IsNull()) out.mail = read_email(r, e);
  if (const YAML::Node s = n["min_severity"]) {
    const std::string v = lower(trim(r.scalar(s, "alerts.min_severity", "warning or critical")));
    if (v == "warning") {
      out.min_severity = severity::warning;
    } else if (v == "critical") {
      out.min_severity = severity::critical;
    } else {
      r.fail(s, "alerts.min_severity", "expected warning or critical, got \"" + s.Scalar() + "\"");
    }
  }
  if (const YAML::Node rules = n["rules"]) read_rules(r, rules, out.rules);
}

}  // namespace detail

}  // namespace tlsrpt::config
