// Finding TLS reports inside one email. No GMime or zlib type appears here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsrpt::mime {

// Facts from the message headers that the store keeps. Raw header values, unfolded.
struct envelope {
  std::optional<std::string> message_id;              // without angle brackets
  std::optional<std::string> from;                    // the address only, lowercased
  std::optional<std::string> date;                    // RFC 3339 UTC if the Date header parses
  std::optional<std::string> subject;                 // decoded (RFC 2047)
  std::optional<std::string> tls_report_domain;       // RFC 8460 §5.3
  std::optional<std::string> tls_report_submitter;    // RFC 8460 §5.3
  std::optional<std::string> dkim_signature;          // raw, for later verification
  std::optional<std::string> authentication_results;  // raw
};

// One report part, decoded and decompressed.
struct found_report {
  std::string json;                     // the decompressed JSON bytes
  std::string content_type;             // as declared, lowercased ("application/tlsrpt+gzip")
  std::optional<std::string> filename;  // from Content-Disposition or Content-Type name=
  std::string transfer_encoding;        // "base64", "quoted-printable", "7bit", ... or "" if none
  std::string compression;              // "gzip" or "none" (or "zip"), from sniffing the bytes
};

enum class outcome { reports_found, not_a_report, broken_report };

struct extraction {
  outcome kind = outcome::not_a_report;
  envelope env;
  std::vector<found_report> reports;  // non-empty exactly when kind == reports_found
  std::string reason;  // one line: why not a report, or the precise cause of a broken one
};

struct limits {
  std::size_t max_message_bytes = 25u * 1024u * 1024u;
  std::size_t max_report_bytes = 20u * 1024u * 1024u;  // decompressed, per report
};

// Extracts the report(s) from one RFC 5322 message (CRLF or LF). Never throws for bad input:
// bad input is a broken_report or not_a_report outcome.
extraction extract(std::string_view message, const limits& lim = {});

// The same for input of unknown kind (a file, stdin): a whole message, bare JSON or gzip.
extraction extract_any(std::string_view bytes, const limits& lim = {});

// Decompresses gzip (multi-member too) up to `max_bytes` of output; throws mime::error.
std::string gunzip(std::string_view gz, std::size_t max_bytes);

}  // namespace tlsrpt::mime
