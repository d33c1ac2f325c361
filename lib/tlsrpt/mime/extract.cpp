// SPDX-License-Identifier: Apache-2.0
// Finding TLS reports in one message with GMime (RFC 8460 §5.3), and the envelope facts.
#include "tlsrpt/mime/extract.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include "tlsrpt/mime/detail.hpp"

namespace tlsrpt::mime {
namespace {

// ---- owners of GLib/GMime handles -------------------------------------------------------------

struct gobject_unref {
  void operator()(void* p) const noexcept { g_object_unref(p); }
};
template <typename T>
using gobject_ptr = std::unique_ptr<T, gobject_unref>;

struct g_free_deleter {
  void operator()(char* p) const noexcept { g_free(p); }
};
using gchars = std::unique_ptr<char, g_free_deleter>;

// Frees a GByteArray's header but never its data: the data is the caller's message.
struct byte_array_release {
  void operator()(GByteArray* a) const noexcept { g_byte_array_free(a, FALSE); }
};
using borrowed_bytes = std::unique_ptr<GByteArray, byte_array_release>;

// GLib's type-check macros expand to C casts; these keep -Wold-style-cast quiet.
template <typename T>
T* as(void* p, GType type) noexcept {
  return p != nullptr && G_TYPE_CHECK_INSTANCE_TYPE(p, type) ? static_cast<T*>(p) : nullptr;
}

// ---- small text helpers -----------------------------------------------------------------------

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// ---- the top-level header block ------------------------------------------------------------
//
// Why not g_mime_parser_construct_message(): GMime turns every header into a GObject with a
// signal connection, and report mail carries 20 to 60 trace headers (Received, ARC, X-*) that
// we never read. Building and freeing those took about 70% of the time of an extraction. So we
// split the top-level header block ourselves (RFC 5322 §2.2: fields, folded by leading
// whitespace), decode the few fields we keep with GMime's own decoders, and give GMime's parser
// only the MIME fields and the body.

struct top_header {
  std::string_view message_id, from, date, subject, report_domain, report_submitter, dkim,
      auth_results, content_type, transfer_encoding;
  bool any = false;  // at least one well-formed field
};

bool is_field_name_char(char c) noexcept { return c > 32 && c < 127 && c != ':'; }

bool equals_nocase(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Splits `message` into its header fields and returns where the body starts.
std::size_t split_header(std::string_view message, top_header& h) {
  std::size_t pos = 0;
  if (message.starts_with("From ")) {  // an mbox separator line
    pos = message.find('\n');
    pos = pos == std::string_view::npos ? message.size() : pos + 1;
  }
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    if (eol == std::string_view::npos) eol = message.size();
    std::string_view line = message.substr(pos, eol - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) return std::min(message.size(), eol + 1);  // the blank line
    // A field runs on over continuation lines that start with whitespace.
    std::size_t end = eol;
    while (end + 1 < message.size() && (message[end + 1] == ' ' || message[end + 1] == '\t')) {
      const std::size_t next = message.find('\n', end + 1);
      end = next == std::string_view::npos ? message.size() : next;
    }
    const std::string_view field = message.substr(pos, end - pos);
    pos = std::min(message.size(), end + 1);
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        !std::all_of(field.begin(), field.begin() + static_cast<std::ptrdiff_t>(colon),
                     is_field_name_char)) {
      if (!h.any) return 0;  // not a header at all
      continue;              // a stray line inside the header: skip it, as GMime does
    }
    h.any = true;
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = field.substr(colon + 1);
    // The first occurrence wins: the topmost Authentication-Results is our own receiver's.
    auto keep = [&](std::string_view& slot, std::string_view n) {
      if (slot.data() == nullptr && equals_nocase(name, n)) slot = value;
    };
    keep(h.message_id, "Message-ID");
    keep(h.from, "From");
    keep(h.date, "Date");
    keep(h.subject, "Subject");
    keep(h.report_domain, "TLS-Report-Domain");
    keep(h.report_submitter, "TLS-Report-Submitter");
    keep(h.dkim, "DKIM-Signature");
    keep(h.auth_results, "Authentication-Results");
    keep(h.content_type, "Content-Type");
    keep(h.transfer_encoding, "Content-Transfer-Encoding");
  }
  return message.size();  // only headers
}

// RFC 5322 §2.2.3 unfolding: drop CR and LF, keep the whitespace that follows them; trimmed.
std::optional<std::string> unfolded(std::string_view raw) {
  if (raw.data() == nullptr) return std::nullopt;
  std::string out;
  out.reserve(raw.size());
  // Whole runs between line breaks: DKIM-Signature and ARC values run to a few hundred bytes.
  std::size_t run = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' || raw[i] == '\n') {
      out.append(raw.data() + run, i - run);
      run = i + 1;
    }
  }
  out.append(raw.data() + run, raw.size() - run);
  const auto t = trim(out);
  if (t.empty()) return std::nullopt;
  return std::string(t);
}

