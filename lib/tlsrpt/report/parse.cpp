// SPDX-License-Identifier: Apache-2.0
// RFC 8460 §4.4 JSON -> report model. Exact about what a report must be, tolerant (with a
// warning) about everything real senders get wrong.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "tlsrpt/report/report.hpp"
#include "tlsrpt/report/text.hpp"

namespace tlsrpt::report {

namespace {

using document = rapidjson::Document;
using value = rapidjson::Value;

// Numbers are kept as their literal text so errors can quote them exactly and nothing is
// rounded through a double. They live in the DOM as strings that start with 0xFF: a byte that
// never occurs in the UTF-8 the parser validates, so no JSON string can be mistaken for one.
constexpr char number_mark = '\xFF';

// Sits between RapidJSON's reader and the document: counts nesting so a hostile document is
// cut off at the limit (RapidJSON has no limit of its own), and marks numbers. Refusing a
// container here stops RapidJSON's recursive parser before it descends, so the limit bounds
// its stack depth too (see recursion_limit).
class guarded_builder {
 public:
  guarded_builder(document& doc, std::size_t max_depth) : doc_(doc), max_depth_(max_depth) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  // With kParseNumbersAsStringsFlag only RawNumber is called; the rest completes the
  // handler concept.
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    scratch_.assign(1, number_mark);
    scratch_.append(s, n);
    return doc_.String(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()), true);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool StartObject() { return enter() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndObject(n);
  }
  bool StartArray() { return enter() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndArray(n);
  }

  bool too_deep() const noexcept { return too_deep_; }

 private:
  bool enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  document& doc_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
  std::string scratch_;
};

constexpr unsigned parse_flags =
    rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;

// Up to this nesting limit the recursive parser is used (a few hundred bytes of stack per
// level, and faster); past it, the iterative one, so input never controls our stack depth.
constexpr std::size_t recursion_limit = 256;

// True when every byte is below 0x80. Word-wise: this runs over every report.
bool is_ascii(std::string_view s) noexcept {
  constexpr std::uint64_t high_bits = 0x8080808080808080u;
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i + sizeof acc <= s.size(); i += sizeof acc) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + i, sizeof word);
    acc |= word;
  }
  for (; i < s.size(); ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & high_bits) == 0;
}

// Parses `json` into `doc`. Returns an empty string on success, else the cause.
//
// The parse is in situ: strings are unescaped where they stand in `text`, a copy of `json`
// that the document's strings then point into, so `text` must outlive `doc`. The copy is
// padded with NULs (RapidJSON's SIMD scanners, if ever enabled, read up to 15 bytes past the
// terminator; they are off, see CMakeLists.txt). The first NUL still ends the text, as it did
// for a MemoryStream; what follows is checked below.
std::string parse_dom(std::string_view json, std::size_t max_depth, document& doc,
                      std::string& text) {
  constexpr std::size_t simd_padding = 16;
  text.clear();
  text.reserve(json.size() + simd_padding);
  text.append(json);
  text.append(simd_padding, '\0');
  rapidjson::InsituStringStream ms(text.data());
  guarded_builder builder(doc, max_depth);
  rapidjson::ParseResult result;
  std::size_t end = 0;
  // RapidJSON's UTF-8 validation checks string bytes one at a time and is most of the cost of
  // reading a string; ASCII text (nearly every report) is valid UTF-8 as it stands, so only
  // input with other bytes pays for it.
  const bool validate = !is_ascii(json);
  const bool recursive = max_depth <= recursion_limit;
  auto generate = [&](document& d) {
    (void)d;  // the builder already holds it
    constexpr unsigned validating = parse_flags | rapidjson::kParseValidateEncodingFlag;
    constexpr unsigned iterative = rapidjson::kParseIterativeFlag;
    rapidjson::Reader reader;
    if (recursive) {
      result =
          validate ? reader.Parse<validating>(ms, builder) : reader.Parse<parse_flags>(ms, builder);
    } else {
      result = validate ? reader.Parse<validating | iterative>(ms, builder)
                        : reader.Parse<parse_flags | iterative>(ms, builder);
    }
    end = ms.Tell();
    return !result.IsError();
  };
  doc.Populate(generate);
  if (builder.too_deep()) {
    // The recursive parser stops after taking the refused bracket, the iterative one at it;
    // the offset named is the bracket's either way.
    const std::size_t at = recursive && result.Offset() > 0 ? result.Offset() - 1 : result.Offset();
    return "nesting deeper than " + std::to_string(max_depth) + " levels at offset " +
           std::to_string(at);
  }
  if (result.IsError()) {
    return std::string("not JSON: ") + rapidjson::GetParseError_En(result.Code()) + " at offset " +
           std::to_string(result.Offset());
  }
  // A NUL byte ends the stream's text; what follows it is still input.
  if (end < json.size()) {
    return "not JSON: unexpected data after the document at offset " + std::to_string(end);
  }
  return {};
}

