// SPDX-License-Identifier: Apache-2.0
// Telling the service manager how the daemon is doing (sd_notify(3), for `Type=notify`
// units): ready once it serves, stopping once a stop was asked for, and a one-line status.
// Outside systemd ($NOTIFY_SOCKET unset) every call does nothing. libsystemd stays in here.
#pragma once

#include <string_view>

namespace tlsrpt::service {

// READY=1 with a status line: the configuration is loaded and the daemon is about to serve.
void notify_ready(std::string_view status);
// STOPPING=1: a stop was asked for; what is in hand is being finished.
void notify_stopping();
// STATUS=...: shown by `systemctl status`. Newlines are replaced: one line only.
void notify_status(std::string_view status);

}  // namespace tlsrpt::service
