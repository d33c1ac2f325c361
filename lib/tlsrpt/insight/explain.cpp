// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/insight/explain.hpp"

#include <array>
#include <utility>

namespace tlsrpt::insight {

namespace {

struct entry {
  std::string_view token;
  explanation text;
};

// RFC 8460 §4.3 defines the types; the advice is what usually causes each in practice.
constexpr std::array<entry, 11> table{{
    {"starttls-not-supported",
     {"The receiving MX did not offer STARTTLS, so the mail went unencrypted or not at all.",
      "Enable STARTTLS on every MX host and make sure no firewall or proxy strips it."}},
    {"certificate-host-mismatch",
     {"The MX host's certificate does not name the host the sender connected to.",
      "The certificate must cover each MX host name (subjectAltName), not only the domain; "
      "check every MX, including backups."}},
    {"certificate-expired",
     {"The MX host presented an expired certificate.",
      "Renew it and make sure the mail server reloads renewed certificates automatically."}},
    {"certificate-not-trusted",
     {"The MX host's certificate chain does not lead to a CA the sender trusts.",
      "Use a certificate from a public CA and serve the full chain (intermediates included); "
      "self-signed certificates fail here."}},
    {"validation-failure",
     {"The TLS session or certificate failed validation for another reason.",
      "Test the MX with a TLS checker: protocol versions, ciphers, chain order and "
      "certificate key usage."}},
    {"tlsa-invalid",
     {"The DANE TLSA record did not match the certificate the MX presented.",
      "Publish TLSA records for the new key before rotating certificates, and remove stale "
      "ones only afterwards."}},
    {"dnssec-invalid",
     {"DNSSEC validation failed for the records the sender needed.",
      "Check the DS record at the parent zone, signature expiry and the zone's key rollover."}},
    {"dane-required",
     {"The sender requires DANE but found no usable TLSA record.",
      "Publish valid TLSA records for each MX host (in a DNSSEC-signed zone)."}},
    {"sts-policy-fetch-error",
     {"The sender could not fetch the MTA-STS policy.",
      "Check that https://mta-sts.<domain>/.well-known/mta-sts.txt answers 200 with a valid "
      "certificate, and that the _mta-sts TXT record matches."}},
    {"sts-policy-invalid",
     {"The MTA-STS policy was fetched but could not be used.",
      "Check the policy's syntax: version: STSv1, mode, max_age and one mx: line per MX "
      "pattern, with CRLF or LF line ends."}},
    {"sts-webpki-invalid",
     {"The certificate of the MTA-STS policy web server failed validation.",
      "The mta-sts.<domain> web server needs a publicly trusted certificate for that name."}},
}};

}  // namespace

explanation explain(std::string_view result_type) noexcept {
  for (const auto& e : table)
    if (e.token == result_type) return e.text;
  return {"A result type that is not in the IANA registry; it is kept as the sender wrote it.",
          "Look at the failure-reason-code and additional-information of the raw report."};
}

}  // namespace tlsrpt::insight
