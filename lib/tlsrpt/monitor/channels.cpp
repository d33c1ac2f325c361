// SPDX-License-Identifier: Apache-2.0
// The notification channels and their bodies: webhooks (json, slack, teams) and mail. What a
// sender controls (MX host names, reporter names, error text) reaches every body escaped for
// where it goes: JSON strings through text::json_quote, Slack's and Teams' markup through
// their escapes inside those, mail headers through header_text (no CR/LF: no injection).
#include <ctime>

#include "tlsrpt/digest/sha256.hpp"
#include "tlsrpt/imap/outbound.hpp"
#include "tlsrpt/monitor/alerts.hpp"
#include "tlsrpt/monitor/mail.hpp"
#include "tlsrpt/text/escape.hpp"

namespace tlsrpt::monitor {

namespace {

using text::json_quote;

std::string iso(std::chrono::sys_seconds t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "CRITICAL" or "WARNING" for an opening, "RESOLVED" for a resolution.
std::string status_word(const std::string& event, const store::alert_row& a) {
  if (event == "resolved") return "RESOLVED";
  return a.severity == "critical" ? "CRITICAL" : "WARNING";
}

// Slack's mrkdwn reads & < > as control characters: <url|text> is a link, <!channel> pings
// everyone (api.slack.com/reference/surfaces/formatting#escaping).
std::string slack_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

// Teams renders a MessageCard's text as Markdown with some HTML: a host name like
// "[click](https://evil.example)" must stay text. Backslash escapes are CommonMark's.
std::string teams_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '(':
      case ')':
      case '#':
      case '~':
      case '|':
      case '!':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string short_hash(const std::string& s) { return digest::sha256_hex(s).substr(0, 12); }

imap::delivery_limits limits_of(std::chrono::milliseconds timeout,
                                const std::optional<std::string>& ca_file) {
  imap::delivery_limits lim;
  lim.timeout = timeout;
  lim.connect_timeout = std::min(timeout, lim.connect_timeout);
  lim.ca_file = ca_file;
  return lim;
}

class webhook_channel final : public channel {
 public:
  explicit webhook_channel(config::webhook w) : w_(std::move(w)) {}
  std::string id() const override {
    return "webhook:" + std::string(config::to_string(w_.fmt)) + ":" + short_hash(w_.url);
  }
  std::string describe() const override {
    return "webhook " + imap::url_origin(w_.url) + " (" + std::string(config::to_string(w_.fmt)) +
           ")";
  }
  void deliver(const std::string& event, const store::alert_row& a) override {
    imap::http_post(w_.url, webhook_body(w_.fmt, event, a), "application/json",
                    limits_of(w_.timeout, std::nullopt));
  }

 private:
  config::webhook w_;
};

class email_channel final : public channel {
 public:
  email_channel(config::email e, std::string password)
      : e_(std::move(e)), password_(std::move(password)) {}
  std::string id() const override {
    std::string to;
    for (const auto& t : e_.to) to += t + ",";
    return "email:" + short_hash(e_.smtp_url + "|" + to);
  }
  std::string describe() const override { return "mail through " + imap::url_origin(e_.smtp_url); }
  void deliver(const std::string& event, const store::alert_row& a) override {
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    imap::smtp_send({.url = e_.smtp_url,
                     .username = e_.username,
                     .password = password_,
                     .from = e_.from,
                     .to = e_.to,
                     .allow_plaintext = e_.allow_plaintext},
                    alert_mail(e_, event, a, now), limits_of(e_.timeout, e_.ca_file));
  }

 private:
  config::email e_;
  std::string password_;
};

}  // namespace

std::vector<std::unique_ptr<channel>> channels_from(const config::alerts& a,
                                                    const std::string& config_file) {
  std::vector<std::unique_ptr<channel>> out;
  for (const auto& w : a.webhooks) out.push_back(std::make_unique<webhook_channel>(w));
  if (a.mail) {
    std::string password;
    if (a.mail->password.from != config::secret_ref::kind::none)
      password = config::resolve_secret(a.mail->password, config_file);
    out.push_back(std::make_unique<email_channel>(*a.mail, std::move(password)));
  }
  return out;
}

std::string webhook_body(config::webhook::format f, const std::string& event,
                         const store::alert_row& a) {
  const std::string headline = "TLSRPT " + status_word(event, a) + ": " + a.title;
  const std::string resolved_line = "No longer seen since " +
                                    (a.resolved ? iso(*a.resolved) : std::string("now")) +
                                    " (open since " + iso(a.opened) + ").";
  switch (f) {
    case config::webhook::format::slack:
      // Incoming webhooks take a `text` in mrkdwn (api.slack.com/messaging/webhooks).
      return "{\"text\":" +
             json_quote("*" + slack_escape(headline) + "*\n" +
                        (event == "resolved" ? resolved_line
                                             : slack_escape(a.meaning) +
                                                   "\nWhat to check: " + slack_escape(a.to_check)) +
                        "\nKey: " + slack_escape(a.key)) +
             "}\n";
    case config::webhook::format::teams:
      // An Office 365 connector card (MessageCard), which Teams incoming webhooks take.
      return "{\"@type\":\"MessageCard\",\"@context\":\"https://schema.org/extensions\","
             "\"themeColor\":" +
             json_quote(event == "resolved"        ? "2EB886"
                        : a.severity == "critical" ? "D00000"
                                                   : "FFA500") +
             ",\"summary\":" + json_quote(headline) +
             ",\"title\":" + json_quote(teams_escape(headline)) + ",\"text\":" +
             json_quote(event == "resolved" ? resolved_line + " Key: " + teams_escape(a.key)
                                            : teams_escape(a.meaning) +
                                                  "\n\nWhat to check: " + teams_escape(a.to_check) +
                                                  "\n\nKey: " + teams_escape(a.key)) +
             "}\n";
    case config::webhook::format::json:
      break;
  }
  // The payload is the finding as `check --format json` prints it (docs/findings.md), read back
  // from jsonb, so it is one valid JSON value.
  return "{\"event\":" + json_quote(event) + ",\"key\":" + json_quote(a.key) +
         ",\"rule\":" + json_quote(a.rule) + ",\"severity\":" + json_quote(a.severity) +
         ",\"domain\":" + (a.policy_domain ? json_quote(*a.policy_domain) : std::string("null")) +
         ",\"title\":" + json_quote(a.title) + ",\"opened\":" + json_quote(iso(a.opened)) +
         ",\"resolved\":" + (a.resolved ? json_quote(iso(*a.resolved)) : std::string("null")) +
         ",\"finding\":" + (a.payload.empty() ? std::string("null") : a.payload) + "}\n";
}

std::string alert_mail(const config::email& e, const std::string& event, const store::alert_row& a,
                       std::chrono::sys_seconds now) {
  using detail::body_text;
  std::string text = body_text(a.title) + "\n\n";
  if (event == "resolved") {
    text += "Resolved: no longer seen since " + (a.resolved ? iso(*a.resolved) : iso(now)) +
            " (open since " + iso(a.opened) + ").\n";
  } else {
    text += "Opened: " + iso(a.opened) + "\nSeverity: " + a.severity +
            "\n\nWhat it means: " + body_text(a.meaning) +
            "\nWhat to check: " + body_text(a.to_check) + "\n";
  }
  text += "\nKey: " + body_text(a.key) +
          "\n\nOne mail comes when a finding opens and one when it resolves; "
          "`tlsrpt-collector check` lists what is open now.\n";
  return detail::compose({.from = e.from,
                          .to = e.to,
                          .subject = "[TLSRPT " + status_word(event, a) + "] " + a.title,
                          .text = text,
                          .date = now});
}

}  // namespace tlsrpt::monitor