std::optional<std::string> non_empty(const char* value) {
  if (value == nullptr) return std::nullopt;
  const auto t = trim(value);
  if (t.empty()) return std::nullopt;
  return std::string(t);
}

std::optional<std::string> first_address(InternetAddressList* list) {
  for (int depth = 0; list != nullptr && depth < 4; ++depth) {
    if (internet_address_list_length(list) <= 0) return std::nullopt;
    InternetAddress* a = internet_address_list_get_address(list, 0);
    if (auto* mb = as<InternetAddressMailbox>(a, internet_address_mailbox_get_type())) {
      const char* addr = internet_address_mailbox_get_addr(mb);
      if (addr == nullptr || *addr == '\0') return std::nullopt;
      return lower(addr);
    }
    auto* group = as<InternetAddressGroup>(a, internet_address_group_get_type());
    list = group != nullptr ? internet_address_group_get_members(group) : nullptr;
  }
  return std::nullopt;
}

struct date_time_unref {
  void operator()(GDateTime* d) const noexcept { g_date_time_unref(d); }
};

// GMime reads every RFC 5322 (and obsolete) date form; a Date it cannot read is absent.
std::optional<std::string> utc_date(const std::string& value) {
  const std::unique_ptr<GDateTime, date_time_unref> when(
      g_mime_utils_header_decode_date(value.c_str()));
  if (!when) return std::nullopt;
  const auto seconds = static_cast<std::time_t>(g_date_time_to_unix(when.get()));
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return std::nullopt;
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (n == 0) return std::nullopt;
  return std::string(buf, n);
}

envelope read_envelope(const top_header& h) {
  envelope env;
  if (auto id = unfolded(h.message_id)) {
    const gchars decoded(g_mime_utils_decode_message_id(id->c_str()));
    env.message_id = decoded ? non_empty(decoded.get()) : std::nullopt;
  }
  if (auto from = unfolded(h.from)) {
    const gobject_ptr<InternetAddressList> list(
        internet_address_list_parse(nullptr, from->c_str()));
    env.from = first_address(list.get());
  }
  if (auto date = unfolded(h.date)) env.date = utc_date(*date);
  if (auto subject = unfolded(h.subject)) {
    const gchars decoded(g_mime_utils_header_decode_text(nullptr, subject->c_str()));
    env.subject = decoded ? non_empty(decoded.get()) : std::nullopt;
  }
  env.tls_report_domain = unfolded(h.report_domain);
  env.tls_report_submitter = unfolded(h.report_submitter);
  env.dkim_signature = unfolded(h.dkim);
  env.authentication_results = unfolded(h.auth_results);
  return env;
}

// A forwarded report's own TLS-Report-* headers fill the gaps of the outer envelope.
void read_report_headers(GMimeObject* obj, envelope& env) {
  if (!env.tls_report_domain) {
    env.tls_report_domain = non_empty(g_mime_object_get_header(obj, "TLS-Report-Domain"));
  }
  if (!env.tls_report_submitter) {
    env.tls_report_submitter = non_empty(g_mime_object_get_header(obj, "TLS-Report-Submitter"));
  }
}

// ---- GMime's walker (the fallback for what the fast walker does not understand) ---------------