bool is_number(const value& v) noexcept {
  return v.IsString() && v.GetStringLength() > 0 && v.GetString()[0] == number_mark;
}
bool is_text(const value& v) noexcept { return v.IsString() && !is_number(v); }
std::string_view text_of(const value& v) noexcept { return {v.GetString(), v.GetStringLength()}; }
std::string_view number_of(const value& v) noexcept { return text_of(v).substr(1); }

// How an unexpected value is shown in an error: literals as written, strings quoted (and cut
// short), containers by kind.
std::string describe(const value& v) {
  constexpr std::size_t max_shown = 60;
  if (v.IsNull()) return "null";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsObject()) return "an object";
  if (v.IsArray()) return "an array";
  std::string_view s = is_number(v) ? number_of(v) : text_of(v);
  const bool cut = s.size() > max_shown;
  s = s.substr(0, detail::utf8_cut(s, max_shown));
  if (is_number(v)) return std::string(s) + (cut ? "..." : "");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  std::string out(buf.GetString(), buf.GetSize());
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

std::string quoted(std::string_view s) {
  const value v(rapidjson::StringRef(s.data(), s.size()));
  return describe(v);
}

// Where a value sits in the document, as a chain of nodes on the walker's stack. Nearly every
// value is read without complaint, so the path is only spelled out ("policies[1].summary")
// when a warning or an error names it.
struct json_path {
  static constexpr std::size_t no_index = static_cast<std::size_t>(-1);

  const json_path* parent = nullptr;
  std::string_view key;          // a member's name, or empty for an array element
  std::size_t index = no_index;  // an array element's position

  json_path member(std::string_view name) const noexcept { return {this, name, no_index}; }
  json_path element(std::size_t i) const noexcept { return {this, {}, i}; }

  std::string str() const {
    std::string out = parent == nullptr ? std::string() : parent->str();
    if (index != no_index) {
      out += '[';
      out += std::to_string(index);
      out += ']';
    } else if (parent != nullptr) {
      if (!out.empty()) out += '.';
      out += key;
    }
    return out;
  }
};

// The first member named `key`, as FindMember finds it, without building a key value to
// compare: reports look up a dozen names in every failure detail.
const value* find(const value& object, std::string_view key) noexcept {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const value& name = it->name;
    if (name.GetStringLength() == key.size() &&
        std::memcmp(name.GetString(), key.data(), key.size()) == 0) {
      return &it->value;
    }
  }
  return nullptr;
}

// Walks the DOM of one report. The shape is fixed, so the walk is too: no recursion follows
// the input.
class walker {
 public:
  walker(const parse_limits& limits, report& out) : limits_(limits), out_(out) {}

  void warn(const json_path& at, const std::string& what) {
    std::string where = at.str();
    out_.warnings.push_back(where.empty() ? what : std::move(where) + ": " + what);
  }

  [[noreturn]] static void fail(const json_path& at, std::string cause) {
    throw parse_error(at.str(), std::move(cause));
  }

  // A member looked up under its RFC name or, failing that, under an alias some sender uses.
  // Returns the value and sets `found` to the name it was found under; null and absent are
  // alike.
  const value* member(const value& object, const json_path& parent, std::string_view key,
                      std::string_view& found, std::string_view alias = {},
                      std::string_view why = {}) {
    found = key;
    const value* v = find(object, key);
    const value* a = alias.empty() ? nullptr : find(object, alias);
    if (a != nullptr && !a->IsNull()) {
      if (v != nullptr && !v->IsNull()) {
        warn(parent.member(alias), "ignored: \"" + std::string(key) + "\" is present too");
      } else {
        warn(parent.member(alias),
             "read as \"" + std::string(key) + "\" (" + std::string(why) + ")");
        found = alias;
        return a;
      }
    }
    return v == nullptr || v->IsNull() ? nullptr : v;
  }

