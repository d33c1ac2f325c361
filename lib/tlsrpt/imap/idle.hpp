// SPDX-License-Identifier: Apache-2.0
// IDLE (RFC 2177) on a mailbox's own connection: the daemon waits here between passes, so a
// pass starts within moments of new mail instead of at the next interval.
#pragma once

#include <atomic>
#include <chrono>

#include "tlsrpt/imap/curl_mailbox.hpp"

namespace tlsrpt::imap {

enum class idle_outcome {
  changed,     // the server announced new mail or an expunge (EXISTS, EXPUNGE, RECENT)
  timeout,     // `until` came first
  stopped,     // the stop flag was set
  unsupported  // the server does not offer IDLE (nothing was sent)
};

// IDLE on the selected folder until something changes, `until` passes or `stop` is set,
// then DONE and its tagged answer: the connection is ready for the next command. The stop
// flag is looked at every `stop_check`. Throws imap::error when the connection fails or the
// server refuses IDLE.
idle_outcome idle(curl_mailbox& mb, std::chrono::steady_clock::time_point until,
                  const std::atomic<bool>& stop,
                  std::chrono::milliseconds stop_check = std::chrono::milliseconds(100));

}  // namespace tlsrpt::imap
