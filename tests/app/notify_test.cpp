// SPDX-License-Identifier: Apache-2.0
// `run` under a service manager (Type=notify): READY=1 once it serves, STOPPING=1 on SIGTERM.
// The test plays systemd's part: it owns the $NOTIFY_SOCKET datagram socket.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "cli.hpp"
#include "support/support.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::app;

namespace {

class notify_socket {
 public:
  explicit notify_socket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.string().size() < sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path.c_str(), path.string().size());
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~notify_socket() { ::close(fd_); }
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;

  // The next datagram, or "" after `limit`.
  std::string receive(std::chrono::seconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count() * 1000)) != 1) return {};
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("run tells the service manager it is ready, and that it stops on SIGTERM") {
  const scratch_database db;
  const scratch_dir d;
  const std::string folder = "notify-test";
  imap_fresh_folder("t5", folder);
  const auto cfg = d.path() / "config.yaml";
  write_file(cfg, "mailboxes:\n  - name: notify\n    url: imaps://127.0.0.1:" +
                      require_env("TLSRPT_TEST_IMAPS_PORT") + "/" + folder +
                      "\n    username: t5\n    password_env: TLSRPT_APP_TEST_PW\n    ca_file: " +
                      require_env("TLSRPT_TEST_CA_FILE") + "\ndaemon:\n  interval: 1m\n");
  notify_socket sock(d.path() / "notify");
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(db.url()) +
                          " TLSRPT_APP_TEST_PW=" + quote(require_env("TLSRPT_TEST_IMAP_PASSWORD")) +
                          " NOTIFY_SOCKET=" + quote((d.path() / "notify").string());
  const auto log = d.path() / "run.log";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string command = "exec env -u TLSRPT_CONFIG " + env + " " +
                                quote(TLSRPT_COLLECTOR_BIN) + " -c " + quote(cfg.string()) +
                                " run 2>" + quote(log.string()) + " </dev/null";
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto ready = sock.receive(std::chrono::seconds(60));
  CHECK_MESSAGE(ready.find("READY=1") != std::string::npos, read_file(log));
  CHECK(ready.find("STATUS=polling 1 mailbox(es)") != std::string::npos);
  // The schema was in place before READY: the unit counts as started only when it works.
  CHECK(sql(db.url(), "select count(*) > 0 from tlsrpt.schema_migrations") == "t");

  ::kill(pid, SIGTERM);
  const auto stopping = sock.receive(std::chrono::seconds(60));
  CHECK(stopping.find("STOPPING=1") != std::string::npos);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
