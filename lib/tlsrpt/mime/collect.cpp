// SPDX-License-Identifier: Apache-2.0
// Which leaf parts are TLS reports (RFC 8460 §5.3, issue 4), shared by both MIME walkers.
#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "tlsrpt/mime/detail.hpp"

namespace tlsrpt::mime::detail {
namespace {

bool ends_with_nocase(std::string_view s, std::string_view suffix) noexcept {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  return std::equal(s.begin(), s.end(), suffix.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
}

// How far a part's declared type commits it to being a report.
enum class claim {
  none,      // not a candidate
  sniffed,   // only its bytes might say so (a report part with an unexpected type)
  generic,   // application/json, application/gzip, ... outside any TLS report context
  declared,  // a tlsrpt type, or a candidate type inside a TLS report: failures are broken
};

bool is_tlsrpt_type(std::string_view t) noexcept {
  return t == "application/tlsrpt+gzip" || t == "application/tlsrpt+json" ||
         t == "application/tlsrpt";
}

bool has_report_name(std::string_view name) noexcept {
  return ends_with_nocase(name, ".json") || ends_with_nocase(name, ".gz") ||
         ends_with_nocase(name, ".zip");
}

bool is_candidate_type(std::string_view t, std::string_view name) noexcept {
  if (is_tlsrpt_type(t) || t == "application/gzip" || t == "application/x-gzip" ||
      t == "application/json" || t == "application/zip" || t == "application/x-zip-compressed") {
    return true;
  }
  return t == "application/octet-stream" && has_report_name(name);
}

}  // namespace

std::string decode_transfer(std::string_view raw, transfer t) {
  if (t == transfer::none) return std::string(raw);
  GMimeEncoding state;
  g_mime_encoding_init_decode(&state, t == transfer::base64 ? GMIME_CONTENT_ENCODING_BASE64
                                      : t == transfer::quoted_printable
                                          ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
                                          : GMIME_CONTENT_ENCODING_UUENCODE);
  std::string out;
  // resize_and_overwrite is C++23; the zero fill of a few KiB is cheap next to inflating.
  out.resize(g_mime_encoding_outlen(&state, raw.size()) + 16);
  const std::size_t n = g_mime_encoding_flush(&state, raw.data(), raw.size(), out.data());
  out.resize(n);
  return out;
}

void report_collector::leaf(const leaf_part& p, bool in_report, bool first_in_report,
                            bool whole_body) {
  if (broken_) return;
  ++leaf_index_;
  claim c = claim::none;
  if (is_candidate_type(p.type, p.filename ? std::string_view(*p.filename) : "")) {
    c = is_tlsrpt_type(p.type) || in_report || whole_body ? claim::declared : claim::generic;
  } else if ((in_report && !first_in_report) || whole_body) {
    // Any later part of a TLS report may be it, whatever its type (the first one is the
    // human-readable text, sometimes rewritten by gateways: never read it).
    c = claim::sniffed;
  }
  if (c == claim::none) return;

  const std::string object =
      p.filename ? "report part \"" + *p.filename + "\""
                 : "report part " + std::to_string(leaf_index_) + " (" + p.type + ")";
  auto reject = [&](std::string cause) {
    if (c == claim::declared) {
      broken_ = std::move(cause);
    } else {
      ignored_.push_back(std::move(cause));
    }
  };

  std::string bytes = p.empty ? std::string() : decode_transfer(p.content, p.decode);
  found_report r;
  r.content_type = p.type;
  r.filename = p.filename;
  r.transfer_encoding = p.transfer_encoding;
  switch (sniff(bytes)) {
    case sniffed::gzip:
      try {
        r.json = inflate_gzip(bytes, lim_.max_report_bytes, object);
      } catch (const error& e) {
        reject(std::string(e.what()).substr(6));  // without "mime: "
        return;
      }
      r.compression = "gzip";
      if (sniff(r.json) != sniffed::json) {
        reject("cannot read " + object + ": the decompressed content is not JSON");
        return;
      }
      break;
    case sniffed::json:
      if (bytes.size() > lim_.max_report_bytes) {
        reject("cannot read " + object + ": " + std::to_string(bytes.size()) +
               " bytes exceed the limit of " + std::to_string(lim_.max_report_bytes) + " bytes");
        return;
      }
      r.json = std::move(bytes);
      r.compression = "none";
      break;
    case sniffed::zip:
      // RFC 8460 §5.3 allows only gzip; no known sender zips TLS reports (DMARC senders do).
      reject("cannot decode " + object + ": zip archives are not supported");
      return;
    case sniffed::other:
      reject("cannot decode " + object +
             (bytes.empty() ? ": the part is empty" : ": the content is neither gzip nor JSON"));
      return;
  }
  // A stray application/json attachment in ordinary mail is not a report.
  if (c == claim::generic && r.json.find("\"policies\"") == std::string::npos) {
    ignored_.push_back(object + " is JSON without \"policies\"");
    return;
  }
  reports_.push_back(std::move(r));
}

void report_collector::finish(extraction& x, const std::string& top_type) {
  if (broken_) {
    // One outcome per message: a half-readable message stays broken so nobody loses a report.
    x.kind = outcome::broken_report;
    x.reason = std::move(*broken_);
  } else if (!reports_.empty()) {
    x.kind = outcome::reports_found;
    x.reports = std::move(reports_);
  } else if (tlsrpt_report_seen_) {
    x.kind = outcome::broken_report;
    x.reason = "cannot find the report part of a multipart/report; report-type=tlsrpt";
    if (!ignored_.empty()) x.reason += ": " + ignored_.front();
  } else {
    x.kind = outcome::not_a_report;
    x.reason = "no TLS report part in a " + top_type + " message";
    if (!ignored_.empty()) x.reason += " (" + ignored_.front() + ")";
  }
}

}  // namespace tlsrpt::mime::detail
