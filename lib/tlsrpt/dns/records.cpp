// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dns/records.hpp"

#include <arpa/inet.h>

#include <stdexcept>

namespace tlsrpt::dns {

namespace {

std::uint8_t byte_at(std::string_view d, std::size_t i) {
  if (i >= d.size()) throw std::invalid_argument("record data ends early");
  return static_cast<std::uint8_t>(d[i]);
}

}  // namespace

std::vector<std::string> txt_strings(std::string_view rdata) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < rdata.size()) {
    const std::size_t n = byte_at(rdata, i);
    if (i + 1 + n > rdata.size()) throw std::invalid_argument("TXT string runs past the record");
    out.emplace_back(rdata.substr(i + 1, n));
    i += 1 + n;
  }
  return out;
}

std::string txt_joined(std::string_view rdata) {
  std::string s;
  for (const auto& part : txt_strings(rdata)) s += part;
  return s;
}

std::string wire_name(std::string_view rdata, std::size_t& pos) {
  std::string name;
  for (;;) {
    const std::size_t n = byte_at(rdata, pos);
    // libunbound hands RDATA over uncompressed; a pointer here is a broken record.
    if ((n & 0xC0u) != 0) throw std::invalid_argument("compressed or extended label in RDATA");
    ++pos;
    if (n == 0) break;
    if (pos + n > rdata.size()) throw std::invalid_argument("label runs past the record");
    if (!name.empty()) name += '.';
    for (const char c : rdata.substr(pos, n)) {
      name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    pos += n;
    if (name.size() > 253) throw std::invalid_argument("name longer than 253 octets");
  }
  return name;
}

mx_record decode_mx(std::string_view rdata) {
  mx_record mx;
  mx.preference = static_cast<std::uint16_t>((byte_at(rdata, 0) << 8) | byte_at(rdata, 1));
  std::size_t pos = 2;
  mx.host = wire_name(rdata, pos);
  if (pos != rdata.size()) throw std::invalid_argument("MX record has trailing bytes");
  return mx;
}

tlsa_record decode_tlsa(std::string_view rdata) {
  if (rdata.size() < 3) throw std::invalid_argument("TLSA record shorter than 3 octets");
  tlsa_record t;
  t.usage = byte_at(rdata, 0);
  t.selector = byte_at(rdata, 1);
  t.matching_type = byte_at(rdata, 2);
  t.data = std::string(rdata.substr(3));
  return t;
}

std::string decode_address(std::string_view rdata) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (rdata.size() == 4 || rdata.size() == 16) {
    const int af = rdata.size() == 4 ? AF_INET : AF_INET6;
    if (inet_ntop(af, rdata.data(), buf, sizeof buf) != nullptr) return buf;
  }
  throw std::invalid_argument("address record of " + std::to_string(rdata.size()) + " octets");
}

}  // namespace tlsrpt::dns