  // An optional string: absent, null and "" (mox, parsedmarc's samples) are all nullopt.
  // The view points into the document.
  std::optional<std::string_view> optional_view(const value& object, const json_path& parent,
                                                std::string_view key, std::string_view alias = {},
                                                std::string_view why = {}) {
    std::string_view found;
    const value* v = member(object, parent, key, found, alias, why);
    if (v == nullptr) return std::nullopt;
    if (!is_text(*v)) fail(parent.member(found), "expected a string, got " + describe(*v));
    if (detail::trim(text_of(*v)).empty()) return std::nullopt;
    return text_of(*v);
  }

  std::optional<std::string> optional_text(const value& object, const json_path& parent,
                                           std::string_view key, std::string_view alias = {},
                                           std::string_view why = {}) {
    const auto v = optional_view(object, parent, key, alias, why);
    if (!v) return std::nullopt;
    return std::string(*v);
  }

  std::string required_text(const value& object, const json_path& parent, std::string_view key) {
    const value* v = find(object, key);
    if (v == nullptr) fail(parent.member(key), "missing");
    if (!is_text(*v)) fail(parent.member(key), "expected a string, got " + describe(*v));
    if (detail::trim(text_of(*v)).empty()) fail(parent.member(key), "empty");
    return std::string(text_of(*v));
  }

  const value& required_object(const value& object, const json_path& parent, std::string_view key) {
    const value* v = find(object, key);
    if (v == nullptr) fail(parent.member(key), "missing");
    if (!v->IsObject()) fail(parent.member(key), "expected an object, got " + describe(*v));
    return *v;
  }

  // RFC 8460 §4.4 counts: non-negative integers. A missing one is read as 0 (rpt03's summary
  // has no total-failure-session-count); anything else that is not one is an error.
  std::int64_t count(const value& object, const json_path& parent, std::string_view key) {
    const json_path at = parent.member(key);
    const value* v = find(object, key);
    if (v == nullptr || v->IsNull()) {
      warn(at, "missing, read as 0");
      return 0;
    }
    constexpr std::string_view expected = "expected a non-negative integer, got ";
    if (!is_number(*v)) fail(at, std::string(expected) + describe(*v));
    const std::string_view lit = number_of(*v);
    if (lit.find_first_of(".eE") != std::string_view::npos) {
      fail(at, std::string(expected) + describe(*v));
    }
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(lit.data(), lit.data() + lit.size(), n);
    if (ec == std::errc::result_out_of_range) {
      fail(at, std::string(expected) + describe(*v) + ", which does not fit in 64 bits");
    }
    if (ec != std::errc{} || end != lit.data() + lit.size() || n < 0) {
      fail(at, std::string(expected) + describe(*v));
    }
    return n;
  }

  timestamp date_time(const value& range, const json_path& range_path, std::string_view key) {
    const json_path at = range_path.member(key);
    const value* v = find(range, key);
    if (v == nullptr) fail(at, "missing");
    if (!is_text(*v)) fail(at, "expected a string, got " + describe(*v));
    const auto t = parse_timestamp(text_of(*v));
    if (!t) fail(at, "expected an RFC 3339 date-time, got " + describe(*v));
    if (!t->has_offset) {
      // Microsoft's reports of early 2023 carry no offset; the day they cover is a UTC day.
      warn(at, "no UTC offset in " + describe(*v) + ", read as UTC");
    }
    return t->at;
  }