std::string read_all(GMimeStream* s) {
  std::string raw;
  if (s == nullptr) return raw;
  g_mime_stream_reset(s);
  const gint64 len = g_mime_stream_length(s);
  if (len > 0) raw.reserve(static_cast<std::size_t>(len));
  char buf[16384];
  for (;;) {
    const gssize n = g_mime_stream_read(s, buf, sizeof buf);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  return raw;
}

detail::transfer transfer_of(GMimeContentEncoding enc) noexcept {
  switch (enc) {
    case GMIME_CONTENT_ENCODING_BASE64:
      return detail::transfer::base64;
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
      return detail::transfer::quoted_printable;
    case GMIME_CONTENT_ENCODING_UUENCODE:
      return detail::transfer::uuencode;
    default:
      return detail::transfer::none;
  }
}

std::string transfer_encoding_name(GMimePart* part) {
  const GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
  if (enc == GMIME_CONTENT_ENCODING_DEFAULT) return "";
  const char* name = g_mime_content_encoding_to_string(enc);
  return name != nullptr ? lower(name) : "";
}

struct gmime_walker {
  const limits& lim;
  envelope& env;
  detail::report_collector& out;

  void walk(GMimeObject* obj, std::size_t nesting, std::size_t depth, bool in_report,
            bool first_in_report, bool whole_body) {
    if (obj == nullptr || out.stopped()) return;
    // nesting_exceeds() bounded GMime's recursion already; this bounds our own.
    if (depth > detail::max_mime_depth) {
      out.ignore("MIME structure nested too deeply");
      return;
    }
    if (auto* mp = as<GMimeMultipart>(obj, g_mime_multipart_get_type())) {
      GMimeContentType* ct = g_mime_object_get_content_type(obj);
      const char* rt =
          ct != nullptr ? g_mime_content_type_get_parameter(ct, "report-type") : nullptr;
      // RFC 8460 §5.3: multipart/report with report-type "tlsrpt", quoted or not (GMime
      // unquotes parameters and finds them in any order).
      const bool report = ct != nullptr && g_mime_content_type_is_type(ct, "multipart", "report") &&
                          rt != nullptr && lower(trim(rt)) == "tlsrpt";
      out.multipart_seen(report);
      const int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n; ++i) {
        walk(g_mime_multipart_get_part(mp, i), nesting, depth + 1, report || in_report,
             report && i == 0, false);
      }
      return;
    }
    if (auto* mp = as<GMimeMessagePart>(obj, g_mime_message_part_get_type())) {
      GMimeMessage* inner = g_mime_message_part_get_message(mp);
      if (inner == nullptr) return;
      if (nesting >= lim.max_nesting) {
        out.ignore("forwarded messages nested deeper than " + std::to_string(lim.max_nesting) +
                   " levels");
        return;
      }
      // A forwarded report (message/rfc822): its own TLS-Report-* headers fill the gaps.
      read_report_headers(reinterpret_cast<GMimeObject*>(inner), env);
      GMimeObject* body = g_mime_message_get_mime_part(inner);
      const bool inner_whole = g_mime_object_get_header(reinterpret_cast<GMimeObject*>(inner),
                                                        "TLS-Report-Domain") != nullptr;
      walk(body, nesting + 1, depth + 1, false, false, inner_whole);
      return;
    }
    if (auto* part = as<GMimePart>(obj, g_mime_part_get_type()))
      leaf(part, in_report, first_in_report, whole_body);
  }

  void leaf(GMimePart* part, bool in_report, bool first_in_report, bool whole_body) {
    auto* obj = reinterpret_cast<GMimeObject*>(part);
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    const gchars mime_type(ct != nullptr ? g_mime_content_type_get_mime_type(ct) : nullptr);
    detail::leaf_part p;
    p.type = mime_type ? lower(mime_type.get()) : "text/plain";
    p.filename = non_empty(g_mime_part_get_filename(part));
    p.transfer_encoding = transfer_encoding_name(part);
    // The raw content is read only when the collector wants it: copied out of GMime's stream.
    std::string raw;
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    GMimeStream* s = content != nullptr ? g_mime_data_wrapper_get_stream(content) : nullptr;
    if (s == nullptr) {
      p.empty = true;
    } else {
      raw = read_all(s);
      p.content = raw;
      p.decode = transfer_of(g_mime_data_wrapper_get_encoding(content));
    }
    out.leaf(p, in_report, first_in_report, whole_body);
  }
};

std::string describe_top(GMimeObject* obj) {
  GMimeContentType* ct = obj != nullptr ? g_mime_object_get_content_type(obj) : nullptr;
  const gchars t(ct != nullptr ? g_mime_content_type_get_mime_type(ct) : nullptr);
  return t ? lower(t.get()) : "text/plain";
}

std::string human_size(std::size_t n) { return std::to_string(n) + " bytes"; }

