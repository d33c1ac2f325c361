// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL report store. Every statement is prepared and parametrised: nothing from a
// report is ever spliced into SQL. New rows (reports, policies, failure details, ledger) go in
// with COPY in its text format, streamed while they are encoded; the lookups and the updates
// of rows seen before travel as PostgreSQL array literals unnested server-side. A whole batch
// costs a handful of round trips (docs/schema.md, "Write path and throughput").
#include "tlsrpt/store/pg_store.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <tuple>
#include <unordered_map>

#include <pqxx/tablewriter>

#include "tlsrpt/store/pq_detail.hpp"

namespace tlsrpt::store {

std::string_view to_string(outcome o) noexcept {
  switch (o) {
    case outcome::stored:
      return "stored";
    case outcome::duplicate:
      return "duplicate";
    case outcome::conflict:
      return "conflict";
    case outcome::not_a_report:
      return "not_a_report";
    case outcome::rejected:
      return "rejected";
    case outcome::skipped:
      return "skipped";
  }
  return "rejected";
}

std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::ready:
      return "ready";
    case verdict::not_ready:
      return "not-ready";
    case verdict::no_data:
      return "no-data";
  }
  return "no-data";
}

namespace detail {

bool transient_sqlstate(std::string_view s) noexcept {
  if (s.size() != 5) return false;
  const std::string_view cls = s.substr(0, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "58" || s == "40001" || s == "40P01" ||
         s == "55P03" || s == "25006";
}

std::string connect_failure_sqlstate(std::string_view m) {
  const auto has = [&](std::string_view part) { return m.find(part) != std::string_view::npos; };
  // libpq reports a failed connection as text only; the server's SQLSTATE is not kept. These
  // are the messages of libpq 15 and PostgreSQL 15 that retrying cannot fix.
  if (has("password authentication failed") || has("no password supplied")) return "28P01";
  if ((has("role \"") && has("does not exist")) || has("pg_hba.conf")) return "28000";
  if (has("database \"") && has("does not exist")) return "3D000";
  if (has("permission denied for database")) return "42501";
  for (const std::string_view malformed :
       {"invalid URI", "invalid connection option", "missing \"=\" after",
        "unterminated quoted string", "invalid integer value", "end of string reached",
        "invalid percent-encoded token", "forbidden value %00", "invalid sslmode value",
        "unexpected spaces found", "invalid port number", "invalid value for parameter"}) {
    if (has(malformed)) return "22023";
  }
  return {};
}

bool message_fault(std::string_view s) noexcept {
  if (s.size() != 5) return false;
  const std::string_view cls = s.substr(0, 2);
  return cls == "22" || cls == "23" || cls == "54" || s == "21000";
}

std::string clean_message(std::string_view what) {
  std::string m(what);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  for (const std::string_view prefix : {"ERROR:  ", "FATAL:  "}) {
    if (m.starts_with(prefix)) m.erase(0, prefix.size());
  }
  // Keep the first line: libpq adds LINE/context lines that quote the statement.
  if (const auto nl = m.find('\n'); nl != std::string::npos) m.erase(nl);
  return m;
}

void rethrow(std::string_view doing, std::string_view statement) {
  const std::string head = "store: cannot " + std::string(doing) + ": ";
  const std::string stmt(statement);
  try {
    throw;
  } catch (const error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    const std::string msg = clean_message(e.what());
    const std::string state = connect_failure_sqlstate(msg);
    if (!state.empty())
      throw error(
          head + "connection rejected (retrying cannot help): " + msg + " (SQLSTATE " + state + ")",
          state, false, stmt);
    throw error(head + "connection lost or refused: " + msg, "08006", true, stmt);
  } catch (const pqxx::in_doubt_error& e) {
    // The commit may or may not have happened; the identity and the ledger make a retry safe.
    throw error(head + "commit outcome unknown: " + clean_message(e.what()), "08007", true, stmt);
  } catch (const pqxx::sql_error& e) {
    // libpqxx 6.4 leaves sqlstate() empty on some paths (a plain exec refused for want of a
    // privilege gave "SQLSTATE ," in issue 15) though it picked the exception type from it.
    std::string state = e.sqlstate();
    if (state.empty()) {
      if (dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr) {
        state = "42501";
      } else if (dynamic_cast<const pqxx::undefined_table*>(&e) != nullptr) {
        state = "42P01";
      } else if (dynamic_cast<const pqxx::undefined_column*>(&e) != nullptr) {
        state = "42703";
      } else if (dynamic_cast<const pqxx::undefined_function*>(&e) != nullptr) {
        state = "42883";
      }
    }
    throw error(head + clean_message(e.what()) + " (SQLSTATE " + state + ", in " + stmt + ")",
                state, transient_sqlstate(state), stmt);
  } catch (const std::exception& e) {
    throw error(head + clean_message(e.what()), "", false, stmt);
  }
}

sts_readiness readiness_of(const pqxx::row& r) {
  sts_readiness v;
  v.policy_domain = r[0].as<std::string>();
  const std::string verdict_text = r[1].as<std::string>();
  v.result = verdict_text == "ready"       ? verdict::ready
             : verdict_text == "not-ready" ? verdict::not_ready
                                           : verdict::no_data;
  v.reasons = parse_text_array(r[2]);
  v.reporters = r[3].as<std::int64_t>();
  v.sessions = r[4].as<std::int64_t>();
  v.failed_sessions = r[5].as<std::int64_t>();
  v.blocking_failed_sessions = r[6].as<std::int64_t>();
  v.blocking_failure_rate = r[7].as<double>();
  v.blocking_result_types = parse_text_array(r[8]);
  if (!r[9].is_null()) v.sts_mode = r[9].as<std::string>();
  v.min_days = r[10].as<int>();
  v.observed_days = r[11].as<int>();
  v.min_reporters = r[12].as<int>();
  v.recent_blocking_failed_sessions = r[13].as<std::int64_t>();
  if (!r[14].is_null()) v.last_blocking_failure = r[14].as<std::string>();
  v.missing = parse_text_array(r[15]);
  return v;
}

std::vector<std::string> parse_text_array(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  pqxx::array_parser parser(f.c_str());
  for (;;) {
    const auto [kind, value] = parser.get_next();
    if (kind == pqxx::array_parser::juncture::done) break;
    if (kind == pqxx::array_parser::juncture::string_value) out.push_back(value);
  }
  return out;
}

}  // namespace detail

namespace {

using detail::parse_text_array;

// ---- Values into SQL text -----------------------------------------------------------------

// PostgreSQL text cannot hold NUL and must be valid UTF-8: strip NULs, replace invalid
// sequences with U+FFFD, so a header with stray Latin-1 never costs a report.
std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    const unsigned char c = u[i];
    if (c == 0) {
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07u;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t j = 1; ok && j < len; ++j) {
      if ((u[i + j] & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (u[i + j] & 0x3fu);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are invalid too.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)) {
      ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

// The common case, checked without copying: plain ASCII without NUL needs no cleaning.
bool plain_ascii(std::string_view s) noexcept {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0 || u >= 0x80) return false;
  }
  return true;
}

// Appends s to out with each character for which special(c) holds replaced by escape(out, c),
// in runs rather than byte by byte: the raw JSON of every report passes through here.
// (string_view::find_first_of calls memchr on the set for every byte, which showed up.)
template <typename Special, typename Escape>
void append_escaped(std::string& out, std::string_view s, Special special, Escape escape) {
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!special(s[i])) continue;
    out.append(s.data() + from, i - from);
    escape(out, s[i]);
    from = i + 1;
  }
  out.append(s.data() + from, s.size() - from);
}

std::optional<std::string> clean_opt(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return clean_text(*s);
}

