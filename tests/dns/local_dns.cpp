// SPDX-License-Identifier: Apache-2.0
#include "local_dns.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>

#include "support/support.hpp"

namespace tlsrpt::test {

namespace {

std::string state_dir() {
  const char* s = std::getenv("TLSRPT_STATE_DIR");
  if (s != nullptr && *s != '\0') return s;
  return (binary_dir() / "test-state").string();
}

}  // namespace

local_dns::local_dns() {
  // Debian's python3-dkim lives under /usr/bin/python3, whatever python3 a PATH finds first.
  const std::string cmd = "exec /usr/bin/python3 " +
                          (source_dir() / "tests" / "dns" / "fixture.py").string() + " serve '" +
                          state_dir() + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("local_dns: cannot start " + cmd);
  std::map<std::string, std::string> kv;
  char line[4096];
  bool ready = false;
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::string l(line);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    if (l == "ready") {
      ready = true;
      break;
    }
    const auto eq = l.find('=');
    if (eq != std::string::npos) kv[l.substr(0, eq)] = l.substr(eq + 1);
  }
  // The pipe stays open until the destructor: pclose() waits for the fixture to end. The
  // fixture also watches its parent, so it stops with a test process that crashes.
  if (!ready) {
    ::pclose(p);
    throw std::runtime_error("local_dns: " + cmd + " did not get ready");
  }
  pipe_ = p;
  pid_ = std::stoi(kv["pid"]);
  port_ = kv["port"];
  black_hole_port_ = kv["black_hole_port"];
  trust_anchor_ = kv["trust_anchor"];
  mail_dir_ = kv["mail_dir"];
}

local_dns::~local_dns() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
  if (pipe_ != nullptr) ::pclose(pipe_);
}

dns::options local_dns::options() const {
  dns::options o;
  o.servers = {server()};
  o.trust_anchor = trust_anchor_;
  o.timeout = std::chrono::seconds(3);
  return o;
}

std::string local_dns::mail(const std::string& name) const {
  return read_file(std::filesystem::path(mail_dir_) / name);
}

local_dns& shared_dns() {
  static local_dns d;
  return d;
}

}  // namespace tlsrpt::test
