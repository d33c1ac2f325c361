// SPDX-License-Identifier: Apache-2.0
// The findings as `check` prints them: JSON (the stable interface, docs/findings.md) and text
// in the monitoring-plugin convention (status line first, perfdata after `|`).
#include <ctime>

#include "tlsrpt/monitor/finding.hpp"
#include "tlsrpt/monitor/json.hpp"

namespace tlsrpt::monitor {

namespace {

std::string iso(std::chrono::sys_seconds t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Terminal output: control characters from senders' text shown as '?', never interpreted.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    out += (c < 0x20 || c == 0x7f) ? '?' : ch;
  }
  return out;
}

}  // namespace

std::string to_json(const finding& f) {
  using detail::quote;
  std::string s =
      "{\"key\":" + quote(f.key) + ",\"rule\":" + quote(f.rule) +
      ",\"severity\":" + quote(config::to_string(f.level)) +
      ",\"domain\":" + (f.policy_domain ? quote(*f.policy_domain) : std::string("null")) +
      ",\"subject\":" + quote(f.subject) + ",\"title\":" + quote(f.title) + ",\"numbers\":{";
  for (std::size_t i = 0; i < f.numbers.size(); ++i)
    s += (i ? "," : "") + quote(f.numbers[i].name) + ":" + detail::number(f.numbers[i].value);
  return s + "},\"meaning\":" + quote(f.meaning) + ",\"what_to_check\":" + quote(f.to_check) + "}";
}

std::string to_json(const std::vector<finding>& findings, std::chrono::sys_seconds as_of) {
  static constexpr const char* status_names[] = {"OK", "WARNING", "CRITICAL"};
  const int status = plugin_status(findings);
  std::string s = "{\"status\":" + detail::quote(status_names[status]) +
                  ",\"exit_code\":" + std::to_string(status) +
                  ",\"as_of\":" + detail::quote(iso(as_of)) + ",\"findings\":[";
  for (std::size_t i = 0; i < findings.size(); ++i) s += (i ? "," : "") + to_json(findings[i]);
  return s + "]}\n";
}

std::string to_text(const std::vector<finding>& findings) {
  static constexpr const char* status_names[] = {"OK", "WARNING", "CRITICAL"};
  std::size_t critical = 0;
  for (const auto& f : findings) critical += f.level == severity::critical ? 1 : 0;
  const std::size_t warning = findings.size() - critical;
  std::string s = std::string("TLSRPT ") + status_names[plugin_status(findings)] + " - ";
  if (findings.empty()) {
    s += "no open findings";
  } else {
    s += std::to_string(critical) + " critical, " + std::to_string(warning) +
         " warning: " + printable(findings.front().title);
  }
  s += " | critical=" + std::to_string(critical) + " warning=" + std::to_string(warning) + "\n";
  for (const auto& f : findings) {
    s += "\n[" + std::string(config::to_string(f.level)) + "] " + printable(f.title) + "\n";
    s += "  key: " + printable(f.key) + "\n";
    if (!f.numbers.empty()) {
      s += "  numbers:";
      for (const auto& n : f.numbers) s += " " + n.name + "=" + detail::number(n.value);
      s += "\n";
    }
    s += "  What it means: " + printable(f.meaning) + "\n";
    s += "  What to check: " + printable(f.to_check) + "\n";
  }
  return s;
}

}  // namespace tlsrpt::monitor