// What both encoders below share: an absent value is NULL, and text that is not plain ASCII
// is cleaned (valid UTF-8, no NUL) before the encoder escapes it.
template <typename Encoder>
class value_encoder {
 public:
  void add_clean(std::string_view s) {
    if (plain_ascii(s)) {
      self().add(s);
    } else {
      self().add(clean_text(s));
    }
  }
  void add_opt(const std::optional<std::string>& s) {
    if (s) {
      add_clean(*s);
    } else {
      self().add_null();
    }
  }
  void add_opt(std::optional<std::int64_t> v) {
    if (v) {
      self().add(*v);
    } else {
      self().add_null();
    }
  }

 private:
  Encoder& self() { return static_cast<Encoder&>(*this); }
};

// Builds a PostgreSQL array literal: {"a","b",NULL}. Elements are always quoted, so only
// the quote and the backslash need escaping.
class array_builder : public value_encoder<array_builder> {
 public:
  // For text known to be clean already (digests, timestamps, nested array literals).
  void add(std::string_view s) {
    sep();
    out_.push_back('"');
    append_escaped(
        out_, s, [](char c) { return c == '"' || c == '\\'; },
        [](std::string& out, char c) {
          out.push_back('\\');
          out.push_back(c);
        });
    out_.push_back('"');
  }
  void add(std::int64_t v) {
    sep();
    out_ += std::to_string(v);
  }
  void add_null() {
    sep();
    out_ += "NULL";
  }
  std::string str() const { return out_ + "}"; }

 private:
  void sep() {
    if (out_.size() > 1) out_.push_back(',');
  }
  std::string out_ = "{";
};

// PostgreSQL's jsonb cannot hold U+0000 (SQLSTATE 22P05, "unsupported Unicode escape
// sequence"), which a JSON text may spell \u0000 inside a string; the whole report would be
// refused. In raw_json that escape becomes \ufffd (raw_sha256 still covers the bytes as
// received). Escapes are read in pairs, so an escaped backslash before "u0000" is left alone.
std::string_view jsonb_safe(const std::string& raw, std::string& buffer) {
  if (raw.find("\\u0000") == std::string::npos) return raw;
  buffer.clear();
  buffer.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      buffer.push_back(raw[i++]);
    } else if (raw.compare(i, 6, "\\u0000") == 0) {
      buffer += "\\ufffd";
      i += 6;
    } else {
      buffer.append(raw, i, 2);
      i += 2;
    }
  }
  return buffer;
}

std::string text_array(const std::vector<std::string>& v) {
  array_builder b;
  for (const auto& s : v) b.add_clean(s);
  return b.str();
}

// Rows in COPY's text format (PostgreSQL manual, COPY, "Text Format"): a tab between columns,
// a newline after each row, \N for NULL, and a backslash before the backslash, tab, newline
// and carriage return inside a value. Values are cleaned (no NUL, valid UTF-8) on the way in.
class copy_rows : public value_encoder<copy_rows> {
 public:
  // For text known to be clean already (digests, timestamps, array literals).
  void add(std::string_view s) {
    sep();
    // Only the backslash, tab, newline and carriage return; NUL never gets here.
    append_escaped(
        out_, s, [](char c) { return c == '\\' || c == '\t' || c == '\n' || c == '\r'; },
        [](std::string& out, char c) {
          out.push_back('\\');
          out.push_back(c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c);
        });
  }
  void add(std::int64_t v) {
    sep();
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
  }
  void add_null() {
    sep();
    out_ += "\\N";
  }
  void end_row() {
    out_.push_back('\n');
    fresh_ = true;
  }
  const std::string& text() const { return out_; }
  std::string& buffer() { return out_; }
  // Forgets the rows (after they were sent), keeping the buffer.
  void clear() {
    out_.clear();
    fresh_ = true;
  }

 private:
  void sep() {
    if (!fresh_) out_.push_back('\t');
    fresh_ = false;
  }
  std::string out_;
  bool fresh_ = true;
};

// Sends rows with COPY ... FROM STDIN while they are being built: every ~64 KiB of rows goes
// out at once, so the server parses and inserts one chunk while the next is encoded. libpqxx
// 6.4 offers COPY through stream_to, which converts and escapes field by field, and the older
// tablewriter, whose write_raw_line takes text we have escaped already. The COPY starts with
// the first chunk: a table without rows costs no round trip.
class copy_stream {
 public:
  copy_stream(pqxx::transaction_base& tx, const char* table, const std::vector<std::string>& cols)
      : tx_(tx), table_(table), cols_(cols) {}
  copy_rows& rows() { return rows_; }
  // After each row's values.
  void end_row() {
    rows_.end_row();
    if (rows_.text().size() >= chunk_bytes) flush();
  }
  void complete() {
    flush();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (writer_) writer_->complete();
#pragma GCC diagnostic pop
  }

 private:
  static constexpr std::size_t chunk_bytes = 64 * 1024;
  void flush() {
    std::string& text = rows_.buffer();
    if (text.empty()) return;
    text.pop_back();  // the last newline: write_raw_line adds it
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (!writer_) writer_.emplace(tx_, table_, cols_.begin(), cols_.end());
    writer_->write_raw_line(text);
#pragma GCC diagnostic pop
    rows_.clear();
  }
  pqxx::transaction_base& tx_;
  const char* table_;
  const std::vector<std::string>& cols_;
  copy_rows rows_;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  std::optional<pqxx::tablewriter> writer_;
#pragma GCC diagnostic pop
};

const std::vector<std::string>& ledger_copy_columns() {
  static const std::vector<std::string> c{
      "source",  "folder",    "uidvalidity", "uid",     "sha256", "message_id",  "sender",
      "subject", "submitter", "size",        "outcome", "error",  "report_refs", "attempts"};
  return c;
}

const std::vector<std::string>& report_columns() {
  static const std::vector<std::string> c{"id",
                                          "reporter",
                                          "organization_name",
                                          "contact_info",
                                          "report_id",
                                          "date_begin",
                                          "date_end",
                                          "submitter",
                                          "message_id",
                                          "source",
                                          "received_at",
                                          "policy_count",
                                          "successful_sessions",
                                          "failed_sessions",
                                          "raw_json",
                                          "raw_sha256",
                                          "content_sha256",
                                          "warnings"};
  return c;
}

const std::vector<std::string>& policy_columns() {
  static const std::vector<std::string> c{"id",
                                          "report_ref",
                                          "position",
                                          "policy_type",
                                          "policy_domain",
                                          "policy_strings",
                                          "mx_hosts",
                                          "sts_mode",
                                          "sts_max_age",
                                          "successful_sessions",
                                          "failed_sessions"};
  return c;
}

const std::vector<std::string>& failure_detail_columns() {
  static const std::vector<std::string> c{
      "report_ref",         "policy_ref",       "position",
      "result_type",        "sending_mta_ip",   "sending_mta_ip_raw",
      "receiving_ip",       "receiving_ip_raw", "receiving_mx_hostname",
      "receiving_mx_helo",  "failed_sessions",  "additional_information",
      "failure_reason_code"};
  return c;
}

// Timestamps travel as RFC 3339 UTC ("2024-05-01T00:00:00Z"), the report module's own form,
// which timestamptz reads the same whatever the session's DateStyle and TimeZone.
std::string pg_timestamp(report::timestamp t) { return report::format_timestamp(t); }

// The message's Date header as the collector gives it (RFC 3339). Anything that does not
// look like one is dropped rather than allowed to fail the report's INSERT.
std::optional<std::string> rfc3339_or_null(const std::optional<std::string>& s) {
  if (!s || s->size() < 19 || s->size() > 40) return std::nullopt;
  const std::string& v = *s;
  const auto digit = [&](std::size_t i) { return v[i] >= '0' && v[i] <= '9'; };
  for (const std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u, 11u, 12u, 14u, 15u, 17u, 18u}) {
    if (!digit(i)) return std::nullopt;
  }
  if (v[4] != '-' || v[7] != '-' || (v[10] != 'T' && v[10] != ' ') || v[13] != ':' ||
      v[16] != ':') {
    return std::nullopt;
  }
  for (std::size_t i = 19; i < v.size(); ++i) {
    const char c = v[i];
    if (!(digit(i) || c == '.' || c == '+' || c == '-' || c == ':' || c == 'Z' || c == 'z')) {
      return std::nullopt;
    }
  }
  return v;
}