  void read(const value& root) {
    const json_path top;
    if (!root.IsObject()) fail(top, "expected a JSON object, got " + describe(root));

    // Required by RFC 8460 but not needed to make sense of the rest.
    if (auto org = optional_text(root, top, "organization-name")) {
      out_.organization_name = std::move(*org);
    } else {
      warn(top.member("organization-name"), "missing or empty");
    }
    const json_path range_path = top.member("date-range");
    const value& range = required_object(root, top, "date-range");
    out_.date_begin = date_time(range, range_path, "start-datetime");
    out_.date_end = date_time(range, range_path, "end-datetime");
    if (out_.date_end < out_.date_begin) {
      fail(range_path, "end-datetime " + format_timestamp(out_.date_end) +
                           " precedes start-datetime " + format_timestamp(out_.date_begin));
    }
    // contact-info: null (Stalwart) and "" are read as absent.
    out_.contact_info = optional_text(root, top, "contact-info");
    out_.report_id = required_text(root, top, "report-id");

    const json_path list_path = top.member("policies");
    const value* policies = find(root, "policies");
    if (policies == nullptr) fail(list_path, "missing");
    if (!policies->IsArray()) fail(list_path, "expected an array, got " + describe(*policies));
    if (policies->Size() > limits_.max_policies) {
      fail(list_path, std::to_string(policies->Size()) + " policies exceed the limit of " +
                          std::to_string(limits_.max_policies));
    }
    if (policies->Empty()) warn(list_path, "empty");
    out_.policies.reserve(policies->Size());
    for (rapidjson::SizeType i = 0; i < policies->Size(); ++i) {
      out_.policies.push_back(read_policy((*policies)[i], list_path.element(i)));
    }
  }

  policy read_policy(const value& entry, const json_path& at) {
    if (!entry.IsObject()) fail(at, "expected an object, got " + describe(entry));
    policy p;
    const json_path ppath = at.member("policy");
    const value& pol = required_object(entry, at, "policy");

    p.type_raw = required_text(pol, ppath, "policy-type");
    p.type = policy_type_from(p.type_raw);
    if (p.type == policy_type::other) {
      warn(ppath.member("policy-type"),
           "unregistered type " + quoted(p.type_raw) + " kept as sent");
    }
    read_policy_strings(pol, ppath, p);

    if (const auto domain = optional_view(pol, ppath, "policy-domain")) {
      std::string d = detail::normalize_domain(*domain);
      if (!d.empty()) p.policy_domain = std::move(d);
    }
    if (!p.policy_domain) {
      // Postfix's reporter leaves it out of no-policy-found entries.
      warn(ppath.member("policy-domain"), "missing or empty");
    }
    read_mx_hosts(pol, ppath, p);

    std::string_view found;
    const value* summary = member(entry, at, "summary", found);
    const json_path spath = at.member(found);
    if (summary == nullptr) {
      warn(spath, "missing, counts read as 0");
    } else if (!summary->IsObject()) {
      fail(spath, "expected an object, got " + describe(*summary));
    } else {
      p.total_successful_session_count = count(*summary, spath, "total-successful-session-count");
      p.total_failure_session_count = count(*summary, spath, "total-failure-session-count");
    }

    read_failure_details(entry, at, p);
    if (p.type == policy_type::sts) derive_sts(ppath, p);
    return p;
  }

  void read_policy_strings(const value& pol, const json_path& ppath, policy& p) {
    std::string_view found;
    const value* strings = member(pol, ppath, "policy-string", found);
    if (strings == nullptr) return;  // fetch errors, no-policy-found (mail.ru, Microsoft)
    const json_path at = ppath.member(found);
    if (is_text(*strings)) {
      warn(at, "a string instead of an array, read as one line");
      add_policy_line(text_of(*strings), at, p);
      return;
    }
    if (!strings->IsArray()) {
      fail(at, "expected an array of strings, got " + describe(*strings));
    }
    for (rapidjson::SizeType i = 0; i < strings->Size(); ++i) {
      const value& line = (*strings)[i];
      const json_path lpath = at.element(i);
      if (!is_text(line)) fail(lpath, "expected a string, got " + describe(line));
      std::string_view text = text_of(line);
      if (expand_json_array(text, lpath, p)) continue;
      add_policy_line(text, lpath, p);
    }
  }