// GMime's parser over the MIME fields and the body: builds the whole tree of GObjects.
void gmime_extract(std::string_view content_type, std::string_view transfer_encoding,
                   std::string_view body, const limits& lim, extraction& x,
                   detail::report_collector& c) {
  // GMime parses the MIME structure from the two fields that shape it and the body.
  std::string input;
  input.reserve(content_type.size() + transfer_encoding.size() + body.size() + 48);
  if (content_type.data() != nullptr) input.append("Content-Type:").append(content_type) += '\n';
  if (transfer_encoding.data() != nullptr) {
    input.append("Content-Transfer-Encoding:").append(transfer_encoding) += '\n';
  }
  input += '\n';
  input.append(body);
  // The GByteArray only borrows `input` (freed with free_segment = FALSE) and the stream does
  // not own the array. With a seekable stream GMime's parser keeps part contents as substreams
  // of it, not copies.
  const borrowed_bytes array(
      g_byte_array_new_take(reinterpret_cast<guint8*>(input.data()), input.size()));
  const gobject_ptr<GMimeStream> stream(g_mime_stream_mem_new_with_byte_array(array.get()));
  g_mime_stream_mem_set_owner(reinterpret_cast<GMimeStreamMem*>(stream.get()), FALSE);
  const gobject_ptr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  const gobject_ptr<GMimeObject> top(g_mime_parser_construct_part(parser.get(), nullptr));
  if (!top) {
    x.reason = "not a message: GMime cannot parse its MIME structure";
    return;
  }
  gmime_walker w{lim, x.env, c};
  w.walk(top.get(), 0, 0, false, false, c.whole_body());
  c.finish(x, describe_top(top.get()));
}

}  // namespace

namespace detail {

std::optional<extraction> extract_with(std::string_view message, const limits& lim,
                                       walker_choice choice) {
  extraction x;
  if (message.size() > lim.max_message_bytes) {
    x.kind = outcome::broken_report;
    x.reason = "cannot read message: " + human_size(message.size()) + " exceed the limit of " +
               human_size(lim.max_message_bytes);
    return x;
  }
  if (trim(message).empty()) {
    x.reason = "the message is empty";
    return x;
  }
  if (message.size() > G_MAXUINT) {  // GByteArray lengths are guint
    x.kind = outcome::broken_report;
    x.reason = "cannot read message: " + human_size(message.size()) + " is too large for GMime";
    return x;
  }
  ensure_initialised();

  top_header h;
  const std::size_t body_at = split_header(message, h);
  if (!h.any) {
    x.reason = "not a message: no RFC 5322 header found";
    return x;
  }
  x.env = read_envelope(h);
  const std::string_view body = message.substr(body_at);
  // A message whose whole body is the report carries the RFC 8460 §5.3 header.
  const bool whole_body = x.env.tls_report_domain.has_value();

  if (choice != walker_choice::gmime_only) {
    report_collector c(lim, whole_body);
    std::string top_type;
    if (fast_walk(h.content_type, h.transfer_encoding, body, c, top_type)) {
      c.finish(x, top_type);
      return x;
    }
    if (choice == walker_choice::fast_only) return std::nullopt;
  }
  // GMime's parser recurses once per multipart or message level: bound that before it runs.
  if (nesting_exceeds(message, max_mime_depth)) {
    x.kind = outcome::broken_report;
    x.reason = "cannot parse message: MIME parts nested deeper than " +
               std::to_string(max_mime_depth) + " levels";
    return x;
  }
  report_collector c(lim, whole_body);
  gmime_extract(h.content_type, h.transfer_encoding, body, lim, x, c);
  return x;
}

}  // namespace detail

extraction extract(std::string_view message, const limits& lim) {
  return *detail::extract_with(message, lim, detail::walker_choice::fast_or_gmime);
}

extraction extract_any(std::string_view bytes, const limits& lim) {
  const detail::sniffed kind = detail::sniff(bytes);
  if (kind == detail::sniffed::other) return extract(bytes, lim);

  extraction x;
  found_report r;
  try {
    if (kind == detail::sniffed::zip) {
      throw error("decode the input", "zip archives are not supported");
    }
    if (bytes.size() > std::max(lim.max_message_bytes, lim.max_report_bytes)) {
      throw error("read the input", human_size(bytes.size()) + " exceed the limit");
    }
    if (kind == detail::sniffed::gzip) {
      r.json = detail::inflate_gzip(bytes, lim.max_report_bytes, "the input");
      r.compression = "gzip";
      if (detail::sniff(r.json) != detail::sniffed::json) {
        throw error("read the input", "the decompressed content is not JSON");
      }
    } else {
      if (bytes.size() > lim.max_report_bytes) {
        throw error("read the input", human_size(bytes.size()) + " exceed the limit of " +
                                          human_size(lim.max_report_bytes));
      }
      r.json.assign(bytes);
      r.compression = "none";
    }
  } catch (const error& e) {
    x.kind = outcome::broken_report;
    x.reason = std::string(e.what()).substr(6);
    return x;
  }
  x.kind = outcome::reports_found;
  x.reports.push_back(std::move(r));
  return x;
}

}  // namespace tlsrpt::mime
