// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/service/notify.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace tlsrpt::service {
namespace {

// The status is a value of the notification's KEY=VALUE lines: a newline in it would start a
// new assignment (a sender-controlled string could otherwise say READY=1 or MAINPID=...).
std::string one_line(std::string_view s) {
  std::string out(s.substr(0, 200));
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

// sd_notify() returns 0 outside systemd and a negative errno when the socket is gone; neither
// is worth stopping the daemon for, so the result is deliberately not looked at.
void send(const std::string& state) { (void)sd_notify(0, state.c_str()); }

}  // namespace

void notify_ready(std::string_view status) { send("READY=1\nSTATUS=" + one_line(status)); }

void notify_stopping() { send("STOPPING=1\nSTATUS=stopping"); }

void notify_status(std::string_view status) { send("STATUS=" + one_line(status)); }

}  // namespace tlsrpt::service
