// SPDX-License-Identifier: Apache-2.0
// A deterministic generator of TLS report mails for the benchmarks and the end-to-end tests.
// It uses zlib and the standard library only (no project module), so the corpus and the
// floors can be measured before, and independently of, the pipeline they are compared with.
//
// Mail `i` of seed `s` depends on (s, i) alone: the first 1,000 mails of a 100,000-mail corpus
// are the 1,000-mail corpus, and any mail can be regenerated on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tlsrpt::bench {

// The sender shapes, modelled on the real samples in ../shared/corpus (see SOURCES.tsv).
enum class mail_kind {
  google,        // multipart/report, tlsrpt+gzip base64, name= and filename=, mx-host array
  microsoft,     // text/html QP first part, filename only in Content-Disposition, tlsa quirk
  mailru,        // CRLF, final boundary never closed, no policy-string, sts-policy-fetch-error
  postfix,       // no-policy-found without policy-domain
  plain_json,    // application/tlsrpt+json, pretty-printed, 7bit
  octet_stream,  // multipart/mixed, application/octet-stream; name="....json.gz"
  not_a_report,  // cron mail, a bounce (multipart/report; report-type=delivery-status), a
                 // newsletter
  broken         // a Google-shaped mail whose gzip is cut in half
};
std::string_view to_string(mail_kind k) noexcept;

struct gen_options {
  std::uint64_t seed = 1;
  double not_a_report_fraction = 0.03;
  double broken_fraction = 0.0;
  // Reports cover the 30 days before this instant (UTC midnight, seconds since the epoch).
  // Fixed, so the bytes do not depend on when the generator runs: 2026-11-01T00:00:00Z.
  std::int64_t base_time = 1'793'491'200;
};

struct generated_mail {
  std::string bytes;  // the RFC 5322 message (LF line ends, CRLF for the mail.ru shape)
  mail_kind kind = mail_kind::google;
  std::string report_id;  // empty when there is no (readable) report
  std::string json;       // the report JSON carried (also for `broken`); empty for not_a_report
  std::int64_t policies = 0;
  std::int64_t successful_sessions = 0;
  std::int64_t failed_sessions = 0;
  std::int64_t failure_details = 0;
};

// Mail number `index` of the corpus described by `opt`.
generated_mail generate(const gen_options& opt, std::size_t index);

// What a correct collector must end up with after reading a corpus.
struct totals {
  std::int64_t messages = 0;
  std::int64_t reports = 0;
  std::int64_t policies = 0;
  std::int64_t successful_sessions = 0;
  std::int64_t failed_sessions = 0;
  std::int64_t failure_details = 0;
  std::int64_t not_a_report = 0;
  std::int64_t broken = 0;
  std::int64_t bytes = 0;

  void add(const generated_mail& m);
  std::string to_json() const;  // one line, keys as the member names
};

// Helpers shared with the floor programs (plain, allocation-light implementations).
std::string gzip_compress(std::string_view data);
std::string base64_encode(std::string_view data, std::size_t line_length, std::string_view eol);

}  // namespace tlsrpt::bench
