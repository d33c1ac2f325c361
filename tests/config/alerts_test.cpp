// SPDX-License-Identifier: Apache-2.0
// The `alerts:` section (issue 19).
#include <doctest/doctest.h>

#include "tlsrpt/config/config.hpp"

namespace cfg = tlsrpt::config;
using namespace std::chrono_literals;

namespace {

std::string error_of(const std::string& yaml) {
  try {
    cfg::parse(yaml, "t.yaml");
  } catch (const cfg::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("alerts: the section of the issue is read with every key") {
  const auto c = cfg::parse(R"(alerts:
  webhooks:
    - url: https://hooks.slack.com/services/T/B/X
      format: slack
    - url: http://127.0.0.1:9/hook
  email:
    smtp_url: smtp://mail.example.com:587
    username: alerts@example.com
    password_env: TLSRPT_SMTP_PASSWORD
    from: tlsrpt-collector@example.com
    to: [postmaster@example.com, ops@example.com]
  min_severity: critical
  rules:
    window: 3d
    threshold: 0.5%
    min_sessions: 10
    spike_factor: 2.5
    min_days: 21
    stale_after: 30m
)");
  const auto& a = c.alerts;
  REQUIRE(a.webhooks.size() == 2);
  CHECK(a.webhooks[0].fmt == cfg::webhook::format::slack);
  CHECK(a.webhooks[1].fmt == cfg::webhook::format::json);
  REQUIRE(a.mail.has_value());
  CHECK(a.mail->smtp_url == "smtp://mail.example.com:587");
  CHECK(a.mail->password.from == cfg::secret_ref::kind::env);
  CHECK(a.mail->password.name == "TLSRPT_SMTP_PASSWORD");
  CHECK(a.mail->to == std::vector<std::string>{"postmaster@example.com", "ops@example.com"});
  CHECK_FALSE(a.mail->allow_plaintext);
  CHECK(a.min_severity == cfg::severity::critical);
  CHECK(a.rules.window == 72h);
  CHECK(a.rules.threshold == doctest::Approx(0.005));
  CHECK(a.rules.min_sessions == 10);
  CHECK(a.rules.spike_factor == doctest::Approx(2.5));
  CHECK(a.rules.min_days == 21);
  CHECK(a.rules.stale_after == 30min);
  CHECK(a.rules.baseline == 14 * 24h);  // untouched defaults stay
}

TEST_CASE("alerts: mistakes name their key and line") {
  CHECK(error_of("alerts:\n  rules:\n    threshold: lots\n") ==
        "config: t.yaml:3: alerts.rules.threshold: expected a share such as 0.1% or 0.001, got "
        "\"lots\"");
  CHECK(error_of("alerts:\n  rules:\n    window: 36h\n") ==
        "config: t.yaml:3: alerts.rules.window: must be a whole number of days, such as 2d or "
        "14d");
  CHECK(error_of("alerts:\n  webhooks:\n    - url: ftp://x\n")
            .find("alerts.webhooks[0].url: expected an https://") != std::string::npos);
  CHECK(error_of("alerts:\n  webhooks:\n    - url: https://x\n      format: xml\n")
            .find("t.yaml:4: alerts.webhooks[0].format: expected slack, teams or json") !=
        std::string::npos);
  CHECK(error_of("alerts:\n  email:\n    smtp_url: smtp://u:p@x\n    from: a@b\n    to: c@d\n")
            .find("must not contain credentials") != std::string::npos);
  CHECK(error_of("alerts:\n  email:\n    smtp_url: smtp://x\n    from: a@b\n    to: "
                 "\"c@d\\r\\nBcc: e@f\"\n")
            .find("alerts.email.to: expected plain addresses") != std::string::npos);
  CHECK(error_of("alerts:\n  min_severity: info\n").find("expected warning or critical") !=
        std::string::npos);
  CHECK(error_of("alerts:\n  rule:\n    x: 1\n").find("alerts.rule: unknown key") !=
        std::string::npos);
}
