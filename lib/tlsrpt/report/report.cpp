// SPDX-License-Identifier: Apache-2.0
// The parts of the report model that need no JSON: tokens, errors, date-times, addresses.
#include "tlsrpt/report/report.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>

#include "tlsrpt/report/text.hpp"

namespace tlsrpt::report {

namespace {

struct token_entry {
  std::string_view token;
  result_type type;
};

// The IANA "TLS-RPT Failure Types" registry, RFC 8460 §6.6.
constexpr std::array<token_entry, 11> result_tokens{{
    {"starttls-not-supported", result_type::starttls_not_supported},
    {"certificate-host-mismatch", result_type::certificate_host_mismatch},
    {"certificate-expired", result_type::certificate_expired},
    {"certificate-not-trusted", result_type::certificate_not_trusted},
    {"validation-failure", result_type::validation_failure},
    {"tlsa-invalid", result_type::tlsa_invalid},
    {"dnssec-invalid", result_type::dnssec_invalid},
    {"dane-required", result_type::dane_required},
    {"sts-policy-fetch-error", result_type::sts_policy_fetch_error},
    {"sts-policy-invalid", result_type::sts_policy_invalid},
    {"sts-webpki-invalid", result_type::sts_webpki_invalid},
}};

}  // namespace

std::string_view to_string(policy_type t) noexcept {
  switch (t) {
    case policy_type::sts:
      return "sts";
    case policy_type::tlsa:
      return "tlsa";
    case policy_type::no_policy_found:
      return "no-policy-found";
    case policy_type::other:
      break;
  }
  return "other";
}

std::string_view to_string(result_type t) noexcept {
  for (const auto& e : result_tokens) {
    if (e.type == t) return e.token;
  }
  return "other";
}

std::string_view to_string(sts_mode m) noexcept {
  switch (m) {
    case sts_mode::testing:
      return "testing";
    case sts_mode::enforce:
      return "enforce";
    case sts_mode::none:
      break;
  }
  return "none";
}

// Tokens are compared without regard to case or surrounding blanks: the raw string is kept
// anyway, and "STS" can only mean one thing.
policy_type policy_type_from(std::string_view token) noexcept {
  const std::string_view t = detail::trim(token);
  if (detail::iequals(t, "sts")) return policy_type::sts;
  if (detail::iequals(t, "tlsa")) return policy_type::tlsa;
  if (detail::iequals(t, "no-policy-found")) return policy_type::no_policy_found;
  return policy_type::other;
}

result_type result_type_from(std::string_view token) noexcept {
  const std::string_view t = detail::trim(token);
  for (const auto& e : result_tokens) {
    if (detail::iequals(t, e.token)) return e.type;
  }
  return result_type::other;
}

parse_error::parse_error(std::string path, std::string cause)
    : std::runtime_error(path.empty() ? "report: " + cause : "report: " + path + ": " + cause),
      path_(std::move(path)),
      cause_(std::move(cause)) {}

std::string format_timestamp(timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> hms{t - day};
  std::array<char, 64> buf{};
  const auto micros = hms.subseconds().count();
  const int n =
      micros == 0
          ? std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ",
                          static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                          static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                          static_cast<int>(hms.minutes().count()),
                          static_cast<int>(hms.seconds().count()))
          : std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ",
                          static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                          static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                          static_cast<int>(hms.minutes().count()),
                          static_cast<int>(hms.seconds().count()), static_cast<long long>(micros));
  return std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0u);
}

namespace {

// Reads exactly `width` ASCII digits at `pos`.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t width, int& out) noexcept {
  if (pos + width > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += width;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) noexcept {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

// RFC 3339 §5.6 date-time, plus the missing offset of Microsoft's 2023 reports.
std::optional<parsed_timestamp> parse_timestamp(std::string_view text) noexcept {
  using namespace std::chrono;
  const std::string_view s = detail::trim(text);
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, mo) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, d)) {
    return std::nullopt;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mi) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, sec)) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  // Second 60 is a leap second (RFC 3339 §5.7); an instant count has no room for it, so it
  // is read as the last second of the minute.
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  if (sec == 60) sec = 59;
  long long micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 6; ++i) micros *= 10;
  }
  parsed_timestamp out;
  minutes offset{0};
  if (pos == s.size()) {
    out.has_offset = false;
  } else if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const bool negative = s[pos] == '-';
    ++pos;
    int oh = 0, om = 0;
    if (!read_digits(s, pos, 2, oh)) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (!read_digits(s, pos, 2, om) || oh > 23 || om > 59) return std::nullopt;
    offset = hours{oh} + minutes{om};
    if (negative) offset = -offset;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  out.at = timestamp{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{sec} + microseconds{micros} -
           offset;
  return out;
}

namespace {

// `text` as a NUL-terminated copy for inet_pton, or false when it cannot be an address.
// INET6_ADDRSTRLEN bounds every textual address inet_pton accepts.
bool address_text(std::string_view text, std::array<char, INET6_ADDRSTRLEN>& z) noexcept {
  if (text.empty() || text.size() >= z.size() || text.find('\0') != std::string_view::npos) {
    return false;
  }
  std::memcpy(z.data(), text.data(), text.size());
  z[text.size()] = '\0';
  return true;
}

}  // namespace

// Every failure detail's addresses pass through here: no allocation, no formatting back.
bool is_valid_ip(std::string_view text) noexcept {
  std::array<char, INET6_ADDRSTRLEN> z{};
  if (!address_text(text, z)) return false;
  std::array<unsigned char, sizeof(in6_addr)> bin{};
  return ::inet_pton(AF_INET, z.data(), bin.data()) == 1 ||
         ::inet_pton(AF_INET6, z.data(), bin.data()) == 1;
}

std::optional<std::string> normalize_ip(std::string_view text) {
  std::array<char, INET6_ADDRSTRLEN> z{};
  if (!address_text(text, z)) return std::nullopt;
  std::array<unsigned char, sizeof(in6_addr)> bin{};
  std::array<char, INET6_ADDRSTRLEN> out{};
  for (const int family : {AF_INET, AF_INET6}) {
    if (::inet_pton(family, z.data(), bin.data()) == 1 &&
        ::inet_ntop(family, bin.data(), out.data(), static_cast<socklen_t>(out.size())) !=
            nullptr) {
      return std::string(out.data());
    }
  }
  return std::nullopt;
}

}  // namespace tlsrpt::report
