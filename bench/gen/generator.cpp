// SPDX-License-Identifier: Apache-2.0
#include "gen/generator.hpp"

#include <zlib.h>

#include <array>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace tlsrpt::bench {

std::string_view to_string(mail_kind k) noexcept {
  switch (k) {
    case mail_kind::google:
      return "google";
    case mail_kind::microsoft:
      return "microsoft";
    case mail_kind::mailru:
      return "mailru";
    case mail_kind::postfix:
      return "postfix";
    case mail_kind::plain_json:
      return "plain_json";
    case mail_kind::octet_stream:
      return "octet_stream";
    case mail_kind::not_a_report:
      return "not_a_report";
    case mail_kind::broken:
      return "broken";
  }
  return "unknown";
}

namespace {

// splitmix64: tiny, fast, and its output is fixed by the algorithm, unlike the std
// distributions whose results differ between standard libraries.
class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  std::int64_t range(std::int64_t lo, std::int64_t hi) {  // inclusive
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  template <typename T, std::size_t N>
  const T& pick(const std::array<T, N>& a) {
    return a[below(N)];
  }

 private:
  std::uint64_t state_;
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  rng r(a ^ (b * 0xd1b54a32d192ed03ULL));
  r.next();
  return r.next();
}

// --- JSON output ----------------------------------------------------------------------------

class json_writer {
 public:
  explicit json_writer(bool pretty, int indent = 2) : pretty_(pretty), indent_(indent) {}
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view k) {
    before_value();
    quote(k);
    out_ += pretty_ ? ": " : ":";
    after_key_ = true;
  }
  void str(std::string_view v) {
    before_value();
    quote(v);
  }
  void num(std::int64_t v) {
    before_value();
    out_ += std::to_string(v);
  }
  void null() {
    before_value();
    out_ += "null";
  }
  std::string take() { return std::move(out_); }

 private:
  void open(char c) {
    before_value();
    out_ += c;
    first_.push_back(true);
  }
  void close(char c) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) newline();
    out_ += c;
  }
  void before_value() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    newline();
  }
  void newline() {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(first_.size() * static_cast<std::size_t>(indent_), ' ');
  }
  void quote(std::string_view s) {
    out_ += '"';
    for (const char c : s) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out_ += buf;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool pretty_;
  int indent_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// --- dates ----------------------------------------------------------------------------------

struct civil {
  int y;
  unsigned m, d, hh, mm, ss, wday;  // wday: 0 = Sunday
};

// Howard Hinnant's days-to-civil algorithm (public domain description, re-derived here).
civil to_civil(std::int64_t t) {
  std::int64_t days = t / 86400;
  std::int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const std::int64_t wd = ((days % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday
  return {static_cast<int>(y),
          static_cast<unsigned>(m),
          static_cast<unsigned>(d),
          static_cast<unsigned>(secs / 3600),
          static_cast<unsigned>(secs / 60 % 60),
          static_cast<unsigned>(secs % 60),
          static_cast<unsigned>(wd)};
}

std::string rfc3339(std::int64_t t) {
  const civil c = to_civil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02uZ", c.y, c.m, c.d, c.hh, c.mm, c.ss);
  return buf;
}

std::string ymd(std::int64_t t, char sep) {
  const civil c = to_civil(t);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%c%02u%c%02u", c.y, sep, c.m, sep, c.d);
  return buf;
}

// RFC 5322 date in a given zone offset (minutes east of UTC).
std::string rfc5322(std::int64_t t, int offset_minutes) {
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const civil c = to_civil(t + offset_minutes * 60);
  const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02u:%02u:%02u %c%02d%02d", days[c.wday], c.d,
                months[c.m - 1], c.y, c.hh, c.mm, c.ss, offset_minutes < 0 ? '-' : '+', a / 60,
                a % 60);
  return buf;
}

// --- names ----------------------------------------------------------------------------------

constexpr std::array<const char*, 64> words_a{
    "acme",    "alpine",  "amber",  "anchor", "apex",   "arctic", "aspen",  "atlas",
    "aurora",  "beacon",  "birch",  "bison",  "blue",   "bolt",   "brook",  "cable",
    "canyon",  "cedar",   "cobalt", "comet",  "coral",  "crane",  "delta",  "dune",
    "eagle",   "echo",    "ember",  "fern",   "fjord",  "flint",  "forest", "garnet",
    "glade",   "granite", "harbor", "hazel",  "helix",  "indigo", "iris",   "jade",
    "juniper", "kestrel", "lagoon", "larch",  "lumen",  "maple",  "meadow", "mesa",
    "nimbus",  "nova",    "oak",    "onyx",   "orbit",  "pine",   "prism",  "quartz",
    "raven",   "ridge",   "river",  "sable",  "summit", "tidal",  "willow", "zephyr"};
constexpr std::array<const char*, 64> words_b{
    "systems", "labs",    "works",   "mail",     "net",    "group",    "media",    "cloud",
    "data",    "digital", "energy",  "foods",    "health", "homes",    "legal",    "logic",
    "motors",  "nexus",   "optics",  "partners", "press",  "retail",   "robotics", "school",
    "science", "shop",    "solar",   "sports",   "studio", "supply",   "tech",     "telecom",
    "tools",   "trade",   "travel",  "trust",    "union",  "ventures", "vision",   "water",
    "web",     "wind",    "wood",    "yards",    "bank",   "books",    "build",    "care",
    "city",    "coffee",  "craft",   "design",   "dev",    "farm",     "films",    "finance",
    "games",   "garden",  "hosting", "insure",   "lab",    "link",     "market",   "music"};
constexpr std::array<const char*, 8> tlds{"com", "net", "org", "de", "io", "nl", "fr", "co.uk"};

// Injective in k: the two words fix k mod 4096, the suffix fixes k / 4096.
std::string domain_name(std::uint64_t k) {
  std::string s = words_a[k % 64];
  s += '-';
  s += words_b[(k / 64) % 64];
  if (k >= 4096) s += std::to_string(k / 4096);
  s += '.';
  s += tlds[(k * 5 + k / 64) % tlds.size()];
  return s;
}

std::string hex(rng& r, std::size_t n, bool upper = false) {
  static constexpr char lo[] = "0123456789abcdef";
  static constexpr char up[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(n);
  for (std::size_t i = 0; i < n; ++i) s += (upper ? up : lo)[r.below(16)];
  return s;
}

std::string random_b64(rng& r, std::size_t n) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  s.reserve(n);
  for (std::size_t i = 0; i < n; ++i) s += alphabet[r.below(64)];
  return s;
}

// A header value folded in chunks, as signers emit DKIM b= values.
std::string folded(std::string_view v, std::size_t width, std::string_view indent) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); i += width) {
    if (i != 0) {
      out += '\n';
      out += indent;
    }
    out += v.substr(i, width);
  }
  return out;
}

