// SPDX-License-Identifier: Apache-2.0
// The one DNS layer of the project (issue 21): a DNSSEC-validating stub resolver on libunbound.
// DKIM key lookups and check-domain go through it; nothing else in the tree resolves names by
// hand. No libunbound type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tlsrpt::dns {

// RFC 4035 §4.3: what validation says about an answer. `insecure` is an answer from a zone
// without a chain of trust (most of the Internet); `bogus` one whose chain is broken, which a
// caller must treat as no answer.
enum class security { secure, insecure, bogus };
std::string_view to_string(security s) noexcept;

// The record types the project asks for (IANA "Resource Record (RR) TYPEs").
enum class rr_type : std::uint16_t {
  a = 1,
  cname = 5,
  mx = 15,
  txt = 16,
  aaaa = 28,
  ds = 43,
  dnskey = 48,
  tlsa = 52,
};
std::string_view to_string(rr_type t) noexcept;

struct options {
  // Recursive resolvers to ask, as "host:port", "[v6]:port" or "host" (port 53). Empty: the
  // system's (/etc/resolv.conf).
  std::vector<std::string> servers;
  // A file of DS or DNSKEY records (zone file syntax) to validate from. nullopt: the system's
  // root trust anchor (system_trust_anchor()); "" turns validation off (every answer insecure).
  std::optional<std::string> trust_anchor;
  // One query, all retries and servers included.
  std::chrono::milliseconds timeout = std::chrono::seconds(5);
};

// The root anchor Debian ships (dns-root-data, else unbound-anchor's copy); "" when none.
std::string system_trust_anchor();

// "host:port" -> libunbound's "host@port". Throws std::invalid_argument for a bad address.
std::string forwarder_address(std::string_view host_port);

struct answer {
  std::string name;
  rr_type type = rr_type::a;
  int rcode = 0;  // RFC 1035 §4.1.1: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN
  bool nxdomain = false;
  security sec = security::insecure;
  std::string why_bogus;           // libunbound's reason, when bogus
  std::vector<std::string> rdata;  // the wire-format RDATA of each record of the answer

  // Data that can be used: an answer (possibly empty) that is not bogus and not a failure.
  bool usable() const noexcept { return sec != security::bogus && (rcode == 0 || nxdomain); }
};

// The resolver itself failed, or the query timed out: "dns: cannot resolve NAME TYPE: cause".
// transient() for timeouts and network trouble, false for a bad name or configuration.
class error : public std::runtime_error {
 public:
  error(const std::string& what, bool transient)
      : std::runtime_error(what), transient_(transient) {}
  bool transient() const noexcept { return transient_; }

 private:
  bool transient_;
};

class resolver {
 public:
  // Throws error (not transient) when libunbound rejects the options (an unreadable trust
  // anchor, a bad server address).
  explicit resolver(const options& opts = {});
  ~resolver();
  resolver(resolver&&) noexcept;
  resolver& operator=(resolver&&) noexcept;
  resolver(const resolver&) = delete;
  resolver& operator=(const resolver&) = delete;

  // One query, bounded by options::timeout. A SERVFAIL, NXDOMAIN or bogus answer is returned
  // as such; only a timeout or a resolver failure throws. Not thread-safe: one resolver per
  // thread.
  answer query(std::string_view name, rr_type type);

  // Whether answers are validated at all (a trust anchor was loaded).
  bool validating() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// A name that may be sent to the resolver: LDH labels (plus '_' for service labels such as
// _domainkey and _smtp._tls), 1-63 octets each, at most 253 in all, an optional final dot.
bool valid_query_name(std::string_view name) noexcept;

}  // namespace tlsrpt::dns
