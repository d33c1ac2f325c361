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

namespace {

// The port of the last "listening on http://127.0.0.1:PORT" line (port 0 was asked for, so
// every start of the HTTP side has its own).
std::string last_http_port(const std::filesystem::path& log) {
  const std::string text = read_file(log);
  const std::string marker = "listening on http://127.0.0.1:";
  const auto at = text.rfind(marker);
  if (at == std::string::npos) return "";
  const auto start = at + marker.size();
  return text.substr(start, text.find('/', start) - start);
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("SIGHUP in IDLE with the HTTP side: the new file takes effect, a bad one is refused") {
  const scratch_database db;
  const scratch_dir d;
  const std::string user = "t7";
  imap_fresh_folder(user, "hup-a");
  imap_fresh_folder(user, "hup-b");
  const auto cfg = d.path() / "config.yaml";
  const auto config_of = [&](const std::string& folder, const std::string& http) {
    return "mailboxes:\n  - name: " + folder +
           "\n    url: imaps://127.0.0.1:" + require_env("TLSRPT_TEST_IMAPS_PORT") + "/" + folder +
           "\n    username: " + user + "\n    password_env: TLSRPT_APP_TEST_PW\n    ca_file: " +
           require_env("TLSRPT_TEST_CA_FILE") +
           "\ndaemon:\n  interval: 1h\n  jitter: 0s\n  idle: true\n"
           "logging:\n  level: debug\nhttp:\n  listen: [\"127.0.0.1:0\"]\n" +
           http;
  };
  write_file(cfg, config_of("hup-a", "  report_path: /tlsrpt-a\n"));
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
  const auto http = [&](const std::string& args) {
    return run("curl -sS -w ' %{http_code}' " + args).out;
  };
  const auto post_to = [&](const std::string& path) {
    return http("-H 'Content-Type: application/tlsrpt+json' --data-binary @" +
                quote((data_dir() / "report" / "rfc8460-example.json").string()) +
                " http://127.0.0.1:" + last_http_port(log) + path);
  };
  REQUIRE_MESSAGE(log_says(log, "pass done in", 30s), read_file(log));
  REQUIRE_MESSAGE(!last_http_port(log).empty(), read_file(log));
  // The daemon now waits in IDLE on hup-a, its next full pass an hour away.

  // A file that does not load: refused, the daemon goes on with the old one.
  write_file(cfg, config_of("hup-b", "  report_path: /tlsrpt-b\n  max_connections: many\n"));
  REQUIRE(::kill(pid, SIGHUP) == 0);
  CHECK_MESSAGE(
      log_says(log, "SIGHUP: cannot use the new configuration, keeping the previous one", 30s),
      read_file(log));
  CHECK(::waitpid(pid, nullptr, WNOHANG) == 0);  // still running
  CHECK(http("http://127.0.0.1:" + last_http_port(log) + "/healthz") == "ok\n 200");

  // A file that loads but whose HTTP side cannot start (no such certificate): the old
  // configuration comes back, HTTP side included.
  write_file(cfg, config_of("hup-b", "  report_path: /tlsrpt-b\n  tls_cert: " +
                                         (d.path() / "missing.pem").string() + "\n  tls_key: " +
                                         (d.path() / "missing.key").string() + "\n"));
  REQUIRE(::kill(pid, SIGHUP) == 0);
  REQUIRE_MESSAGE(log_says(log, "http: cannot read http.tls_cert", 30s), read_file(log));
  CHECK(::waitpid(pid, nullptr, WNOHANG) == 0);
  CHECK(count_of(read_file(log), "SIGHUP: cannot use the new configuration") == 2);
  // The old HTTP side listens again (the refused one never got to listen).
  for (int i = 0; i < 100 && count_of(read_file(log), "listening on http://") < 2; ++i)
    std::this_thread::sleep_for(100ms);
  CHECK(post_to("/tlsrpt-a").find(" 200") != std::string::npos);

  // A good one: another folder and another report path.
  write_file(cfg, config_of("hup-b", "  report_path: /tlsrpt-b\n"));
  REQUIRE(::kill(pid, SIGHUP) == 0);
  REQUIRE_MESSAGE(log_says(log,
                           "SIGHUP: configuration " + cfg.string() +
                               " read again: 1 mailbox(es), HTTP side restarted",
                           30s),
                  read_file(log));
  // The new mailbox's first pass, then IDLE on it: mail appended to hup-b now is found through
  // IDLE (the interval is an hour).
  for (int i = 0; i < 300 && count_of(read_file(log), "pass done in") < 2; ++i)
    std::this_thread::sleep_for(100ms);
  REQUIRE_MESSAGE(count_of(read_file(log), "pass done in") >= 2, read_file(log));
  const auto announced = count_of(read_file(log), "new mail announced in IDLE");
  write_file(d.path() / "r.eml", report_mail("hup-b-report", 3));
  imap_append(user, "hup-b", d.path() / "r.eml");
  const std::string count = "select count(*) from tlsrpt.reports where report_id = 'hup-b-report'";
  CHECK_MESSAGE(wait_for(db.url(), count, "1", 60s), read_file(log));
  CHECK(count_of(read_file(log), "new mail announced in IDLE") > announced);
  CHECK(post_to("/tlsrpt-b").find(" 200") != std::string::npos);
  CHECK(post_to("/tlsrpt-a").find(" 404") != std::string::npos);

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
    FAIL("the daemon did not stop on SIGTERM:\n" << read_file(log));
  }
  CHECK(WIFEXITED(status));
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, read_file(log));
  imap(user, "", "DELETE hup-a");
  imap(user, "", "DELETE hup-b");
}
