// SPDX-License-Identifier: Apache-2.0
// A real DNS server for the tests of lib/tlsrpt/dns: tests/dns/fixture.py started once per
// test process (unbound on a free loopback port serving the suite's zones, one DNSSEC-signed
// with its own trust anchor, one tampered with), stopped when the process ends.
#pragma once

#include <cstdio>
#include <string>

#include "tlsrpt/dns/resolver.hpp"

namespace tlsrpt::test {

class local_dns {
 public:
  local_dns();
  ~local_dns();
  local_dns(const local_dns&) = delete;
  local_dns& operator=(const local_dns&) = delete;

  std::string server() const { return "127.0.0.1:" + port_; }
  // Takes queries and never answers.
  std::string black_hole() const { return "127.0.0.1:" + black_hole_port_; }
  const std::string& trust_anchor() const { return trust_anchor_; }
  // The resolver options for this server: its trust anchor, a short timeout.
  dns::options options() const;
  // A mail signed by the fixture (good.eml, body-altered.eml, ...).
  std::string mail(const std::string& name) const;

 private:
  std::FILE* pipe_ = nullptr;
  int pid_ = 0;
  std::string port_;
  std::string black_hole_port_;
  std::string trust_anchor_;
  std::string mail_dir_;
};

// The one server of this test process.
local_dns& shared_dns();

}  // namespace tlsrpt::test
