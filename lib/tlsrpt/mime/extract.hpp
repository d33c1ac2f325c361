// SPDX-License-Identifier: Apache-2.0
// Finding TLS reports inside one email. No GMime or zlib type appears here.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/digest/sha256.hpp"

namespace tlsrpt::mime {

// GMime's global state (g_mime_init / g_mime_shutdown). `main` creates one before the first
// extract() and keeps it until the last; guards nest (a reference count), so tests may make
// their own. extract() also works without one: it then initialises GMime once, thread-safely,
// and leaves it initialised until the process ends (convenient for tests and the fuzzer).
class library {
 public:
  library();
  ~library();
  library(const library&) = delete;
  library& operator=(const library&) = delete;
  library(library&&) = delete;
  library& operator=(library&&) = delete;
};

// A report part that cannot be decoded. what() is "mime: cannot <verb> <object>: <cause>",
// e.g. `mime: cannot inflate report part "x.json.gz": invalid stored block lengths (zlib -3)`.
class error : public std::runtime_error {
 public:
  // `action` is "<verb> <object>" ("inflate report part \"x.json.gz\"").
  error(const std::string& action, std::string cause, int zlib_code = 0);
  const std::string& cause() const noexcept { return cause_; }
  int zlib_code() const noexcept { return zlib_code_; }  // 0 when zlib is not the cause

 private:
  std::string cause_;
  int zlib_code_ = 0;
};

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
  std::size_t max_nesting = 8;  // message/rfc822 levels followed into forwarded reports
};

// Extracts the report(s) from one RFC 5322 message (CRLF or LF). Never throws for bad input:
// bad input is a broken_report or not_a_report outcome.
extraction extract(std::string_view message, const limits& lim = {});

// The same for input of unknown kind (a file, stdin): a whole message, bare JSON or gzip.
extraction extract_any(std::string_view bytes, const limits& lim = {});

// Decompresses gzip (multi-member too) up to `max_bytes` of output; throws mime::error.
// Streams: never allocates more than max_bytes + 1 bytes of output, whatever the input claims.
std::string gunzip(std::string_view gz, std::size_t max_bytes);

// Lowercase hex SHA-256 of some bytes (message and report digests for the store).
using digest::sha256_hex;

}  // namespace tlsrpt::mime
