// SPDX-License-Identifier: Apache-2.0
// The real receivers the notification tests deliver to (tests/monitor/sinks.py): an aiosmtpd
// SMTP server and an HTTP webhook receiver on free loopback ports, state under
// $TLSRPT_STATE_DIR, started by the constructor and stopped (by pid) by the destructor.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tlsrpt::test::monitor {

class sinks {
 public:
  sinks();
  ~sinks();
  sinks(const sinks&) = delete;
  sinks& operator=(const sinks&) = delete;

  int smtp_port() const { return smtp_port_; }
  int http_port() const { return http_port_; }
  std::string smtp_url() const { return "smtp://127.0.0.1:" + std::to_string(smtp_port_); }
  std::string hook_url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(http_port_) + path;
  }
  // The parsed meta data (N.json) of what arrived so far, in order.
  std::vector<std::string> mails() const;
  std::vector<std::string> hooks() const;
  // The raw bytes of mail N (1-based) and the raw body of hook N.
  std::string raw_mail(std::size_t n) const;
  std::string raw_hook(std::size_t n) const;
  // While set, DATA gets 451 / a POST gets 503.
  void fail_smtp(bool on) const;
  void fail_http(bool on) const;

 private:
  std::filesystem::path dir_;
  int pid_ = 0;
  int smtp_port_ = 0;
  int http_port_ = 0;
};

// A loopback port nothing listens on (connection refused at once): a dead receiver.
int dead_port();

// Runs python's json module over `text`: the value at `path` (a Python expression over `d`,
// e.g. "d['event']"), printed with str(); "INVALID" when `text` is not JSON.
std::string json_get(const std::string& text, const std::string& path);

}  // namespace tlsrpt::test::monitor