std::string ipv4(rng& r, int a, int b) {
  return std::to_string(a) + '.' + std::to_string(b) + '.' + std::to_string(r.range(0, 255)) + '.' +
         std::to_string(r.range(1, 254));
}

// --- the report model -----------------------------------------------------------------------

struct detail_model {
  std::string result;
  std::optional<std::string> sending_ip, receiving_mx, receiving_helo, receiving_ip;
  std::int64_t count = 0;
  std::optional<std::string> additional, reason;
};

struct policy_model {
  std::string type;
  std::optional<std::vector<std::string>> strings;
  std::optional<std::string> domain;
  std::optional<std::vector<std::string>> mx_hosts;
  std::int64_t ok = 0;
  std::int64_t failed = 0;
  std::vector<detail_model> details;
  bool details_key = false;  // emit "failure-details": [] even when empty
};

struct report_model {
  std::string org;
  std::int64_t begin = 0, end = 0;
  std::optional<std::string> contact;  // nullopt: JSON null
  std::string id;
  std::vector<policy_model> policies;
};

enum class key_order { google, rfc, sorted };

void write_policy_head(json_writer& w, const policy_model& p, key_order order) {
  w.key("policy");
  w.begin_object();
  auto strings = [&] {
    if (!p.strings) return;
    w.key("policy-string");
    w.begin_array();
    for (const auto& s : *p.strings) w.str(s);
    w.end_array();
  };
  auto mx = [&] {
    if (!p.mx_hosts) return;
    w.key("mx-host");
    w.begin_array();
    for (const auto& s : *p.mx_hosts) w.str(s);
    w.end_array();
  };
  if (order == key_order::sorted) {
    mx();
    if (p.domain) {
      w.key("policy-domain");
      w.str(*p.domain);
    }
    strings();
    w.key("policy-type");
    w.str(p.type);
  } else {
    w.key("policy-type");
    w.str(p.type);
    strings();
    if (p.domain) {
      w.key("policy-domain");
      w.str(*p.domain);
    }
    mx();
  }
  w.end_object();
}

void write_detail(json_writer& w, const detail_model& d, key_order order) {
  w.begin_object();
  auto opt = [&](const char* k, const std::optional<std::string>& v) {
    if (!v) return;
    w.key(k);
    w.str(*v);
  };
  if (order == key_order::sorted) {
    opt("additional-information", d.additional);
    w.key("failed-session-count");
    w.num(d.count);
    opt("failure-reason-code", d.reason);
    opt("receiving-ip", d.receiving_ip);
    opt("receiving-mx-helo", d.receiving_helo);
    opt("receiving-mx-hostname", d.receiving_mx);
    w.key("result-type");
    w.str(d.result);
    opt("sending-mta-ip", d.sending_ip);
  } else {
    w.key("result-type");
    w.str(d.result);
    opt("sending-mta-ip", d.sending_ip);
    opt("receiving-mx-hostname", d.receiving_mx);
    opt("receiving-mx-helo", d.receiving_helo);
    opt("receiving-ip", d.receiving_ip);
    w.key("failed-session-count");
    w.num(d.count);
    opt("additional-information", d.additional);
    opt("failure-reason-code", d.reason);
  }
  w.end_object();
}

std::string to_json(const report_model& m, bool pretty, key_order order, int indent = 2) {
  json_writer w(pretty, indent);
  w.begin_object();
  auto contact = [&] {
    w.key("contact-info");
    if (m.contact)
      w.str(*m.contact);
    else
      w.null();
  };
  auto range = [&] {
    w.key("date-range");
    w.begin_object();
    w.key("start-datetime");
    w.str(rfc3339(m.begin));
    w.key("end-datetime");
    w.str(rfc3339(m.end));
    w.end_object();
  };
  auto policies = [&] {
    w.key("policies");
    w.begin_array();
    for (const auto& p : m.policies) {
      w.begin_object();
      auto summary = [&] {
        w.key("summary");
        w.begin_object();
        w.key("total-failure-session-count");
        w.num(p.failed);
        w.key("total-successful-session-count");
        w.num(p.ok);
        w.end_object();
      };
      auto details = [&] {
        if (p.details.empty() && !p.details_key) return;
        w.key("failure-details");
        w.begin_array();
        for (const auto& d : p.details) write_detail(w, d, order);
        w.end_array();
      };
      if (order == key_order::sorted) {
        details();
        write_policy_head(w, p, order);
        summary();
      } else {
        write_policy_head(w, p, order);
        w.key("summary");
        w.begin_object();
        w.key("total-successful-session-count");
        w.num(p.ok);
        w.key("total-failure-session-count");
        w.num(p.failed);
        w.end_object();
        details();
      }
      w.end_object();
    }
    w.end_array();
  };
  if (order == key_order::sorted) {
    contact();
    range();
    w.key("organization-name");
    w.str(m.org);
    policies();
    w.key("report-id");
    w.str(m.id);
  } else if (order == key_order::rfc) {
    w.key("organization-name");
    w.str(m.org);
    range();
    contact();
    w.key("report-id");
    w.str(m.id);
    policies();
  } else {
    w.key("organization-name");
    w.str(m.org);
    range();
    contact();
    w.key("report-id");
    w.str(m.id);
    policies();
  }
  w.end_object();
  return w.take();
}

