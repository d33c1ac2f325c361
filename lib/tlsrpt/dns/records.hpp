// SPDX-License-Identifier: Apache-2.0
// Record data as the resolver hands it over (wire format), decoded. Pure functions: tested
// without a server. Every decoder is bounded by the RDATA it is given and throws
// std::invalid_argument for RDATA that does not fit its type (a server's fault, not ours).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tlsrpt::dns {

// RFC 1035 §3.3.14: one or more <character-string>s. RFC 7208 §3.3 / RFC 6376 §3.6.2.2 /
// RFC 8460 §3: a record split into several strings is read as their concatenation.
std::vector<std::string> txt_strings(std::string_view rdata);
std::string txt_joined(std::string_view rdata);

// RFC 1035 §3.1: an uncompressed wire-format name at `pos` (advanced past it), as
// "label.label" without the final dot, lowercased; "" is the root.
std::string wire_name(std::string_view rdata, std::size_t& pos);

struct mx_record {
  std::uint16_t preference = 0;
  std::string host;  // lowercased, no final dot; "" for a null MX (RFC 7505)
};
mx_record decode_mx(std::string_view rdata);

// RFC 6698 §2.1.
struct tlsa_record {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::string data;  // the certificate association data, binary
};
tlsa_record decode_tlsa(std::string_view rdata);

// A or AAAA RDATA as text ("192.0.2.1", "2001:db8::1").
std::string decode_address(std::string_view rdata);

}  // namespace tlsrpt::dns
