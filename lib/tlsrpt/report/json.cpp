// SPDX-License-Identifier: Apache-2.0
// report model -> normalized RFC 8460 JSON.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "tlsrpt/report/report.hpp"
#include "tlsrpt/report/text.hpp"

namespace tlsrpt::report {

namespace detail {

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if (c < 0x80u) {
      out.push_back(s[i++]);
      continue;
    }
    if ((c & 0xE0u) == 0xC0u) {
      len = 2;
      min = 0x80u;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0u) == 0xE0u) {
      len = 3;
      min = 0x800u;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8u) == 0xF0u) {
      len = 4;
      min = 0x10000u;
      cp = c & 0x07u;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0u) == 0x80u;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    ok = ok && cp >= min && cp <= 0x10FFFFu && (cp < 0xD800u || cp > 0xDFFFu);
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

}  // namespace detail

namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Every string goes through here: a hand-built model may hold bytes that are not UTF-8, and
// the output must stay JSON.
void put(writer& w, std::string_view s) {
  const std::string clean = detail::valid_utf8(s);
  w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()), true);
}

void put(writer& w, std::string_view key, std::string_view s) {
  put(w, key);
  put(w, s);
}

void put_optional(writer& w, std::string_view key, const std::optional<std::string>& s) {
  if (s) put(w, key, *s);
}

void put_count(writer& w, std::string_view key, std::int64_t n) {
  put(w, key);
  w.Int64(n);
}

void put_strings(writer& w, std::string_view key, const std::vector<std::string>& list) {
  put(w, key);
  w.StartArray();
  for (const auto& s : list) put(w, s);
  w.EndArray();
}

void put_detail(writer& w, const failure_detail& f) {
  w.StartObject();
  put(w, "result-type", f.result_raw);
  put_optional(w, "sending-mta-ip", f.sending_mta_ip);
  put_optional(w, "receiving-mx-hostname", f.receiving_mx_hostname);
  put_optional(w, "receiving-mx-helo", f.receiving_mx_helo);
  put_optional(w, "receiving-ip", f.receiving_ip);
  put_count(w, "failed-session-count", f.failed_session_count);
  put_optional(w, "additional-information", f.additional_information);
  put_optional(w, "failure-reason-code", f.failure_reason_code);
  w.EndObject();
}

void put_policy(writer& w, const policy& p) {
  w.StartObject();
  put(w, "policy");
  w.StartObject();
  put(w, "policy-type", p.type_raw.empty() ? to_string(p.type) : p.type_raw);
  put_strings(w, "policy-string", p.policy_strings);
  put_optional(w, "policy-domain", p.policy_domain);
  put_strings(w, "mx-host", p.mx_hosts);
  w.EndObject();
  put(w, "summary");
  w.StartObject();
  put_count(w, "total-successful-session-count", p.total_successful_session_count);
  put_count(w, "total-failure-session-count", p.total_failure_session_count);
  w.EndObject();
  put(w, "failure-details");
  w.StartArray();
  for (const auto& f : p.failure_details) put_detail(w, f);
  w.EndArray();
  if (p.mode || p.max_age || !p.sts_mx_patterns.empty()) {
    put(w, "x-tlsrpt-collector");
    w.StartObject();
    if (p.mode) put(w, "sts-mode", to_string(*p.mode));
    if (p.max_age) put_count(w, "max-age", *p.max_age);
    if (!p.sts_mx_patterns.empty()) put_strings(w, "mx-patterns", p.sts_mx_patterns);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

std::string to_json(const report& r) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  put(w, "organization-name", r.organization_name);
  put(w, "date-range");
  w.StartObject();
  put(w, "start-datetime", format_timestamp(r.date_begin));
  put(w, "end-datetime", format_timestamp(r.date_end));
  w.EndObject();
  put_optional(w, "contact-info", r.contact_info);
  put(w, "report-id", r.report_id);
  put(w, "policies");
  w.StartArray();
  for (const auto& p : r.policies) put_policy(w, p);
  w.EndArray();
  put(w, "x-tlsrpt-collector");
  w.StartObject();
  put_strings(w, "warnings", r.warnings);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace tlsrpt::report
