// SPDX-License-Identifier: Apache-2.0
// DKIM verification of report mail (RFC 8460 §3: reports sent by mail are DKIM-signed, so that
// a report can be told from a forgery mailed to a published rua address). libopendkim checks
// the signatures; the keys come through dns::resolver, not libopendkim's own resolver. No
// libopendkim type appears here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/dns/resolver.hpp"

namespace tlsrpt::dns {

// The ledger's words (tlsrpt.messages.dkim_result), RFC 8601 §2.7.1 results:
//   pass       a valid signature whose key allows the tlsrpt service, from a domain aligned
//              with the report's submitter;
//   fail       signatures, none of them such (broken, altered, or from another domain);
//   none       no signature at all;
//   temperror  a key could not be fetched now (DNS timeout, SERVFAIL, bogus): try again later;
//   permerror  a signature that can never verify (no key, a malformed key or signature, a key
//              not for the tlsrpt service).
// With several signatures the best one decides: pass, then temperror (a retry may pass), then
// fail, then permerror.
enum class dkim_result { pass, fail, none, temperror, permerror };
std::string_view to_string(dkim_result r) noexcept;

struct dkim_signature {
  std::string domain;    // d=
  std::string selector;  // s=
  dkim_result result = dkim_result::permerror;
  bool aligned = false;           // d= is the submitter's domain, a parent or a subdomain of it
  bool key_allows_tlsrpt = true;  // the key record's s= names tlsrpt or * (or is absent)
  std::string detail;             // why it did not pass
};

struct dkim_verdict {
  dkim_result result = dkim_result::none;
  std::optional<std::string> domain;  // d= of the deciding signature
  std::vector<dkim_signature> signatures;
  std::string detail;  // one line for the log and the ledger
};

struct dkim_options {
  std::size_t max_signatures = 8;  // more are not evaluated (each costs a DNS query)
};

class dkim_verifier {
 public:
  // The resolver is borrowed and must outlive the verifier. Throws std::runtime_error when
  // libopendkim cannot be initialised.
  explicit dkim_verifier(resolver& dns, dkim_options opts = {});
  ~dkim_verifier();
  dkim_verifier(dkim_verifier&&) noexcept;
  dkim_verifier& operator=(dkim_verifier&&) = delete;
  dkim_verifier(const dkim_verifier&) = delete;
  dkim_verifier& operator=(const dkim_verifier&) = delete;

  // Verifies every DKIM-Signature of `message` (raw RFC 5322, LF or CRLF line ends) against
  // the report's submitter (TLS-Report-Submitter, else the From domain). Never throws for
  // what a sender controls; a DNS failure is a temperror.
  dkim_verdict verify(std::string_view message, std::optional<std::string_view> submitter);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Relaxed alignment (RFC 7489 §3.1.1 in spirit, without a public suffix list): equal names, or
// one a subdomain of the other. Case-insensitive.
bool domains_aligned(std::string_view signing_domain, std::string_view submitter) noexcept;

// RFC 6376 §3.6.1 s=: a colon-separated list of service types; absent means "*".
// Whether it names tlsrpt (RFC 8460 §7.2 registers it) or "*".
bool service_allows_tlsrpt(std::string_view key_record) noexcept;

}  // namespace tlsrpt::dns