bool valid_inet(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::optional<std::string> sts_mode_text(const std::optional<report::sts_mode>& m) {
  if (!m) return std::nullopt;
  switch (*m) {
    case report::sts_mode::testing:
      return "testing";
    case report::sts_mode::enforce:
      return "enforce";
    case report::sts_mode::none:
      return "none";
  }
  return std::nullopt;
}

// ---- Canonical form ------------------------------------------------------------------------

class canonical {
 public:
  void str(std::string_view s) {
    out_ += 'S';
    out_ += std::to_string(s.size());
    out_ += ':';
    out_ += s;
  }
  void opt(const std::optional<std::string>& s) {
    if (s) {
      str(*s);
    } else {
      out_ += 'N';
    }
  }
  void num(std::int64_t v) {
    out_ += 'I';
    out_ += std::to_string(v);
    out_ += ';';
  }
  void list(const std::vector<std::string>& v) {
    out_ += 'L';
    num(static_cast<std::int64_t>(v.size()));
    for (const auto& s : v) str(s);
  }
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

std::optional<std::int64_t> opt64(std::optional<std::uint32_t> v) {
  if (!v) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

std::optional<std::string> opt_field(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

// Columns of the ledger upsert, shared by its two conflict targets.
constexpr const char* ledger_update =
    "outcome = CASE WHEN m.outcome IN ('stored', 'conflict') AND EXCLUDED.outcome = 'duplicate' "
    "  THEN m.outcome ELSE EXCLUDED.outcome END, "
    "error = EXCLUDED.error, attempts = m.attempts + 1, last_seen = now(), "
    "message_id = coalesce(EXCLUDED.message_id, m.message_id), "
    "sender = coalesce(EXCLUDED.sender, m.sender), "
    "subject = coalesce(EXCLUDED.subject, m.subject), "
    "submitter = coalesce(EXCLUDED.submitter, m.submitter), "
    "size = coalesce(EXCLUDED.size, m.size), "
    "report_refs = CASE WHEN cardinality(EXCLUDED.report_refs) > 0 "
    "  THEN EXCLUDED.report_refs ELSE m.report_refs END";

void prepare_statements(pqxx::connection& c) {
  // Ids are reserved in one go (the identity sequences' nextval, never reused), so that the
  // rows of a batch can reference each other without a round trip per row and policies and
  // failure details can go in with COPY. A reserved id that ends unused (a duplicate) is a
  // harmless gap.
  c.prepare("reserve_ids",
            "SELECT 0, nextval('tlsrpt.reports_id_seq') FROM generate_series(1, $1::int)"
            " UNION ALL "
            "SELECT 1, nextval('tlsrpt.policies_id_seq') FROM generate_series(1, $2::int)");
  // One lock order for all writers (the ORDER BY), so two batches sharing identities cannot
  // deadlock. RETURNING tells which reserved ids went in; the others met an existing report.
  c.prepare("insert_reports",
            "INSERT INTO tlsrpt.reports (id, reporter, organization_name, contact_info, report_id,"
            "  date_begin, date_end, submitter, message_id, source, received_at, policy_count,"
            "  successful_sessions, failed_sessions, raw_json, raw_sha256, content_sha256,"
            "  warnings)"
            " SELECT id, reporter, organization_name, contact_info, report_id, date_begin,"
            "  date_end, submitter, message_id, source, received_at, policy_count,"
            "  successful_sessions, failed_sessions, raw_json::jsonb, raw_sha256, content_sha256,"
            "  warnings::text[]"
            " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],"
            "  $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[], $10::text[],"
            "  $11::timestamptz[], $12::int[], $13::bigint[], $14::bigint[], $15::text[],"
            "  $16::text[], $17::text[], $18::text[])"
            "  AS t(id, reporter, organization_name, contact_info, report_id, date_begin,"
            "   date_end, submitter, message_id, source, received_at, policy_count,"
            "   successful_sessions, failed_sessions, raw_json, raw_sha256, content_sha256,"
            "   warnings)"
            " ORDER BY reporter COLLATE \"C\", report_id COLLATE \"C\", date_begin, date_end"
            " ON CONFLICT (reporter, report_id, date_begin, date_end) DO NOTHING"
            " RETURNING id");
  // The reports that were there already (or that another transaction committed while our
  // INSERT waited on it: READ COMMITTED gives this statement a new snapshot).
  c.prepare(
      "select_reports",
      "SELECT t.ord, r.id, r.content_sha256"
      " FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY"
      "  AS t(reporter, report_id, date_begin, date_end, ord)"
      " JOIN tlsrpt.reports r ON r.reporter = t.reporter AND r.report_id = t.report_id"
      "  AND r.date_begin = t.date_begin AND r.date_end = t.date_end"
      " ORDER BY t.ord");
  const std::string ledger_input =
      "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[],"
      " $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::text[],"
      " $13::text[]) AS t(source, folder, uidvalidity, uid, sha256, message_id, sender, subject,"
      " submitter, size, outcome, error, report_refs)";
  const std::string ledger_columns =
      "(source, folder, uidvalidity, uid, sha256, message_id, sender, subject, submitter, size,"
      " outcome, error, attempts, report_refs)";
  const std::string ledger_select =
      "SELECT source, folder, uidvalidity, uid, sha256, message_id, sender, subject, submitter,"
      " size, outcome, error, 1, report_refs::bigint[] FROM input";
  c.prepare("upsert_messages",
            "WITH input AS (" + ledger_input +
                "), imap AS ("
                "  INSERT INTO tlsrpt.messages AS m " +
                ledger_columns + ledger_select +
                "  WHERE uid IS NOT NULL ORDER BY source, folder, uidvalidity, uid"
                "  ON CONFLICT (source, folder, uidvalidity, uid) WHERE uid IS NOT NULL"
                "  DO UPDATE SET " +
                ledger_update +
                " RETURNING 1"
                "), other AS ("
                "  INSERT INTO tlsrpt.messages AS m " +
                ledger_columns + ledger_select +
                "  WHERE uid IS NULL ORDER BY sha256"
                "  ON CONFLICT (sha256) WHERE uid IS NULL"
                "  DO UPDATE SET " +
                ledger_update +
                " RETURNING 1"
                ") SELECT (SELECT count(*) FROM imap) + (SELECT count(*) FROM other)");
  // Which keys of a batch the ledger has already (by IMAP UID, or by digest for messages
  // without one), as 1-based positions in the arrays. A LATERAL ... LIMIT 1 rather than
  // EXISTS: one index probe per key, never a hash of the whole ledger (which the planner may
  // pick for EXISTS while the table is small, and keep in the prepared plan).
  c.prepare("ledger_known",
            "SELECT t.ord FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[],"
            " $5::text[]) WITH ORDINALITY AS t(source, folder, uidvalidity, uid, sha256, ord),"
            " LATERAL (SELECT 1 FROM tlsrpt.messages m WHERE t.uid IS NOT NULL"
            "   AND m.source = t.source AND m.folder = t.folder"
            "   AND m.uidvalidity = t.uidvalidity AND m.uid = t.uid"
            "  UNION ALL"
            "  SELECT 1 FROM tlsrpt.messages m WHERE t.uid IS NULL AND m.uid IS NULL"
            "   AND m.sha256 = t.sha256"
            "  LIMIT 1) AS hit");
  c.prepare("insert_conflicts",
            "INSERT INTO tlsrpt.conflicts (report_ref, message_sha256, raw_json, raw_sha256,"
            "  content_sha256)"
            " SELECT report_ref, message_sha256, raw_json::jsonb, raw_sha256, content_sha256"
            " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])"
            "  AS t(report_ref, message_sha256, raw_json, raw_sha256, content_sha256)"
            " ON CONFLICT (report_ref, content_sha256) DO NOTHING");
  c.prepare("done_messages",
            "SELECT uid, outcome FROM tlsrpt.messages"
            " WHERE source = $1 AND folder = $2 AND uidvalidity = $3 AND uid = ANY($4::bigint[])"
            "  AND outcome IS NOT NULL ORDER BY uid");
  const std::string attempt_update =
      " DO UPDATE SET attempts = m.attempts + 1, error = EXCLUDED.error, last_seen = now()"
      " RETURNING attempts";
  c.prepare("attempt_imap",
            "INSERT INTO tlsrpt.messages AS m (source, folder, uidvalidity, uid, sha256, error,"
            "  attempts) VALUES ($1, $2, $3, $4, $5, $6, 1)"
            " ON CONFLICT (source, folder, uidvalidity, uid) WHERE uid IS NOT NULL" +
                attempt_update);
  c.prepare("attempt_other",
            "INSERT INTO tlsrpt.messages AS m (source, folder, sha256, error, attempts)"
            " VALUES ($1, $2, $3, $4, 1)"
            " ON CONFLICT (sha256) WHERE uid IS NULL" +
                attempt_update);
  c.prepare("prune",
            "WITH doomed AS (SELECT id FROM tlsrpt.reports"
            "  WHERE date_end < now() - make_interval(days => $1) ORDER BY id LIMIT $2"
            "  FOR UPDATE SKIP LOCKED)"
            " DELETE FROM tlsrpt.reports r USING doomed WHERE r.id = doomed.id");
  c.prepare("reprocess",
            "UPDATE tlsrpt.messages SET outcome = NULL, attempts = 0, last_seen = now()"
            " WHERE outcome = ANY($1::text[]) AND ($2::text IS NULL OR source = $2)"
            " RETURNING source, folder, uidvalidity, uid, sha256");
  // The window: UTC days from (today - days) to today, on the views' `day` column.
  c.prepare("summary_domains",
            "SELECT policy_domain, array_agg(DISTINCT reporter ORDER BY reporter),"
            "  sum(reports)::bigint, sum(total_sessions)::bigint, sum(successful_sessions)::bigint,"
            "  sum(failed_sessions)::bigint"
            " FROM tlsrpt.daily_domain_stats"
            " WHERE day >= (now() AT TIME ZONE 'UTC')::date - $1::int"
            "  AND ($2::text IS NULL OR policy_domain = $2)"
            " GROUP BY policy_domain ORDER BY 4 DESC, 1 NULLS LAST");
  c.prepare("summary_failures",
            "SELECT policy_domain, result_type, receiving_mx_hostname, receiving_ip,"
            "  sum(failed_sessions)::bigint, count(DISTINCT reporter)"
            " FROM tlsrpt.failure_breakdown"
            " WHERE day >= (now() AT TIME ZONE 'UTC')::date - $1::int"
            "  AND ($2::text IS NULL OR policy_domain = $2)"
            " GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3, 4 LIMIT $3");
  c.prepare("summary_readiness",
            std::string("SELECT ") + detail::readiness_columns +
                " FROM tlsrpt.sts_readiness_at(now(), $1, $2, $4, $5, $6)"
                " WHERE $3::text IS NULL OR policy_domain = $3 ORDER BY policy_domain");
}

// A savepoint on the open transaction. (pqxx::subtransaction left the transaction aborted
// after a failed statement in our tests with libpqxx 6.4, so the SQL is spelled out here.)
// Names are constants of this file, never data.
class savepoint {
 public:
  savepoint(pqxx::transaction_base& tx, const char* name) : tx_(tx), name_(name) {
    tx_.exec(std::string("SAVEPOINT ") + name_);
  }
  void release() { tx_.exec(std::string("RELEASE SAVEPOINT ") + name_); }
  void rollback() { tx_.exec(std::string("ROLLBACK TO SAVEPOINT ") + name_); }

 private:
  pqxx::transaction_base& tx_;
  const char* name_;
};

// One report of the batch, ready to bind.
struct report_row {
  std::size_t message = 0;  // index into the group
  const report_input* input = nullptr;
  std::string reporter;          // cleaned, as stored
  std::string report_id;         // cleaned, as stored
  std::string identity;          // reporter, report-id, begin, end
  std::size_t unique_index = 0;  // index into the unique rows sent to INSERT
  std::int64_t id = 0;
  outcome result = outcome::stored;

  // The digests, computed when first needed: for a new report that is while its COPY row is
  // encoded, when the server is busy with the rows before it.
  const std::string& content_sha256() const {
    if (content_.empty()) content_ = content_digest(input->parsed);
    return content_;
  }
  const std::string& raw_sha256() const {
    if (raw_.empty()) raw_ = sha256_hex(input->raw_json);
    return raw_;
  }

 private:
  mutable std::string content_;
  mutable std::string raw_;
};

// The values of one ledger row, in the order of the upsert's arrays (ledger_copy_columns()
// without its last, attempts); col(i) is the encoder of column i.
template <typename Column>
void encode_ledger(Column&& col, const message_input& m, const message_result& res) {
  const message_key& k = m.facts.key;
  col(0).add_clean(k.source);
  col(1).add_clean(k.folder);
  col(2).add_opt(opt64(k.uid ? k.uidvalidity : std::nullopt));
  col(3).add_opt(opt64(k.uidvalidity ? k.uid : std::nullopt));
  col(4).add_clean(k.sha256);
  col(5).add_opt(m.facts.message_id);
  col(6).add_opt(m.facts.from);
  col(7).add_opt(m.facts.subject);
  col(8).add_opt(m.facts.submitter);
  col(9).add(static_cast<std::int64_t>(m.facts.size));
  col(10).add(to_string(res.result));
  if (res.result == outcome::stored || res.result == outcome::duplicate) {
    col(11).add_null();
  } else {
    col(11).add_opt(res.detail.empty() ? std::optional<std::string>() : res.detail);
  }
  array_builder ids;
  for (const std::int64_t id : res.report_ids) ids.add(id);
  col(12).add(ids.str());
}

// The order the reports unique key sorts in with COLLATE "C": every writer inserts new reports
// in this order, by COPY or by INSERT (whose ORDER BY says the same).
bool identity_less(const report_row& a, const report_row& b) {
  const report::report& x = a.input->parsed;
  const report::report& y = b.input->parsed;
  return std::tie(a.reporter, a.report_id, x.date_begin, x.date_end) <
         std::tie(b.reporter, b.report_id, y.date_begin, y.date_end);
}

// The values of one tlsrpt.reports row, in report_columns() order; col(i) is the encoder of
// column i (the same COPY row for every column, or one array per column).
template <typename Column>
void encode_report(Column&& col, const report_row& row, std::int64_t id, const message_facts& facts,
                   std::string& json_buffer) {
  const report::report& r = row.input->parsed;
  std::int64_t successful = 0, failed = 0;
  for (const auto& p : r.policies) {
    successful += p.total_successful_session_count;
    failed += p.total_failure_session_count;
  }
  col(0).add(id);
  col(1).add(row.reporter);
  col(2).add_clean(r.organization_name);
  col(3).add_opt(r.contact_info);
  col(4).add(row.report_id);
  col(5).add(pg_timestamp(r.date_begin));
  col(6).add(pg_timestamp(r.date_end));
  col(7).add_opt(facts.submitter);
  col(8).add_opt(facts.message_id);
  col(9).add_clean(facts.key.source);
  col(10).add_opt(rfc3339_or_null(facts.date));
  col(11).add(static_cast<std::int64_t>(r.policies.size()));
  col(12).add(successful);
  col(13).add(failed);
  col(14).add_clean(jsonb_safe(row.input->raw_json, json_buffer));
  col(15).add(row.raw_sha256());
  col(16).add(row.content_sha256());
  col(17).add(text_array(r.warnings));
}

}  // namespace

std::string reporter_of(const report::report& r, const std::optional<std::string>& submitter) {
  if (!r.organization_name.empty()) return r.organization_name;
  if (r.contact_info && !r.contact_info->empty()) return *r.contact_info;
  return submitter.value_or("");
}

std::string content_digest(const report::report& r) {
  canonical c;
  c.str("tlsrpt-content-v1");
  c.str(r.organization_name);
  c.opt(r.contact_info);
  c.str(r.report_id);
  c.num(r.date_begin.time_since_epoch().count());
  c.num(r.date_end.time_since_epoch().count());
  c.num(static_cast<std::int64_t>(r.policies.size()));
  for (const auto& p : r.policies) {
    c.str(p.type_raw);
    c.opt(p.policy_domain);
    c.list(p.policy_strings);
    c.list(p.mx_hosts);
    c.num(p.total_successful_session_count);
    c.num(p.total_failure_session_count);
    c.num(static_cast<std::int64_t>(p.failure_details.size()));
    for (const auto& f : p.failure_details) {
      c.str(f.result_raw);
      c.opt(f.sending_mta_ip);
      c.opt(f.receiving_mx_hostname);
      c.opt(f.receiving_mx_helo);
      c.opt(f.receiving_ip);
      c.num(f.failed_session_count);
      c.opt(f.additional_information);
      c.opt(f.failure_reason_code);
    }
  }
  return sha256_hex(c.text());
}

struct pg_store::impl {
  std::string url;
  std::unique_ptr<pqxx::connection> conn;
  std::string statement;  // the one running, for error messages

  pqxx::connection& connection() {
    if (conn && !conn->is_open()) conn.reset();
    if (!conn) {
      statement = "connect";
      auto c = std::make_unique<pqxx::connection>(url);
      // clean_text() makes UTF-8; COPY and the parameters must be read as such.
      c->set_client_encoding("UTF8");
      prepare_statements(*c);
      conn = std::move(c);
    }
    return *conn;
  }

  template <typename... Args>
  pqxx::result exec(pqxx::transaction_base& tx, const char* name, Args&&... args) {
    statement = name;
    return tx.exec_prepared(name, std::forward<Args>(args)...);
  }

  // Runs f, translating failures; drops the connection when it broke so the next call
  // reconnects.
  template <typename F>
  auto guarded(std::string_view doing, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (...) {
      try {
        detail::rethrow(doing, statement);
      } catch (const error& e) {
        if (e.transient()) conn.reset();
        throw;
      }
    }
  }

  std::vector<message_result> write_group(pqxx::transaction_base& tx,
                                          std::span<const message_input* const> group);
  // Sets the id and stored digest of each identity unique[u], u in `which`, that is stored.
  void find_stored(pqxx::transaction_base& tx, const std::vector<report_row>& rows,
                   const std::vector<std::size_t>& unique, const std::vector<std::size_t>& which,
                   std::vector<std::int64_t>& unique_id,
                   std::vector<std::string>& unique_stored_digest);
  // The reports unique[fresh[k]] with ids report_ids[k], by COPY.
  void copy_reports(pqxx::transaction_base& tx, std::span<const message_input* const> group,
                    const std::vector<report_row>& rows, const std::vector<std::size_t>& unique,
                    const std::vector<std::size_t>& fresh,
                    const std::vector<std::int64_t>& report_ids, std::string& json_buffer);
  // The same with INSERT ... ON CONFLICT DO NOTHING; the identities found stored meanwhile
  // get the stored id and digest.
  void insert_reports(pqxx::transaction_base& tx, std::span<const message_input* const> group,
                      const std::vector<report_row>& rows, const std::vector<std::size_t>& unique,
                      const std::vector<std::size_t>& fresh,
                      const std::vector<std::int64_t>& report_ids, std::string& json_buffer,
                      std::vector<std::int64_t>& unique_id, std::vector<bool>& unique_inserted,
                      std::vector<std::string>& unique_stored_digest);
  std::vector<message_result> write_one_isolated(pqxx::transaction_base& tx,
                                                 const message_input& m);
};

void pg_store::impl::find_stored(pqxx::transaction_base& tx, const std::vector<report_row>& rows,
                                 const std::vector<std::size_t>& unique,
                                 const std::vector<std::size_t>& which,
                                 std::vector<std::int64_t>& unique_id,
                                 std::vector<std::string>& unique_stored_digest) {
  if (which.empty()) return;
  array_builder reporter, rid, begin, end;
  for (const std::size_t u : which) {
    const report_row& row = rows[unique[u]];
    reporter.add(row.reporter);
    rid.add(row.report_id);
    begin.add(pg_timestamp(row.input->parsed.date_begin));
    end.add(pg_timestamp(row.input->parsed.date_end));
  }
  for (const auto& r :
       exec(tx, "select_reports", reporter.str(), rid.str(), begin.str(), end.str())) {
    const std::size_t u = which.at(static_cast<std::size_t>(r[0].as<std::int64_t>() - 1));
    unique_id[u] = r[1].as<std::int64_t>();
    unique_stored_digest[u] = r[2].as<std::string>();
  }
}

void pg_store::impl::copy_reports(pqxx::transaction_base& tx,
                                  std::span<const message_input* const> group,
                                  const std::vector<report_row>& rows,
                                  const std::vector<std::size_t>& unique,
                                  const std::vector<std::size_t>& fresh,
                                  const std::vector<std::int64_t>& report_ids,
                                  std::string& json_buffer) {
  statement = "copy_reports";
  copy_stream reports(tx, "tlsrpt.reports", report_columns());
  copy_rows& out = reports.rows();
  for (std::size_t k = 0; k < fresh.size(); ++k) {
    const report_row& row = rows[unique[fresh[k]]];
    encode_report([&](std::size_t) -> copy_rows& { return out; }, row, report_ids[k],
                  group[row.message]->facts, json_buffer);
    reports.end_row();
  }
  reports.complete();
}

void pg_store::impl::insert_reports(
    pqxx::transaction_base& tx, std::span<const message_input* const> group,
    const std::vector<report_row>& rows, const std::vector<std::size_t>& unique,
    const std::vector<std::size_t>& fresh, const std::vector<std::int64_t>& report_ids,
    std::string& json_buffer, std::vector<std::int64_t>& unique_id,
    std::vector<bool>& unique_inserted, std::vector<std::string>& unique_stored_digest) {
  std::array<array_builder, 18> col;
  std::unordered_map<std::int64_t, std::size_t> by_id;  // reserved id -> index into fresh
  for (std::size_t k = 0; k < fresh.size(); ++k) {
    const report_row& row = rows[unique[fresh[k]]];
    encode_report([&](std::size_t i) -> array_builder& { return col[i]; }, row, report_ids[k],
                  group[row.message]->facts, json_buffer);
    by_id.emplace(report_ids[k], k);
  }
  for (const auto& r :
       exec(tx, "insert_reports", col[0].str(), col[1].str(), col[2].str(), col[3].str(),
            col[4].str(), col[5].str(), col[6].str(), col[7].str(), col[8].str(), col[9].str(),
            col[10].str(), col[11].str(), col[12].str(), col[13].str(), col[14].str(),
            col[15].str(), col[16].str(), col[17].str())) {
    const std::size_t u = fresh[by_id.at(r[0].as<std::int64_t>())];
    unique_id[u] = r[0].as<std::int64_t>();
    unique_inserted[u] = true;
    unique_stored_digest[u] = rows[unique[u]].content_sha256();
  }
  std::vector<std::size_t> missing;
  for (const std::size_t u : fresh) {
    if (!unique_inserted[u]) missing.push_back(u);
  }
  find_stored(tx, rows, unique, missing, unique_id, unique_stored_digest);
  for (const std::size_t u : missing) {
    if (unique_id[u] == 0) {
      throw error(
          "store: cannot find report " + rows[unique[u]].identity + " after its INSERT was skipped",
          "", true, "select_reports");
    }
  }
}

std::vector<message_result> pg_store::impl::write_group(
    pqxx::transaction_base& tx, std::span<const message_input* const> group) {
  std::vector<message_result> results(group.size());
  std::vector<report_row> rows;
  std::string json_buffer;          // for jsonb_safe()
  std::vector<std::size_t> unique;  // rows[] index of each identity's first occurrence
  std::unordered_map<std::string, std::size_t> by_identity;

  for (std::size_t i = 0; i < group.size(); ++i) {
    const message_input& m = *group[i];
    if (m.kind != outcome::stored) continue;
    for (const auto& input : m.reports) {
      report_row row;
      row.message = i;
      row.input = &input;
      row.reporter = clean_text(reporter_of(input.parsed, m.facts.submitter));
      row.report_id = clean_text(input.parsed.report_id);
      row.identity = row.reporter + '\x1f' + row.report_id + '\x1f' +
                     std::to_string(input.parsed.date_begin.time_since_epoch().count()) + '\x1f' +
                     std::to_string(input.parsed.date_end.time_since_epoch().count());
      const auto [it, fresh] = by_identity.emplace(row.identity, unique.size());
      if (fresh) unique.push_back(rows.size());
      row.unique_index = it->second;
      rows.push_back(std::move(row));
    }
  }

  // 1. Reports. Which identities are stored already (one index probe each), ids for the
  //    others and their policies, then those reports in with COPY, in identity order (one
  //    lock order for every writer, so two batches sharing identities cannot deadlock).
  //    Should another writer have stored one of them since the probe, the COPY stops on the
  //    unique key; the reports then go in again with INSERT ... ON CONFLICT DO NOTHING.
  std::vector<std::int64_t> unique_id(unique.size(), 0);
  std::vector<std::string> unique_stored_digest(unique.size());
  std::vector<bool> unique_inserted(unique.size(), false);
  std::vector<std::int64_t> policy_ids;
  std::vector<std::size_t> first_policy(unique.size(), 0);  // into policy_ids
  if (!unique.empty()) {
    std::vector<std::size_t> all(unique.size());
    for (std::size_t u = 0; u < unique.size(); ++u) all[u] = u;
    find_stored(tx, rows, unique, all, unique_id, unique_stored_digest);
    std::vector<std::size_t> fresh;  // indexes into `unique` of identities not stored yet
    for (std::size_t u = 0; u < unique.size(); ++u) {
      if (unique_id[u] == 0) fresh.push_back(u);
    }
    std::sort(fresh.begin(), fresh.end(), [&](std::size_t x, std::size_t y) {
      return identity_less(rows[unique[x]], rows[unique[y]]);
    });
    if (!fresh.empty()) {
      std::int64_t policy_count = 0;
      for (const std::size_t u : fresh) {
        first_policy[u] = static_cast<std::size_t>(policy_count);
        policy_count += static_cast<std::int64_t>(rows[unique[u]].input->parsed.policies.size());
      }
      std::vector<std::int64_t> report_ids;
      report_ids.reserve(fresh.size());
      policy_ids.reserve(static_cast<std::size_t>(policy_count));
      for (const auto& r :
           exec(tx, "reserve_ids", static_cast<std::int64_t>(fresh.size()), policy_count)) {
        (r[0].as<int>() == 0 ? report_ids : policy_ids).push_back(r[1].as<std::int64_t>());
      }
      if (report_ids.size() != fresh.size() ||
          policy_ids.size() != static_cast<std::size_t>(policy_count)) {
        throw error("store: cannot reserve report and policy ids: the server returned too few", "",
                    false, "reserve_ids");
      }
      bool copied = false;
      {
        savepoint sp(tx, "reports");
        try {
          copy_reports(tx, group, rows, unique, fresh, report_ids, json_buffer);
          sp.release();
          copied = true;
        } catch (const pqxx::sql_error& e) {
          if (e.sqlstate() != "23505") throw;
          sp.rollback();
        }
      }
      if (copied) {
        for (std::size_t k = 0; k < fresh.size(); ++k) {
          const std::size_t u = fresh[k];
          unique_id[u] = report_ids[k];
          unique_inserted[u] = true;
          unique_stored_digest[u] = rows[unique[u]].content_sha256();
        }
      } else {
        insert_reports(tx, group, rows, unique, fresh, report_ids, json_buffer, unique_id,
                       unique_inserted, unique_stored_digest);
      }
    }
  }

  // Classify every occurrence: the inserting one is stored, the others compare digests.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    report_row& row = rows[i];
    const std::size_t u = row.unique_index;
    row.id = unique_id[u];
    if (unique_inserted[u] && unique[u] == i) {
      row.result = outcome::stored;
    } else if (row.content_sha256() == unique_stored_digest[u]) {
      row.result = outcome::duplicate;
    } else {
      row.result = outcome::conflict;
    }
  }

  // 2. Policies, then failure details, of the new reports, each with one streamed COPY. Their
  //    policy ids were reserved above, from first_policy[u] on, policy by policy.
  {
    statement = "copy_policies";
    copy_stream policies(tx, "tlsrpt.policies", policy_columns());
    copy_rows& pol = policies.rows();
    for (std::size_t u = 0; u < unique.size(); ++u) {
      const report_row& row = rows[unique[u]];
      if (row.result != outcome::stored) continue;
      for (std::size_t pi = 0; pi < row.input->parsed.policies.size(); ++pi) {
        const report::policy& p = row.input->parsed.policies[pi];
        pol.add(policy_ids[first_policy[u] + pi]);
        pol.add(row.id);
        pol.add(static_cast<std::int64_t>(pi));
        pol.add_clean(p.type_raw);
        pol.add_opt(p.policy_domain);
        pol.add(text_array(p.policy_strings));
        pol.add(text_array(p.mx_hosts));
        pol.add_opt(sts_mode_text(p.mode));
        pol.add_opt(p.max_age);
        pol.add(p.total_successful_session_count);
        pol.add(p.total_failure_session_count);
        policies.end_row();
      }
    }
    policies.complete();

    statement = "copy_failure_details";
    copy_stream details(tx, "tlsrpt.failure_details", failure_detail_columns());
    copy_rows& det = details.rows();
    for (std::size_t u = 0; u < unique.size(); ++u) {
      const report_row& row = rows[unique[u]];
      if (row.result != outcome::stored) continue;
      for (std::size_t pi = 0; pi < row.input->parsed.policies.size(); ++pi) {
        const report::policy& p = row.input->parsed.policies[pi];
        for (std::size_t fi = 0; fi < p.failure_details.size(); ++fi) {
          const report::failure_detail& f = p.failure_details[fi];
          det.add(row.id);
          det.add(policy_ids[first_policy[u] + pi]);
          det.add(static_cast<std::int64_t>(fi));
          det.add_clean(f.result_raw);
          // An address that is not one stays as text in *_raw (inet would reject the row).
          for (const std::optional<std::string>* ip : {&f.sending_mta_ip, &f.receiving_ip}) {
            if (ip->has_value() && valid_inet(**ip)) {
              det.add_clean(**ip);
              det.add_null();
            } else {
              det.add_null();
              det.add_opt(*ip);
            }
          }
          det.add_opt(f.receiving_mx_hostname);
          det.add_opt(f.receiving_mx_helo);
          det.add(f.failed_session_count);
          det.add_opt(f.additional_information);
          det.add_opt(f.failure_reason_code);
          details.end_row();
        }
      }
    }
    details.complete();
  }

  // 3. Conflicts: the new version is kept, never counted.
  {
    array_builder c_ref, c_msg, c_raw, c_rsha, c_csha;
    std::size_t n = 0;
    for (const report_row& row : rows) {
      if (row.result != outcome::conflict) continue;
      ++n;
      c_ref.add(row.id);
      c_msg.add_clean(group[row.message]->facts.key.sha256);
      c_raw.add_clean(jsonb_safe(row.input->raw_json, json_buffer));
      c_rsha.add(row.raw_sha256());
      c_csha.add(row.content_sha256());
    }
    if (n > 0) {
      exec(tx, "insert_conflicts", c_ref.str(), c_msg.str(), c_raw.str(), c_rsha.str(),
           c_csha.str());
    }
  }

  // Per message: conflict if any report conflicted, else stored if any was new, else
  // duplicate. A "stored" message without reports is not a report.
  for (std::size_t i = 0; i < group.size(); ++i) {
    const message_input& m = *group[i];
    message_result& res = results[i];
    if (m.kind != outcome::stored) {
      res.result = m.kind;
      res.detail = m.error;
      continue;
    }
    if (m.reports.empty()) {
      res.result = outcome::not_a_report;
      res.detail = m.error.empty() ? "no report in the message" : m.error;
      continue;
    }
    bool any_stored = false, any_conflict = false;
    for (const report_row& row : rows) {
      if (row.message != i) continue;
      res.report_ids.push_back(row.id);
      any_stored = any_stored || row.result == outcome::stored;
      if (row.result == outcome::conflict) {
        any_conflict = true;
        const report::report& r = row.input->parsed;
        if (!res.detail.empty()) res.detail += "; ";
        res.detail += "report " + row.reporter + " " + r.report_id + " (" +
                      pg_timestamp(r.date_begin) + " .. " + pg_timestamp(r.date_end) +
                      ") differs from the stored report #" + std::to_string(row.id) +
                      "; the first stays counted, this version is kept in tlsrpt.conflicts";
      }
    }
    res.result =
        any_conflict ? outcome::conflict : (any_stored ? outcome::stored : outcome::duplicate);
  }

  // 4. The ledger, one row per message: rows new to the ledger (nearly all) with COPY, those
  //    it has seen before (attempts counted, a file ingested again) with the upsert. Should
  //    another writer add one of the new keys meanwhile, the COPY stops on the unique key and
  //    every row goes through the upsert instead.
  std::vector<std::size_t> fresh_rows, known_rows;
  {
    std::vector<bool> known(group.size(), false);
    array_builder source, folder, uidvalidity, uid, sha;
    for (std::size_t i = 0; i < group.size(); ++i) {
      const message_key& k = group[i]->facts.key;
      source.add_clean(k.source);
      folder.add_clean(k.folder);
      uidvalidity.add_opt(opt64(k.uid ? k.uidvalidity : std::nullopt));
      uid.add_opt(opt64(k.uidvalidity ? k.uid : std::nullopt));
      sha.add_clean(k.sha256);
    }
    for (const auto& r : exec(tx, "ledger_known", source.str(), folder.str(), uidvalidity.str(),
                              uid.str(), sha.str())) {
      known.at(static_cast<std::size_t>(r[0].as<std::int64_t>() - 1)) = true;
    }
    for (std::size_t i = 0; i < group.size(); ++i) {
      (known[i] ? known_rows : fresh_rows).push_back(i);
    }
  }
  if (!fresh_rows.empty()) {
    savepoint sp(tx, "ledger");
    try {
      statement = "copy_messages";
      copy_stream ledger(tx, "tlsrpt.messages", ledger_copy_columns());
      copy_rows& out = ledger.rows();
      for (const std::size_t i : fresh_rows) {
        encode_ledger([&](std::size_t) -> copy_rows& { return out; }, *group[i], results[i]);
        out.add(std::int64_t{1});  // attempts
        ledger.end_row();
      }
      ledger.complete();
      sp.release();
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != "23505") throw;
      sp.rollback();
      known_rows.clear();
      for (std::size_t i = 0; i < group.size(); ++i) known_rows.push_back(i);
    }
  }
  if (!known_rows.empty()) {
    std::array<array_builder, 13> col;
    for (const std::size_t i : known_rows) {
      encode_ledger([&](std::size_t c) -> array_builder& { return col[c]; }, *group[i], results[i]);
    }
    exec(tx, "upsert_messages", col[0].str(), col[1].str(), col[2].str(), col[3].str(),
         col[4].str(), col[5].str(), col[6].str(), col[7].str(), col[8].str(), col[9].str(),
         col[10].str(), col[11].str(), col[12].str());
  }
  return results;
}

std::vector<message_result> pg_store::impl::write_one_isolated(pqxx::transaction_base& tx,
                                                               const message_input& m) {
  const message_input* one[] = {&m};
  std::string failure;
  {
    savepoint sp(tx, "message");
    try {
      auto r = write_group(tx, one);
      sp.release();
      return r;
    } catch (const pqxx::sql_error& e) {
      if (!detail::message_fault(e.sqlstate())) throw;
      failure = "store: cannot store the message: " + detail::clean_message(e.what()) +
                " (SQLSTATE " + e.sqlstate() + ", in " + statement + ")";
      sp.rollback();
    }
  }
  // The message's rows are gone; its ledger row records why, so it is not retried forever.
  message_input rejected;
  rejected.facts = m.facts;
  rejected.kind = outcome::rejected;
  rejected.error = failure;
  const message_input* again[] = {&rejected};
  return write_group(tx, again);
}

pg_store::pg_store(std::string url) : impl_(std::make_unique<impl>()) {
  impl_->url = std::move(url);
}
pg_store::~pg_store() = default;

std::vector<message_result> pg_store::write(std::span<const message_input> batch) {
  if (batch.empty()) return {};
  return impl_->guarded("write " + std::to_string(batch.size()) + " messages",
                        [&]() -> std::vector<message_result> {
                          pqxx::work tx(impl_->connection(), "write");
                          std::vector<const message_input*> all;
                          all.reserve(batch.size());
                          for (const auto& m : batch) all.push_back(&m);
                          std::vector<message_result> results;
                          bool fast = true;
                          {
                            // Optimistic: the whole batch in a few statements under one savepoint.
                            // Should any message's data fail, fall back to one savepoint per
                            // message.
                            savepoint sp(tx, "batch");
                            try {
                              results = impl_->write_group(tx, all);
                              sp.release();
                            } catch (const pqxx::sql_error& e) {
                              if (!detail::message_fault(e.sqlstate())) throw;
                              sp.rollback();
                              fast = false;
                            }
                          }
                          if (!fast) {
                            results.clear();
                            for (const auto* m : all) {
                              auto r = impl_->write_one_isolated(tx, *m);
                              results.push_back(std::move(r.front()));
                            }
                          }
                          impl_->statement = "commit";
                          tx.commit();
                          return results;
                        });
}

std::vector<report_store::done_message> pg_store::done_messages(
    const std::string& source, const std::string& folder, std::uint32_t uidvalidity,
    std::span<const std::uint32_t> uids) {
  if (uids.empty()) return {};
  return impl_->guarded("read the ledger", [&] {
    array_builder ids;
    for (const std::uint32_t u : uids) ids.add(static_cast<std::int64_t>(u));
    pqxx::read_transaction tx(impl_->connection(), "done_messages");
    std::vector<done_message> out;
    for (const auto& r : impl_->exec(tx, "done_messages", clean_text(source), clean_text(folder),
                                     static_cast<std::int64_t>(uidvalidity), ids.str())) {
      done_message d;
      d.uid = static_cast<std::uint32_t>(r[0].as<std::int64_t>());
      const std::string o = r[1].as<std::string>();
      for (const outcome candidate : {outcome::stored, outcome::duplicate, outcome::conflict,
                                      outcome::not_a_report, outcome::rejected, outcome::skipped}) {
        if (to_string(candidate) == o) d.result = candidate;
      }
      out.push_back(d);
    }
    return out;
  });
}

std::vector<std::uint32_t> pg_store::done_uids(const std::string& source, const std::string& folder,
                                               std::uint32_t uidvalidity,
                                               std::span<const std::uint32_t> uids) {
  std::vector<std::uint32_t> out;
  for (const auto& d : done_messages(source, folder, uidvalidity, uids)) out.push_back(d.uid);
  return out;
}

int pg_store::record_attempt(const message_key& key, const std::string& error_text) {
  return impl_->guarded("record an attempt", [&] {
    pqxx::work tx(impl_->connection(), "attempt");
    pqxx::result r;
    if (key.uid && key.uidvalidity) {
      r = impl_->exec(tx, "attempt_imap", clean_text(key.source), clean_text(key.folder),
                      static_cast<std::int64_t>(*key.uidvalidity),
                      static_cast<std::int64_t>(*key.uid), clean_text(key.sha256),
                      clean_text(error_text));
    } else {
      r = impl_->exec(tx, "attempt_other", clean_text(key.source), clean_text(key.folder),
                      clean_text(key.sha256), clean_text(error_text));
    }
    const int attempts = r.at(0)[0].as<int>();
    tx.commit();
    return attempts;
  });
}

namespace {
std::string mailbox_lock_name(const std::string& source, const std::string& folder) {
  return "tlsrpt-mailbox:" + source + "/" + folder;
}
}  // namespace

bool pg_store::try_lock_mailbox(const std::string& source, const std::string& folder) {
  return impl_->guarded("lock the mailbox", [&] {
    impl_->statement = "pg_try_advisory_lock";
    pqxx::nontransaction tx(impl_->connection(), "lock");
    return tx
        .exec_params1("SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                      clean_text(mailbox_lock_name(source, folder)))[0]
        .as<bool>();
  });
}

void pg_store::unlock_mailbox(const std::string& source, const std::string& folder) noexcept {
  try {
    if (!impl_->conn || !impl_->conn->is_open()) return;  // the lock ended with the session
    pqxx::nontransaction tx(*impl_->conn, "unlock");
    tx.exec_params("SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                   clean_text(mailbox_lock_name(source, folder)));
  } catch (...) {
    // Nothing to do: a broken connection has released the lock already.
  }
}

std::int64_t pg_store::prune(int older_than_days, int batch_size) {
  if (older_than_days < 0 || batch_size <= 0) {
    throw error("store: cannot prune: days must be >= 0 and the batch size > 0", "", false);
  }
  return impl_->guarded("prune old reports", [&] {
    std::int64_t total = 0;
    for (;;) {
      pqxx::work tx(impl_->connection(), "prune");
      const auto r = impl_->exec(tx, "prune", older_than_days, batch_size);
      tx.commit();
      total += static_cast<std::int64_t>(r.affected_rows());
      if (r.affected_rows() < static_cast<std::size_t>(batch_size)) break;
    }
    return total;
  });
}

std::vector<message_key> pg_store::reprocess(const reprocess_options& options) {
  return impl_->guarded("reset rejected messages", [&] {
    array_builder outcomes;
    outcomes.add("rejected");
    if (options.include_skipped) outcomes.add("skipped");
    pqxx::work tx(impl_->connection(), "reprocess");
    std::vector<message_key> out;
    for (const auto& r : impl_->exec(tx, "reprocess", outcomes.str(), clean_opt(options.source))) {
      message_key k;
      k.source = r[0].as<std::string>();
      k.folder = r[1].as<std::string>();
      if (!r[2].is_null()) k.uidvalidity = static_cast<std::uint32_t>(r[2].as<std::int64_t>());
      if (!r[3].is_null()) k.uid = static_cast<std::uint32_t>(r[3].as<std::int64_t>());
      k.sha256 = r[4].as<std::string>();
      out.push_back(std::move(k));
    }
    tx.commit();
    std::sort(out.begin(), out.end(), [](const message_key& a, const message_key& b) {
      return std::tie(a.source, a.folder, a.uidvalidity, a.uid, a.sha256) <
             std::tie(b.source, b.folder, b.uidvalidity, b.uid, b.sha256);
    });
    return out;
  });
}

summary pg_store::query_summary(const summary_options& options) {
  return impl_->guarded("read the summary", [&] {
    std::optional<std::string> domain;
    if (options.domain) {
      std::string d = clean_text(*options.domain);
      std::transform(d.begin(), d.end(), d.begin(), [](unsigned char ch) {
        return static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
      });
      while (!d.empty() && d.back() == '.') d.pop_back();
      domain = d;
    }
    summary s;
    s.days = options.days;
    pqxx::read_transaction tx(impl_->connection(), "summary");
    for (const auto& r : impl_->exec(tx, "summary_domains", options.days, domain)) {
      domain_summary d;
      d.policy_domain = opt_field(r[0]);
      d.reporters = parse_text_array(r[1]);
      d.reports = r[2].as<std::int64_t>();
      d.sessions = r[3].as<std::int64_t>();
      d.successful_sessions = r[4].as<std::int64_t>();
      d.failed_sessions = r[5].as<std::int64_t>();
      d.failure_rate =
          d.sessions > 0 ? static_cast<double>(d.failed_sessions) / static_cast<double>(d.sessions)
                         : 0.0;
      s.domains.push_back(std::move(d));
    }
    for (const auto& r :
         impl_->exec(tx, "summary_failures", options.days, domain, options.top_failures)) {
      failure_summary f;
      f.policy_domain = opt_field(r[0]);
      f.result_type = r[1].as<std::string>();
      f.receiving_mx_hostname = opt_field(r[2]);
      f.receiving_ip = opt_field(r[3]);
      f.failed_sessions = r[4].as<std::int64_t>();
      f.reporters = r[5].as<std::int64_t>();
      s.top_failures.push_back(std::move(f));
    }
    for (const auto& r :
         impl_->exec(tx, "summary_readiness", options.days, options.threshold, domain,
                     options.min_days, options.min_reporters, options.quiet_days)) {
      s.readiness.push_back(detail::readiness_of(r));
    }
    return s;
  });
}

connection_info check_connection(const std::string& url) {
  std::string statement = "connect";
  try {
    pqxx::connection c(url);
    pqxx::read_transaction tx(c, "check");
    statement = "check";
    const auto row = tx.exec1(
        "SELECT current_setting('server_version'), current_database(), current_user,"
        " to_regclass('tlsrpt.schema_migrations') IS NOT NULL,"
        " CASE WHEN to_regclass('tlsrpt.reports') IS NOT NULL"
        "  THEN has_table_privilege('tlsrpt.reports', 'INSERT') ELSE false END");
    connection_info info;
    info.server_version = row[0].as<std::string>();
    info.database = row[1].as<std::string>();
    info.user = row[2].as<std::string>();
    info.can_write = row[4].as<bool>();
    if (row[3].as<bool>()) {
      statement = "read schema_migrations";
      info.schema_version =
          tx.exec1("SELECT coalesce(max(version), 0) FROM tlsrpt.schema_migrations")[0].as<int>();
    }
    try {
      const auto files = load_migrations(find_migrations_dir());
      if (!files.empty()) info.latest_migration = files.back().version;
    } catch (const error&) {
      info.latest_migration = 0;  // not installed: say so via 0, the connection still works
    }
    return info;
  } catch (...) {
    detail::rethrow("check the database connection", statement);
  }
}

}  // namespace tlsrpt::store