// --- building blocks of reports -------------------------------------------------------------

constexpr std::array<const char*, 8> sts_results{
    "validation-failure",      "certificate-host-mismatch", "certificate-expired",
    "certificate-not-trusted", "starttls-not-supported",    "sts-policy-fetch-error",
    "sts-policy-invalid",      "sts-webpki-invalid"};
constexpr std::array<const char*, 4> tlsa_results{"tlsa-invalid", "dnssec-invalid", "dane-required",
                                                  "certificate-not-trusted"};
constexpr std::array<const char*, 6> reason_codes{
    "X509_V_ERR_CERT_HAS_EXPIRED",
    "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT",
    "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "hostname mismatch",
    "bad https response code: 404",
    "unable to do http request: context deadline exceeded"};

std::int64_t skewed_count(rng& r, int max_magnitude) {
  const auto m = r.range(0, max_magnitude);
  std::int64_t limit = 1;
  for (std::int64_t i = 0; i < m; ++i) limit *= 10;
  return r.range(0, limit);
}

std::vector<std::string> mx_for(rng& r, const std::string& domain) {
  switch (r.below(4)) {
    case 0:
      return {"mx1." + domain, "mx2." + domain};
    case 1:
      return {"*." + domain};
    case 2:
      return {"mail." + domain};
    default:
      return {"in1-smtp.messagingengine.com", "in2-smtp.messagingengine.com"};
  }
}

std::vector<std::string> sts_strings(rng& r, const std::vector<std::string>& mx,
                                     bool google_order) {
  const char* mode = r.chance(0.7) ? "enforce" : "testing";
  static constexpr std::array<const char*, 5> ages{"86400", "604800", "1209600", "2592000",
                                                   "10368000"};
  const std::string age = std::string("max_age: ") + r.pick(ages);
  std::vector<std::string> s{"version: STSv1", std::string("mode: ") + mode};
  if (google_order) s.push_back(age);
  for (const auto& m : mx) s.push_back("mx: " + m);
  if (!google_order) s.push_back(age);
  return s;
}

std::string tlsa_record(rng& r) { return "3 1 1 " + hex(r, 64, true); }

detail_model make_detail(rng& r, const policy_model& p, mail_kind kind) {
  detail_model d;
  const bool tlsa = p.type == "tlsa";
  d.result = tlsa ? r.pick(tlsa_results) : r.pick(sts_results);
  d.count = 1 + skewed_count(r, 2);
  if (kind == mail_kind::mailru || d.result == "sts-policy-fetch-error") {
    // Mail.ru and Microsoft leave out the session fields for a policy fetch error.
    d.result = "sts-policy-fetch-error";
    d.reason = r.chance(0.5) ? "bad https response code: " +
                                   std::to_string(r.pick(std::array<int, 3>{404, 500, 503}))
                             : "unable to do http request: Get \"https://mta-sts." +
                                   p.domain.value_or("example.net") +
                                   "/.well-known/mta-sts.txt\": context deadline exceeded";
    return d;
  }
  if (kind == mail_kind::google) {
    d.sending_ip = r.chance(0.8) ? ipv4(r, 209, 85) : "2607:f8b0:4864:20::" + hex(r, 3);
  } else if (kind == mail_kind::microsoft) {
    d.sending_ip =
        r.chance(0.8) ? ipv4(r, 40, 107) : "2a01:111:f403:" + hex(r, 4) + "::" + hex(r, 3);
  } else {
    d.sending_ip = r.chance(0.85) ? ipv4(r, 198, 51) : "2001:db8:" + hex(r, 4) + "::" + hex(r, 2);
  }
  const std::string mx = p.mx_hosts && !p.mx_hosts->empty() && (*p.mx_hosts)[0][0] != '*'
                             ? (*p.mx_hosts)[0]
                             : "mx1." + p.domain.value_or("example.net");
  d.receiving_mx = mx;
  if (r.chance(0.3)) d.receiving_helo = mx;
  if (r.chance(0.8))
    d.receiving_ip =
        r.chance(0.8) ? ipv4(r, 203, 0) : "2001:db8::" + std::to_string(r.range(1, 99));
  if (r.chance(0.4)) d.reason = r.pick(reason_codes);
  if (r.chance(0.1))
    d.additional = "https://tlsrpt." + p.domain.value_or("example.net") + "/info?id=" + hex(r, 8);
  if (kind == mail_kind::plain_json && r.chance(0.3)) {
    // The shape mox emits: empty strings for unknown fields.
    d.receiving_ip = "";
    d.additional = "";
  }
  return d;
}

policy_model make_policy(rng& r, mail_kind kind, const std::string& domain, std::size_t nth,
                         bool& used_tlsa) {
  policy_model p;
  std::string type = "sts";
  switch (kind) {
    case mail_kind::google:
    case mail_kind::broken:
      if (r.chance(0.15)) type = "no-policy-found";
      break;
    case mail_kind::microsoft:
      if (nth > 0 && !used_tlsa && r.chance(0.6)) type = "tlsa";
      break;
    case mail_kind::mailru:
      break;
    case mail_kind::postfix:
      type = nth == 0 || r.chance(0.5) ? "no-policy-found" : "sts";
      break;
    default: {
      const auto u = r.below(10);
      type = u < 6 ? "sts" : u < 8 ? "tlsa" : "no-policy-found";
    }
  }
  p.type = type;
  if (type == "tlsa") used_tlsa = true;
  if (!(kind == mail_kind::postfix && type == "no-policy-found")) p.domain = domain;
  const auto mx = mx_for(r, domain);
  if (type == "sts" && kind != mail_kind::mailru) {
    p.strings = sts_strings(r, mx, kind == mail_kind::google || kind == mail_kind::broken);
    if (kind == mail_kind::google || kind == mail_kind::broken || r.chance(0.3)) p.mx_hosts = mx;
  } else if (type == "tlsa") {
    std::vector<std::string> records;
    const auto n = r.range(1, 4);
    for (std::int64_t i = 0; i < n; ++i) records.push_back(tlsa_record(r));
    if (kind == mail_kind::microsoft) {
      // Microsoft sends the TLSA records as ONE string holding a JSON array (microsoft1.eml).
      std::string joined = "[";
      for (std::size_t i = 0; i < records.size(); ++i) {
        if (i != 0) joined += ',';
        joined += '"' + records[i] + '"';
      }
      joined += ']';
      p.strings = std::vector<std::string>{joined};
    } else {
      p.strings = records;
    }
  }
  p.ok = skewed_count(r, 4);
  p.details_key = kind == mail_kind::postfix || kind == mail_kind::plain_json;
  return p;
}

