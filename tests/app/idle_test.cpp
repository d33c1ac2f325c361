// SPDX-License-Identifier: Apache-2.0
// `run` with daemon.idle against the harness (IMAP user t5): with an interval of an hour, a
// report appended while the daemon waits in IDLE is stored within seconds, and SIGTERM ends
// the IDLE cleanly.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "cli.hpp"
#include "support/support.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::app;
using namespace std::chrono_literals;

namespace {

bool wait_for(const std::string& url, const std::string& query, const std::string& want,
              std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (sql(url, query) == want) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

bool log_says(const std::filesystem::path& log, const std::string& text,
              std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (std::filesystem::exists(log) && read_file(log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

TEST_CASE("run waits in IDLE: new mail is stored long before the interval, SIGTERM ends it") {
  const scratch_database db;
  const scratch_dir d;
  const std::string user = "t5";
  const std::string folder = "idle-test";
  imap_fresh_folder(user, folder);
  const auto cfg = d.path() / "config.yaml";
  write_file(cfg, "mailboxes:\n  - name: idle\n    url: imaps://127.0.0.1:" +
                      require_env("TLSRPT_TEST_IMAPS_PORT") + "/" + folder + "\n    username: " +
                      user + "\n    password_env: TLSRPT_APP_TEST_PW\n    ca_file: " +
                      require_env("TLSRPT_TEST_CA_FILE") +
                      "\ndaemon:\n  interval: 1h\n  jitter: 0s\n  idle: true\n"
                      "logging:\n  level: debug\n");
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url()) +
                          " TLSRPT_APP_TEST_PW=" + quote(require_env("TLSRPT_TEST_IMAP_PASSWORD"));
  REQUIRE(cli("migrate", env).status == 0);

  const auto log = d.path() / "daemon.log";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string command = "exec env -u TLSRPT_CONFIG " + env + " " +
                                quote(TLSRPT_COLLECTOR_BIN) + " -c " + quote(cfg.string()) +
                                " run 2>" + quote(log.string()) + " </dev/null";
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // After the first pass (of an empty folder) the daemon idles. Mail appended now can only be
  // found through IDLE: the next interval is an hour away.
  REQUIRE_MESSAGE(log_says(log, "pass done in", 30s), read_file(log));
  write_file(d.path() / "r.eml", report_mail("idle-report", 3));
  imap_append(user, folder, d.path() / "r.eml");
  const std::string count = "select count(*) from tlsrpt.reports where report_id = 'idle-report'";
  CHECK_MESSAGE(wait_for(db.url(), count, "1", 60s), read_file(log));
  CHECK(read_file(log).find("new mail announced in IDLE") != std::string::npos);

  REQUIRE(::kill(pid, SIGTERM) == 0);
  int status = -1;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  pid_t done = 0;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL("the daemon did not leave IDLE within 15 s of SIGTERM:\n" << read_file(log));
  }
  CHECK(WIFEXITED(status));
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, read_file(log));
  const std::string logged = read_file(log);
  CHECK(logged.find("daemon: stopped") != std::string::npos);
  CHECK(logged.find("error") == std::string::npos);
  imap(user, "", "DELETE " + folder);
}
