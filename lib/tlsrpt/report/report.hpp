// SPDX-License-Identifier: Apache-2.0
// The RFC 8460 §4.4 report model, mirrored one to one. No JSON library type appears here:
// the rest of the program sees only these structs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tlsrpt::report {

// Instants are kept to the microsecond: some senders send fractional seconds.
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// RFC 8460 §4.4 policy-type. `other` keeps the raw string (`policy::type_raw`).
enum class policy_type { sts, tlsa, no_policy_found, other };

// The IANA "TLS-RPT Failure Types" registry (RFC 8460 §6.6). `other` keeps the raw string.
enum class result_type {
  starttls_not_supported,
  certificate_host_mismatch,
  certificate_expired,
  certificate_not_trusted,
  validation_failure,
  tlsa_invalid,
  dnssec_invalid,
  dane_required,
  sts_policy_fetch_error,
  sts_policy_invalid,
  sts_webpki_invalid,
  other
};

// MTA-STS policy mode read from the policy-string (RFC 8461 §3.2).
enum class sts_mode { testing, enforce, none };

std::string_view to_string(policy_type t) noexcept;  // "sts", "tlsa", "no-policy-found", "other"
std::string_view to_string(result_type t) noexcept;  // RFC token, "other" for other
std::string_view to_string(sts_mode m) noexcept;     // "testing", "enforce", "none"
policy_type policy_type_from(std::string_view token) noexcept;
result_type result_type_from(std::string_view token) noexcept;

struct failure_detail {
  result_type result = result_type::other;
  std::string result_raw;  // the token exactly as sent, always set
  // Optional RFC fields: absent and "" are both kept as nullopt.
  std::optional<std::string> sending_mta_ip;         // as sent (trimmed); may be an invalid address
  std::optional<std::string> receiving_mx_hostname;  // lowercased, no trailing dot
  std::optional<std::string> receiving_mx_helo;
  std::optional<std::string> receiving_ip;
  std::int64_t failed_session_count = 0;
  std::optional<std::string> additional_information;
  std::optional<std::string> failure_reason_code;
};

struct policy {
  policy_type type = policy_type::other;
  std::string type_raw;                      // the token exactly as sent, always set
  std::vector<std::string> policy_strings;   // cleaned lines (no trailing CR; TLSA expanded)
  std::optional<std::string> policy_domain;  // lowercased, no trailing dot; absent for Postfix
  std::vector<std::string> mx_hosts;         // always a list; "mx: " prefix removed
  std::int64_t total_successful_session_count = 0;
  std::int64_t total_failure_session_count = 0;
  std::vector<failure_detail> failure_details;

  // Derived from policy_strings for STS policies (RFC 8461 §3.2); empty otherwise.
  std::optional<sts_mode> mode;
  std::optional<std::int64_t> max_age;
  std::vector<std::string> sts_mx_patterns;
};

struct report {
  std::string organization_name;
  timestamp date_begin{};
  timestamp date_end{};
  std::optional<std::string> contact_info;  // null and "" are both nullopt
  std::string report_id;
  std::vector<policy> policies;
  // Everything tolerated while reading (aliases, missing counts, odd dates...), each naming
  // the JSON path: "policies[0].failure-details[1]: sum 2 differs from total 1".
  std::vector<std::string> warnings;
};

struct parse_limits {
  std::size_t max_bytes = 20u * 1024u * 1024u;
  std::size_t max_depth = 64;
  std::size_t max_policies = 10'000;
  std::size_t max_failure_details = 100'000;  // per policy
};

// A report that cannot be one. `path()` is the JSON path ("policies[1].summary...") or empty
// when the whole document is at fault; what() is "report: <path>: <cause>".
class parse_error : public std::runtime_error {
 public:
  parse_error(std::string path, std::string cause);
  const std::string& path() const noexcept { return path_; }
  const std::string& cause() const noexcept { return cause_; }

 private:
  std::string path_;
  std::string cause_;
};

// Parses one report (JSON text, optional UTF-8 BOM). Throws parse_error.
report parse(std::string_view json, const parse_limits& limits = {});

// The normalized report in RFC 8460's own shape and key names, with derived facts and warnings
// under "x-tlsrpt-collector". Compact JSON, UTF-8.
std::string to_json(const report& r);

// RFC 3339 UTC with "Z" (microseconds only when non-zero).
std::string format_timestamp(timestamp t);

// An RFC 3339 date-time ("2016-04-01T00:00:00Z", "...T02:00:00.5+02:00"). Also accepts what
// senders send instead: no offset at all (Microsoft 2023; `has_offset` is then false and the
// time is read as UTC), "t" or " " for "T", "z" for "Z". nullopt when it is not a date-time.
struct parsed_timestamp {
  timestamp at{};
  bool has_offset = true;
};
std::optional<parsed_timestamp> parse_timestamp(std::string_view text) noexcept;

// True for a textual IPv4 or IPv6 address (inet_pton; no zone index, no brackets).
bool is_valid_ip(std::string_view text) noexcept;
// The canonical text of a valid address ("2001:db8:abcd:12::1"), nullopt for an invalid one.
std::optional<std::string> normalize_ip(std::string_view text);

}  // namespace tlsrpt::report