report_model make_report(rng& r, mail_kind kind, const std::string& domain, std::int64_t day_start,
                         std::uint64_t index) {
  report_model m;
  m.begin = day_start;
  m.end = day_start + 86399;
  switch (kind) {
    case mail_kind::google:
    case mail_kind::broken:
      m.org = "Google Inc.";
      m.contact = "smtp-tls-reporting@google.com";
      m.id = rfc3339(day_start) + "_" + domain;
      break;
    case mail_kind::microsoft:
      m.org = "Microsoft Corporation";
      m.contact = "tlsrpt-noreply@microsoft.com";
      // A Windows FILETIME (100 ns ticks since 1601) of the sending time, + policy domain.
      m.id =
          std::to_string((day_start + 86400 + 11'644'473'600LL + r.range(0, 20000)) * 10'000'000LL +
                         r.range(0, 9'999'999)) +
          "+" + domain;
      break;
    case mail_kind::mailru:
      m.org = "Mail.ru";
      m.contact = "tls_support@corp.mail.ru";
      m.end = day_start + 86400;  // Mail.ru ends at next midnight
      m.id = hex(r, 8) + "-" + hex(r, 4) + "-" + hex(r, 4) + "-" + hex(r, 4) + "-" + hex(r, 4) +
             [&] {
               char buf[16];
               std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(index));
               return std::string(buf);
             }() +
             "@mail.ru";
      break;
    case mail_kind::postfix:
      m.org = "mail." + domain_name(1'000'000 + r.below(50));
      m.contact = r.chance(0.5) ? std::optional<std::string>("postmaster@" + m.org.substr(5))
                                : std::nullopt;
      m.id = rfc3339(day_start) + "_" + domain + "_" + hex(r, 6);
      break;
    default:
      m.org = "Mailer of " + domain_name(2'000'000 + r.below(50));
      m.contact = "tlsrpt@" + domain_name(2'000'000 + r.below(50));
      m.id = "tlsrpt-" + ymd(day_start, '-') + "-" + domain + "-" + hex(r, 8);
  }
  const auto u = r.below(100);
  const std::size_t npol = u < 70 ? 1 : u < 93 ? 2 : 3;
  bool used_tlsa = false;
  for (std::size_t i = 0; i < npol; ++i)
    m.policies.push_back(make_policy(r, kind, domain, i, used_tlsa));
  // 0-10 failure details over the whole report, most reports having none.
  const std::int64_t ndetails =
      kind == mail_kind::mailru ? r.range(1, 2) : (r.chance(0.55) ? 0 : r.range(1, 10));
  for (std::int64_t i = 0; i < ndetails; ++i) {
    auto& p = m.policies[r.below(m.policies.size())];
    p.details.push_back(make_detail(r, p, kind));
    p.failed += p.details.back().count;
  }
  return m;
}

// --- MIME -----------------------------------------------------------------------------------

