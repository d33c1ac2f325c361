// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dns/records.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace tlsrpt::dns;
using namespace std::string_literals;

TEST_CASE("TXT character-strings are split and joined without separators") {
  const std::string rdata = "\x05v=DKI\x02M1"s;
  CHECK(txt_strings(rdata) == std::vector<std::string>{"v=DKI", "M1"});
  CHECK(txt_joined(rdata) == "v=DKIM1");
  CHECK(txt_joined(""s).empty());
  CHECK_THROWS_AS(txt_strings("\x09short"s), std::invalid_argument);
}

TEST_CASE("an MX record decodes to its preference and lowercased host") {
  const std::string rdata =
      "\x00\x0a\x02MX\x07"
      "example\x03org\x00"s;
  const auto mx = decode_mx(rdata);
  CHECK(mx.preference == 10);
  CHECK(mx.host == "mx.example.org");
  CHECK(decode_mx("\x00\x00\x00"s).host.empty());  // RFC 7505 null MX
  CHECK_THROWS_AS(decode_mx("\x00\x0a\x05mx"s), std::invalid_argument);
  CHECK_THROWS_AS(decode_mx("\x00\x0a\xc0\x0c"s), std::invalid_argument);
  CHECK_THROWS_AS(decode_mx("\x00\x0a\x00junk"s), std::invalid_argument);
}

TEST_CASE("a TLSA record decodes to usage, selector, matching type and data") {
  const auto t = decode_tlsa("\x03\x01\x01\xab\xcd"s);
  CHECK(t.usage == 3);
  CHECK(t.selector == 1);
  CHECK(t.matching_type == 1);
  CHECK(t.data == "\xab\xcd"s);
  CHECK_THROWS_AS(decode_tlsa("\x03\x01"s), std::invalid_argument);
}

TEST_CASE("addresses decode from 4 or 16 octets only") {
  CHECK(decode_address("\xc0\x00\x02\x01"s) == "192.0.2.1");
  CHECK(decode_address("\x20\x01\x0d\xb8" + std::string(11, '\0') + "\x01"s) == "2001:db8::1");
  CHECK_THROWS_AS(decode_address("\x01\x02"s), std::invalid_argument);
}
