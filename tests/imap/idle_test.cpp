// SPDX-License-Identifier: Apache-2.0
// IDLE (RFC 2177) against the harness's real Dovecot, user t4: mail appended by another
// connection ends the wait, and the connection is ready for the next command afterwards.
// Against its Cyrus too: Cyrus tells an idling imapd of new mail through idled; without idled
// it looks only every imapidlepoll seconds (60 by default), which is what the wait here would
// then measure (scripts/services.sh runs idled).
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "support/support.hpp"
#include "tlsrpt/imap/curl_mailbox.hpp"
#include "tlsrpt/imap/idle.hpp"

namespace {

using namespace std::chrono_literals;
using tlsrpt::imap::curl_mailbox;
using tlsrpt::imap::idle_outcome;
using tlsrpt::test::require_env;
using clock_type = std::chrono::steady_clock;

const tlsrpt::imap::library curl_library;

tlsrpt::imap::connection_options t4() {
  tlsrpt::imap::connection_options o;
  o.url = "imaps://localhost:" + require_env("TLSRPT_TEST_IMAPS_PORT") + "/";
  o.username = "t4";
  o.password = require_env("TLSRPT_TEST_IMAP_PASSWORD");
  o.ca_file = require_env("TLSRPT_TEST_CA_FILE");
  o.connect_timeout = 10s;
  o.operation_timeout = 30s;
  return o;
}

const std::string mail =
    "From: reporter@example.net\r\nTo: tlsrpt@example.org\r\nSubject: idle\r\n\r\nbody\r\n";

}  // namespace

TEST_CASE("IDLE ends with new mail, at its deadline, and on the stop flag, ready for more") {
  const std::string folder = "test-idle-" + std::to_string(::getpid());
  {
    curl_mailbox admin(t4());
    admin.create_folder(folder);
  }
  curl_mailbox mb(t4());
  CHECK(mb.select(folder).exists == 0);
  std::atomic<bool> stop{false};

  // New mail from another connection while we idle.
  std::thread deliver([&] {
    std::this_thread::sleep_for(300ms);
    curl_mailbox other(t4());
    other.append(folder, mail);
  });
  const auto start = clock_type::now();
  const auto first = tlsrpt::imap::idle(mb, start + 60s, stop, 20ms);
  const auto took = clock_type::now() - start;
  deliver.join();
  CHECK(first == idle_outcome::changed);
  CHECK(took < 30s);                     // generous: the deadline was a minute away
  CHECK(mb.select(folder).exists == 1);  // the connection answers the next command

  // Nothing happens: the deadline ends it.
  CHECK(tlsrpt::imap::idle(mb, clock_type::now() + 300ms, stop, 20ms) == idle_outcome::timeout);
  CHECK(mb.search({}).size() == 1);

  // The stop flag (SIGTERM) ends it cleanly: DONE is answered, the session goes on.
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop = true;
  });
  CHECK(tlsrpt::imap::idle(mb, clock_type::now() + 60s, stop, 20ms) == idle_outcome::stopped);
  stopper.join();
  stop = false;
  CHECK(mb.select(folder).exists == 1);
  mb.delete_folder(folder);
}