std::string qp_html(std::string_view html) {
  // Quoted-printable with soft breaks at 76 columns: "=" becomes "=3D".
  std::string out;
  std::size_t col = 0;
  for (const char c : html) {
    if (c == '\n') {
      out += '\n';
      col = 0;
      continue;
    }
    const std::string piece = c == '=' ? "=3D" : std::string(1, c);
    if (col + piece.size() > 75) {
      out += "=\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  }
  return out;
}

struct envelope_parts {
  std::string headers;  // without the blank line
  std::string body;
};

std::string received_chain(rng& r, const std::string& domain, const std::string& from_host,
                           const std::string& from_ip, std::int64_t t) {
  std::string s;
  s += "Return-Path: <" + hex(r, 20) + "@bounces." + from_host.substr(from_host.find('.') + 1) +
       ">\n";
  s += "Delivered-To: tls-reports@" + domain + "\n";
  s += "Received: from mx1." + domain + " (localhost [127.0.0.1])\n\tby mx1." + domain +
       " (Postfix) with ESMTP id " + hex(r, 12, true) + "\n\tfor <tls-reports@" + domain + ">; " +
       rfc5322(t + 2, 0) + "\n";
  s += "Received: from " + from_host + " (" + from_host + " [" + from_ip + "])\n\tby mx1." +
       domain + " (Postfix) with ESMTPS id " + hex(r, 12, true) + "\n\tfor <tls-reports@" + domain +
       ">; " + rfc5322(t + 1, 0) + "\n";
  s += "Authentication-Results: mx1." + domain +
       ";\n\tdkim=pass (2048-bit key) header.d=" + from_host.substr(from_host.find('.') + 1) +
       " header.b=" + random_b64(r, 8) +
       ";\n\tspf=pass smtp.mailfrom=" + from_host.substr(from_host.find('.') + 1) +
       ";\n\tdmarc=pass (p=reject dis=none) header.from=" +
       from_host.substr(from_host.find('.') + 1) + "\n";
  return s;
}

std::string dkim(rng& r, const std::string& d, const std::string& selector, std::int64_t t,
                 const std::string& h) {
  return "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + d + "; s=" + selector +
         "; t=" + std::to_string(t) + ";\n\th=" + h + ";\n\tbh=" + random_b64(r, 43) +
         "=;\n\tb=" + folded(random_b64(r, 342) + "==", 70, "\t ") + "\n";
}

// The ARC set a forwarding mailbox provider adds (the isseis samples went through Fastmail).
std::string arc_set(rng& r, const std::string& domain, std::int64_t t) {
  std::string s =
      "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=messagingengine.com; s=fm3; t=" + std::to_string(t) +
      "; b=\n    " + folded(random_b64(r, 342) + "==", 64, "    ") + "\n";
  s += "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=messagingengine.com;\n"
       "    h=mime-version:date:message-id:subject:from:to:content-type; s=fm3; t=" +
       std::to_string(t) + "; bh=" + random_b64(r, 43) + "=; b=\n    " +
       folded(random_b64(r, 342) + "==", 64, "    ") + "\n";
  s += "ARC-Authentication-Results: i=1; mx1." + domain +
       ";\n    x-csa=none;\n    x-me-sender=none;\n    bimi=none (No BIMI records found);\n"
       "    arc=none (no signatures found);\n    dkim=pass (2048-bit rsa key sha256);\n"
       "    dmarc=pass policy.published-domain-policy=reject;\n    spf=pass smtp.mailfrom;\n"
       "    x-aligned-from=pass (Address match);\n    x-me-score=" +
       std::to_string(r.range(-100, 0)) + "\n";
  return s;
}

std::string filename_for(const std::string& submitter, const std::string& domain,
                         const report_model& m, const std::string& tail) {
  return submitter + "!" + domain + "!" + std::to_string(m.begin) + "!" + std::to_string(m.end) +
         "!" + tail;
}

std::string google_mail(rng& r, const report_model& m, const std::string& domain,
                        const std::string& gz, std::int64_t sent) {
  const std::string boundary = "000000000000" + hex(r, 16);
  const std::string name = filename_for("google.com", domain, m, "001.json.gz");
  std::string s =
      received_chain(r, domain, "mail-" + hex(r, 6) + ".google.com", ipv4(r, 209, 85), sent);
  if (r.chance(0.6)) s += arc_set(r, domain, sent + 1);
  s += dkim(r, "google.com", "20230601", sent,
            "to:from:subject:message-id:tls-report-submitter:tls-report-domain:date:mime-version");
  s += "MIME-Version: 1.0\n";
  s += "Date: " + rfc5322(sent, -420) + "\n";
  s += "TLS-Report-Domain: " + domain + "\n";
  s += "TLS-Report-Submitter: google.com\n";
  s += "Message-ID: <" + hex(r, 8) + "." + hex(r, 8) + "." + hex(r, 6) + "." + hex(r, 4) +
       "tls@google.com>\n";
  s += "Subject: Report Domain: " + domain + " Submitter: google.com Report-ID: <" + m.id +
       "@google.com>\n";
  s += "From: noreply-smtp-tls-reporting@google.com\n";
  s += "To: tls-reports@" + domain + "\n";
  s += "Content-Type: multipart/report; boundary=\"" + boundary + "\"; report-type=tlsrpt\n\n";
  s += "--" + boundary + "\n";
  s += "Content-Type: text/plain; charset=\"UTF-8\"; format=flowed; delsp=yes\n\n";
  s += "This is an aggregate TLS report from google.com\n\n";
  s += "--" + boundary + "\n";
  s += "Content-Type: application/tlsrpt+gzip; \n\tname=\"" + name + "\"\n";
  s += "Content-Disposition: attachment; \n\tfilename=\"" + name + "\"\n";
  s += "Content-Transfer-Encoding: base64\n\n";
  s += base64_encode(gz, 76, "\n");
  s += "--" + boundary + "--\n";
  return s;
}

std::string microsoft_mail(rng& r, const report_model& m, const std::string& domain,
                           const std::string& gz, std::int64_t sent) {
  const std::string boundary = "_" + hex(r, 8) + "-" + hex(r, 4) + "-" + hex(r, 4) + "-" +
                               hex(r, 4) + "-" + hex(r, 12) + "_";
  const std::string number = m.id.substr(0, m.id.find('+'));
  const std::string name = filename_for("microsoft.com", domain, m, number + ".json.gz");
  std::string s = received_chain(
      r, domain, "mail-" + hex(r, 8) + ".outbound.protection.outlook.com", ipv4(r, 52, 101), sent);
  s += dkim(r, "microsoft.com", "selector2", sent,
            "From:Date:Subject:Message-ID:Content-Type:MIME-Version:X-MS-Exchange-SenderADCheck");
  s += "Received: from MN0PR05CA00" + std::to_string(r.range(10, 99)) +
       ".namprd05.prod.outlook.com (2603:10b6:208:52c::19)\n by " + hex(r, 8, true) +
       ".namprd02.prod.outlook.com with Microsoft SMTP Server (version=TLS1_2)\n id "
       "15.20.9320.14; " +
       rfc5322(sent - 1, 0) + "\n";
  s += "From: <tlsrpt-noreply@microsoft.com>\n";
  s += "To: \"tls-reports@" + domain + "\" <tls-reports@" + domain + ">\n";
  s += "Date: " + rfc5322(sent, 0) + "\n";
  // Microsoft folds the Subject before the report id and leaves out the angle brackets.
  s +=
      "Subject: Report Domain: " + domain + " Submitter: microsoft.com Report-ID:\n " + m.id + "\n";
  s += "TLS-Report-Domain: " + domain + "\n";
  s += "TLS-Report-Submitter: microsoft.com\n";
  s += "MIME-Version: 1.0\n";
  s += "Message-ID: <" + m.id + "@" + domain + ">\n";
  s += "Content-Type: multipart/report;\n\tboundary=\"" + boundary + "\";\n\treport-type=tlsrpt\n";
  s += "X-MS-Exchange-CrossTenant-Network-Message-Id: " + hex(r, 8) + "-" + hex(r, 4) + "-" +
       hex(r, 4) + "-" + hex(r, 4) + "-" + hex(r, 12) + "\n";
  if (r.chance(0.6)) s += arc_set(r, domain, sent + 1);
  s += "X-Microsoft-Antispam: BCL:0;ARA:13230040|" + std::to_string(r.range(1000000, 9999999)) +
       "\n";
  s += "X-Microsoft-Antispam-Message-Info:\n\t" + folded(random_b64(r, 1400), 70, "\t") + "\n";
  s += "X-Forefront-Antispam-Report:\n\tCIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:"
       "NSPM;H:" +
       hex(r, 12, true) + ".namprd02.prod.outlook.com;PTR:;CAT:NONE;SFS:(13230040)(" +
       std::to_string(r.range(1000000, 9999999)) + ");DIR:OUT;SFP:1101;\n";
  s += "X-MS-Exchange-AntiSpam-MessageData-0:\n\t" + folded(random_b64(r, 1200), 70, "\t") + "\n";
  s += "\n--" + boundary + "\n";
  s += "Content-Type: text/html; charset=\"us-ascii\"\nContent-Transfer-Encoding: "
       "quoted-printable\n\n";
  s += qp_html(
      "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=us-ascii\">\n"
      "</head>\n<body>\n<div>This is an aggregate TLS report from microsoft.com</div>\n<br>\n"
      "<p><em>Microsoft respects your privacy. Review our online </em><a href=\"https://privacy."
      "microsoft.com/en-us/privacystatement\"><em>Privacy "
      "Statement</em></a></p>\n</body>\n</html>\n");
  s += "\n--" + boundary + "\n";
  s += "Content-Type: application/tlsrpt+gzip\n";
  s += "Content-Description:\n " + name + "\n";
  s += "Content-Disposition: attachment;\n\tfilename=\"" + name + "\"\n";
  s += "Content-Transfer-Encoding: base64\n\n";
  s += base64_encode(gz, 76, "\n");
  s += "\n--" + boundary + "--\n";
  return s;
}

std::string mailru_mail(rng& r, const report_model& m, const std::string& domain,
                        const std::string& gz, std::int64_t sent) {
  const std::string boundary =
      "----=_NextPart_" + std::to_string(sent) + std::to_string(r.range(100'000'000, 999'999'999));
  const std::string name = filename_for("mail.ru", domain, m, "001.json.gz");
  std::string s =
      received_chain(r, domain, "relay" + std::to_string(r.range(1, 9)) + ".m.smailru.net",
                     ipv4(r, 94, 100), sent);
  s += dkim(r, "corp.mail.ru", "mail4", sent,
            "Content-Type:MIME-Version:Message-Id:Subject:To:Date:From");
  s += "From: noreply-smtp-tls-reporting@corp.mail.ru\n";
  s += "Date: " + rfc5322(sent, 180) + "\n";
  s += "To: tls-reports@" + domain + "\n";
  s +=
      "Subject: Report\n Domain: " + domain + "\n Submitter: mail.ru\n Report-ID: <" + m.id + ">\n";
  s += "Auto-Submitted: auto-generated\n";
  s += "TLS-Report-Domain: " + domain + "\n";
  s += "TLS-Report-Submitter: mail.ru\n";
  s += "Message-Id: <" + m.id + ">\n";
  s += "MIME-Version: 1.0\n";
  s += "Content-Type: multipart/report; report-type=\"tlsrpt\";\n boundary=\"" + boundary + "\"\n";
  s += "X-Mras: Ok\n\n";
  s += "This is a multipart message in MIME format.\n\n";
  s += "--" + boundary + "\n";
  s += "Content-Type: text/plain; charset=\"us-ascii\"\nContent-Transfer-Encoding: 7bit\n\n";
  s += "This is an aggregate TLS report from mail.ru\n\n";
  s += "--" + boundary + "\n";
  s += "Content-Type: application/tlsrpt+gzip;\n name=\"" + name + "\"\n";
  s += "Content-Transfer-Encoding: base64\n";
  s += "Content-Disposition: attachment;\n filename=\"" + name + "\"\n\n";
  s += base64_encode(gz, 76, "\n");
  // Mail.ru never closes the multipart: the last boundary lacks its "--" (mail.ru.eml).
  s += "\n--" + boundary + "\n";
  std::string crlf;
  crlf.reserve(s.size() + s.size() / 40);
  for (const char c : s) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  return crlf;
}

std::string generic_headers(rng& r, const report_model& m, const std::string& domain,
                            const std::string& submitter, std::int64_t sent) {
  std::string s = received_chain(r, domain, "mail." + submitter, ipv4(r, 198, 51), sent);
  s += "From: TLS reporting <noreply-tlsrpt@" + submitter + ">\n";
  s += "To: tls-reports@" + domain + "\n";
  s += "Date: " + rfc5322(sent, 60) + "\n";
  s += "Subject: Report Domain: " + domain + " Submitter: " + submitter + " Report-ID: <" + m.id +
       ">\n";
  s += "Message-ID: <" + hex(r, 16) + "@" + submitter + ">\n";
  s += "TLS-Report-Domain: " + domain + "\n";
  s += "TLS-Report-Submitter: " + submitter + "\n";
  s += "MIME-Version: 1.0\n";
  return s;
}

std::string postfix_mail(rng& r, const report_model& m, const std::string& domain,
                         const std::string& gz, std::int64_t sent) {
  const std::string submitter = m.org.substr(5);
  const std::string boundary = "=-" + hex(r, 24);
  const std::string name = filename_for(submitter, domain, m, "0.json.gz");
  std::string s = generic_headers(r, m, domain, submitter, sent);
  s += "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"" + boundary + "\"\n\n";
  s += "--" + boundary + "\nContent-Type: text/plain; charset=\"utf-8\"\n\n";
  s += "This is an aggregate TLS report from " + submitter + "\n\n";
  s += "--" + boundary + "\n";
  s += "Content-Type: application/tlsrpt+gzip\n";
  s += "Content-Disposition: attachment; filename=\"" + name + "\"\n";
  s += "Content-Transfer-Encoding: base64\n\n";
  s += base64_encode(gz, 76, "\n");
  s += "--" + boundary + "--\n";
  return s;
}

std::string plain_json_mail(rng& r, const report_model& m, const std::string& domain,
                            const std::string& json, std::int64_t sent) {
  const std::string submitter = m.contact->substr(m.contact->find('@') + 1);
  const std::string boundary = "----------" + hex(r, 20);
  std::string s = generic_headers(r, m, domain, submitter, sent);
  s += "Content-Type: multipart/report; report-type=tlsrpt;\n boundary=\"" + boundary + "\"\n\n";
  s += "--" + boundary + "\nContent-Type: text/plain; charset=us-ascii\n\n";
  s += "TLS report for " + domain + ".\n\n";
  s += "--" + boundary + "\n";
  s += "Content-Type: application/tlsrpt+json\n";
  s += "Content-Transfer-Encoding: 7bit\n";
  s += "Content-Disposition: attachment;\n filename=\"" +
       filename_for(submitter, domain, m, "1.json") + "\"\n\n";
  s += json;
  s += "\n\n--" + boundary + "--\n";
  return s;
}

std::string octet_mail(rng& r, const report_model& m, const std::string& domain,
                       const std::string& gz, std::int64_t sent) {
  const std::string submitter = m.contact->substr(m.contact->find('@') + 1);
  const std::string boundary = "b1_" + hex(r, 32);
  const std::string name = filename_for(submitter, domain, m, "1.json.gz");
  std::string s = generic_headers(r, m, domain, submitter, sent);
  s += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\n\n";
  s += "--" + boundary + "\nContent-Type: text/plain; charset=utf-8\n";
  s += "Content-Transfer-Encoding: 8bit\n\n";
  s += "Attached is the SMTP TLS report for " + domain + ".\n\n";
  s += "--" + boundary + "\n";
  s += "Content-Type: application/octet-stream; name=\"" + name + "\"\n";
  s += "Content-Transfer-Encoding: base64\n";
  s += "Content-Disposition: attachment; filename=\"" + name + "\"\n\n";
  s += base64_encode(gz, 76, "\n");
  s += "\n--" + boundary + "--\n";
  return s;
}

std::string not_a_report_mail(rng& r, const std::string& domain, std::int64_t sent,
                              std::uint64_t index) {
  std::string s = received_chain(r, domain, "mail." + domain, ipv4(r, 198, 51), sent);
  const std::string mid = "<" + std::to_string(index) + "." + hex(r, 12) + "@" + domain + ">";
  switch (r.below(4)) {
    case 0:  // cron mail (like kravietz empty.eml)
      s += "From: root@host." + domain + " (Cron Daemon)\nTo: root@host." + domain + "\n";
      s += "Subject: Cron <root@host> test -x /usr/sbin/anacron || run-parts --report "
           "/etc/cron.daily\n";
      s += "Date: " + rfc5322(sent, 0) + "\nMessage-ID: " + mid + "\n";
      s += "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n";
      s += "Content-Transfer-Encoding: 8bit\n\n";
      for (int i = 0; i < 12; ++i)
        s += "/etc/cron.daily/logrotate: rotated " + hex(r, 10) + ".log\n";
      return s;
    case 1: {  // a bounce: multipart/report, but report-type=delivery-status
      const std::string b = "bounce-" + hex(r, 16);
      s += "From: MAILER-DAEMON@mx1." + domain + " (Mail Delivery System)\nTo: postmaster@" +
           domain + "\n";
      s += "Subject: Undelivered Mail Returned to Sender\nDate: " + rfc5322(sent, 0) +
           "\nMessage-ID: " + mid + "\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n";
      s += "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"" + b +
           "\"\n\n";
      s += "--" + b +
           "\nContent-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n";
      s += "I'm sorry to have to inform you that your message could not\nbe delivered to one or "
           "more recipients.\n\n";
      s += "--" + b +
           "\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n";
      s += "Reporting-MTA: dns; mx1." + domain + "\n\nFinal-Recipient: rfc822; nobody@" + domain +
           "\nAction: failed\nStatus: 5.1.1\n\n";
      s += "--" + b +
           "\nContent-Description: Undelivered Message Headers\nContent-Type: "
           "text/rfc822-headers\n\n";
      s += "From: someone@" + domain + "\nSubject: hello\n\n--" + b + "--\n";
      return s;
    }
    case 2: {  // a newsletter
      const std::string b = "alt-" + hex(r, 16);
      s += "From: News <news@" + domain_name(3'000'000 + r.below(20)) + ">\nTo: tls-reports@" +
           domain + "\nSubject: Your weekly digest\nDate: " + rfc5322(sent, 60) +
           "\nMessage-ID: " + mid + "\nMIME-Version: 1.0\n";
      s += "Content-Type: multipart/alternative; boundary=\"" + b + "\"\n\n";
      s += "--" + b + "\nContent-Type: text/plain; charset=utf-8\n\n";
      for (int i = 0; i < 8; ++i) s += "Story " + std::to_string(i) + ": " + hex(r, 40) + "\n";
      s += "\n--" + b + "\nContent-Type: text/html; charset=utf-8\n\n<html><body>\n";
      for (int i = 0; i < 8; ++i)
        s += "<p>Story " + std::to_string(i) + ": " + hex(r, 40) + "</p>\n";
      s += "</body></html>\n--" + b + "--\n";
      return s;
    }
    default: {  // a DMARC aggregate report that landed in the TLS-RPT inbox
      const std::string b = "dmarc-" + hex(r, 16);
      const std::string xml = "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>" +
                              domain + "</org_name><report_id>" + hex(r, 16) +
                              "</report_id></report_metadata></feedback>\n";
      s += "From: dmarc-noreply@" + domain_name(4'000'000 + r.below(20)) + "\nTo: dmarc@" + domain +
           "\nSubject: Report domain: " + domain + " Submitter: example Report-ID: " + hex(r, 12) +
           "\nDate: " + rfc5322(sent, 0) + "\nMessage-ID: " + mid + "\nMIME-Version: 1.0\n";
      s += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\n\n";
      s += "--" + b + "\nContent-Type: text/plain\n\nDMARC aggregate report.\n\n";
      s += "--" + b + "\nContent-Type: application/gzip; name=\"report.xml.gz\"\n";
      s += "Content-Disposition: attachment; filename=\"report.xml.gz\"\n";
      s += "Content-Transfer-Encoding: base64\n\n";
      s += base64_encode(gzip_compress(xml), 76, "\n");
      s += "--" + b + "--\n";
      return s;
    }
  }
}

void count(generated_mail& g, const report_model& m) {
  g.policies = static_cast<std::int64_t>(m.policies.size());
  for (const auto& p : m.policies) {
    g.successful_sessions += p.ok;
    g.failed_sessions += p.failed;
    g.failure_details += static_cast<std::int64_t>(p.details.size());
  }
}

}  // namespace

generated_mail generate(const gen_options& opt, std::size_t index) {
  const auto idx = static_cast<std::uint64_t>(index);
  rng r(mix(opt.seed, idx));
  generated_mail g;
  const double u = r.unit();
  if (u < opt.not_a_report_fraction) {
    g.kind = mail_kind::not_a_report;
  } else if (u < opt.not_a_report_fraction + opt.broken_fraction) {
    g.kind = mail_kind::broken;
  } else {
    const auto w = r.below(100);
    g.kind = w < 45   ? mail_kind::google
             : w < 70 ? mail_kind::microsoft
             : w < 78 ? mail_kind::mailru
             : w < 86 ? mail_kind::postfix
             : w < 93 ? mail_kind::plain_json
                      : mail_kind::octet_stream;
  }
  // (day, domain) is unique per index, so report ids built from them are unique too.
  const std::int64_t day = static_cast<std::int64_t>(idx % 30) + 1;
  const std::string domain = domain_name(idx / 30);
  const std::int64_t day_start = opt.base_time - day * 86400;
  const std::int64_t sent = day_start + 86400 + r.range(600, 10 * 3600);

  if (g.kind == mail_kind::not_a_report) {
    g.bytes = not_a_report_mail(r, domain, sent, idx);
    return g;
  }
  const report_model m = make_report(r, g.kind, domain, day_start, idx);
  switch (g.kind) {
    case mail_kind::google:
    case mail_kind::broken:
      g.json = to_json(m, false, key_order::google);
      break;
    case mail_kind::microsoft:
      g.json = to_json(m, false, key_order::rfc);
      break;
    case mail_kind::mailru:
      g.json = to_json(m, true, key_order::sorted);
      break;
    case mail_kind::postfix:
      g.json = to_json(m, true, key_order::rfc, 4);
      break;
    default:
      g.json = to_json(m, true, key_order::rfc);
      break;
  }
  switch (g.kind) {
    case mail_kind::google:
      g.bytes = google_mail(r, m, domain, gzip_compress(g.json), sent);
      break;
    case mail_kind::microsoft:
      g.bytes = microsoft_mail(r, m, domain, gzip_compress(g.json), sent);
      break;
    case mail_kind::mailru:
      g.bytes = mailru_mail(r, m, domain, gzip_compress(g.json), sent);
      break;
    case mail_kind::postfix:
      g.bytes = postfix_mail(r, m, domain, gzip_compress(g.json), sent);
      break;
    case mail_kind::plain_json:
      g.bytes = plain_json_mail(r, m, domain, g.json, sent);
      break;
    case mail_kind::octet_stream:
      g.bytes = octet_mail(r, m, domain, gzip_compress(g.json), sent);
      break;
    case mail_kind::broken: {
      std::string gz = gzip_compress(g.json);
      gz.resize(gz.size() / 2);
      g.bytes = google_mail(r, m, domain, gz, sent);
      return g;  // no report: counts stay zero
    }
    case mail_kind::not_a_report:
      break;
  }
  g.report_id = m.id;
  count(g, m);
  return g;
}

void totals::add(const generated_mail& m) {
  ++messages;
  bytes += static_cast<std::int64_t>(m.bytes.size());
  if (m.kind == mail_kind::not_a_report) {
    ++not_a_report;
  } else if (m.kind == mail_kind::broken) {
    ++broken;
  } else {
    ++reports;
    policies += m.policies;
    successful_sessions += m.successful_sessions;
    failed_sessions += m.failed_sessions;
    failure_details += m.failure_details;
  }
}

std::string totals::to_json() const {
  return "{\"messages\":" + std::to_string(messages) + ",\"reports\":" + std::to_string(reports) +
         ",\"policies\":" + std::to_string(policies) +
         ",\"successful_sessions\":" + std::to_string(successful_sessions) +
         ",\"failed_sessions\":" + std::to_string(failed_sessions) +
         ",\"failure_details\":" + std::to_string(failure_details) +
         ",\"not_a_report\":" + std::to_string(not_a_report) +
         ",\"broken\":" + std::to_string(broken) + ",\"bytes\":" + std::to_string(bytes) + "}";
}

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper with mtime 0, so the bytes do not depend on the clock.
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gen: cannot initialise zlib deflate");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END)
    throw std::runtime_error("gen: cannot gzip report: zlib " + std::to_string(rc));
  return out;
}

std::string base64_encode(std::string_view data, std::size_t line_length, std::string_view eol) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(data.size() * 4 / 3 + data.size() / 40 + 8);
  std::size_t col = 0;
  auto put = [&](char c) {
    out += c;
    if (line_length != 0 && ++col == line_length) {
      out += eol;
      col = 0;
    }
  };
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(data[k]));
  };
  for (; i + 3 <= data.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    put(alphabet[(v >> 18) & 63]);
    put(alphabet[(v >> 12) & 63]);
    put(alphabet[(v >> 6) & 63]);
    put(alphabet[v & 63]);
  }
  if (i < data.size()) {
    const unsigned v = (byte(i) << 16) | (i + 1 < data.size() ? byte(i + 1) << 8 : 0u);
    put(alphabet[(v >> 18) & 63]);
    put(alphabet[(v >> 12) & 63]);
    put(i + 1 < data.size() ? alphabet[(v >> 6) & 63] : '=');
    put('=');
  }
  if (col != 0) out += eol;
  return out;
}

}  // namespace tlsrpt::bench