  void add_policy_line(std::string_view text, const json_path& at, policy& p) {
    // Google's policy-string lines of 2022 end in "\r" (the policy file's CRLF kept).
    bool stripped = false;
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) {
      text.remove_suffix(1);
      stripped = true;
    }
    if (stripped) warn(at, "trailing line break removed");
    p.policy_strings.emplace_back(text);
  }

  // Microsoft sends a TLSA policy-string as one element holding a JSON-encoded array of the
  // records: ["[\"2 1 1 0254...\",\"2 1 1 0B9F...\"]"]. Each record becomes its own line.
  bool expand_json_array(std::string_view text, const json_path& at, policy& p) {
    const std::string_view t = detail::trim(text);
    if (t.size() < 2 || t.front() != '[' || t.back() != ']') return false;
    document inner;
    std::string inner_text;
    if (!parse_dom(t, 1, inner, inner_text).empty() || !inner.IsArray()) return false;
    for (const value& record : inner.GetArray()) {
      if (!is_text(record)) return false;
    }
    warn(at, "JSON-encoded array of " + std::to_string(inner.Size()) +
                 (inner.Size() == 1 ? " record" : " records") + " expanded (Microsoft)");
    for (const value& record : inner.GetArray()) {
      add_policy_line(text_of(record), at, p);
    }
    return true;
  }

  void read_mx_hosts(const value& pol, const json_path& ppath, policy& p) {
    std::string_view found;
    // mx-host-pattern is RFC 8460's schema placeholder, read by parsedmarc; no sender uses it.
    const value* mx = member(pol, ppath, "mx-host", found, "mx-host-pattern", "an old name");
    if (mx == nullptr) return;  // Microsoft leaves it out
    const json_path at = ppath.member(found);
    if (is_text(*mx)) {
      // Erratum 6241: the RFC's own example has a string where §4.4 has an array.
      add_mx_host(text_of(*mx), at, p);
      return;
    }
    if (!mx->IsArray()) fail(at, "expected an array of strings, got " + describe(*mx));
    for (rapidjson::SizeType i = 0; i < mx->Size(); ++i) {
      const value& host = (*mx)[i];
      const json_path hpath = at.element(i);
      if (!is_text(host)) fail(hpath, "expected a string, got " + describe(host));
      add_mx_host(text_of(host), hpath, p);
    }
  }

  void add_mx_host(std::string_view text, const json_path& at, policy& p) {
    std::string_view h = detail::trim(text);
    if (detail::istarts_with(h, "mx:")) {
      // The policy file's "mx: " line copied whole (Stalwart's issue #71 report).
      warn(at, "\"mx:\" prefix removed");
      h = detail::trim(h.substr(3));
    }
    std::string host = detail::normalize_domain(h);
    if (!host.empty()) p.mx_hosts.push_back(std::move(host));
  }

  void read_failure_details(const value& entry, const json_path& parent, policy& p) {
    std::string_view found;
    const value* details = member(entry, parent, "failure-details", found);
    if (details == nullptr) return;
    const json_path at = parent.member(found);
    if (!details->IsArray()) fail(at, "expected an array, got " + describe(*details));
    if (details->Size() > limits_.max_failure_details) {
      fail(at, std::to_string(details->Size()) + " failure details exceed the limit of " +
                   std::to_string(limits_.max_failure_details));
    }
    p.failure_details.reserve(details->Size());
    std::int64_t sum = 0;
    bool overflow = false;
    for (rapidjson::SizeType i = 0; i < details->Size(); ++i) {
      p.failure_details.push_back(read_detail((*details)[i], at.element(i)));
      overflow = overflow ||
                 __builtin_add_overflow(sum, p.failure_details.back().failed_session_count, &sum);
    }
    // mail.ru: two details of 1 session each under a total of 1. Both numbers are kept as
    // sent; neither is derived from the other.
    if (overflow) {
      warn(at, "sum of failed-session-count exceeds 64 bits");
    } else if (!p.failure_details.empty() && sum != p.total_failure_session_count) {
      warn(at, "sum of failed-session-count " + std::to_string(sum) +
                   " differs from summary.total-failure-session-count " +
                   std::to_string(p.total_failure_session_count));
    }
  }

  std::optional<std::string> address(const value& detail_obj, const json_path& at,
                                     std::string_view key) {
    const auto ip = optional_view(detail_obj, at, key);
    if (!ip) return std::nullopt;
    const std::string_view trimmed = detail::trim(*ip);
    if (!is_valid_ip(trimmed)) {
      warn(at.member(key), quoted(trimmed) + " is not an IP address, kept as text");
    }
    return std::string(trimmed);
  }

  failure_detail read_detail(const value& d, const json_path& at) {
    if (!d.IsObject()) fail(at, "expected an object, got " + describe(d));
    failure_detail f;
    if (auto raw = optional_text(d, at, "result-type")) {
      f.result_raw = std::move(*raw);
      f.result = result_type_from(f.result_raw);
      if (f.result == result_type::other) {
        warn(at.member("result-type"),
             "unregistered type " + quoted(f.result_raw) + " kept as sent");
      }
    } else {
      warn(at.member("result-type"), "missing or empty");
    }
    f.sending_mta_ip = address(d, at, "sending-mta-ip");
    if (const auto host = optional_view(d, at, "receiving-mx-hostname")) {
      std::string h = detail::normalize_domain(*host);
      if (!h.empty()) f.receiving_mx_hostname = std::move(h);
    }
    if (const auto helo = optional_view(d, at, "receiving-mx-helo")) {
      f.receiving_mx_helo = std::string(detail::trim(*helo));
    }
    f.receiving_ip = address(d, at, "receiving-ip");
    f.failed_session_count = count(d, at, "failed-session-count");
    // additional-info-uri and failure-error-code are RFC 8460's schema placeholder names.
    f.additional_information =
        optional_text(d, at, "additional-information", "additional-info-uri", "an old name");
    f.failure_reason_code =
        optional_text(d, at, "failure-reason-code", "failure-error-code", "an old name");
    return f;
  }

  // RFC 8461 §3.2: the policy file's "key: value" lines, as the report repeats them.
  void derive_sts(const json_path& ppath, policy& p) {
    const json_path at = ppath.member("policy-string");
    for (const std::string& line : p.policy_strings) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string_view key = detail::trim(std::string_view(line).substr(0, colon));
      const std::string_view val = detail::trim(std::string_view(line).substr(colon + 1));
      if (detail::iequals(key, "mode")) {
        if (detail::iequals(val, "enforce")) {
          p.mode = sts_mode::enforce;
        } else if (detail::iequals(val, "testing")) {
          p.mode = sts_mode::testing;
        } else if (detail::iequals(val, "none")) {
          p.mode = sts_mode::none;
        } else {
          warn(at, "unknown mode " + quoted(val));
        }
      } else if (detail::iequals(key, "max_age")) {
        std::int64_t age = 0;
        const auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), age);
        if (ec == std::errc{} && end == val.data() + val.size() && age >= 0) {
          p.max_age = age;
        } else {
          warn(at, "max_age " + quoted(val) + " is not a number of seconds");
        }
      } else if (detail::iequals(key, "mx")) {
        std::string pattern = detail::normalize_domain(val);
        if (!pattern.empty()) p.sts_mx_patterns.push_back(std::move(pattern));
      }
    }
  }

 private:
  const parse_limits& limits_;
  report& out_;
};

}  // namespace

report parse(std::string_view json, const parse_limits& limits) {
  if (json.size() > limits.max_bytes) {
    throw parse_error("", std::to_string(json.size()) + " bytes exceed the limit of " +
                              std::to_string(limits.max_bytes));
  }
  report out;
  if (json.substr(0, 3) == "\xEF\xBB\xBF") {
    json.remove_prefix(3);
    out.warnings.emplace_back("UTF-8 byte order mark ignored");
  }
  std::string text;  // the document's strings point into it
  // A typical report's DOM fits in a few kilobytes: its pool starts in a buffer on our stack,
  // and RapidJSON's parse stack (heap) starts that large instead of growing step by step.
  constexpr std::size_t dom_start = 16 * 1024;
  alignas(std::max_align_t) std::array<char, dom_start> pool_buffer;
  rapidjson::MemoryPoolAllocator<> pool(pool_buffer.data(), pool_buffer.size());
  document doc(&pool, dom_start);
  if (std::string cause = parse_dom(json, limits.max_depth, doc, text); !cause.empty()) {
    throw parse_error("", std::move(cause));
  }
  walker(limits, out).read(doc);
  return out;
}

}  // namespace tlsrpt::report
