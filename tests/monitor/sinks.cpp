// SPDX-License-Identifier: Apache-2.0
#include "monitor/sinks.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/support.hpp"

namespace tlsrpt::test::monitor {

namespace {

std::vector<std::string> read_all(const std::filesystem::path& dir, const std::string& ext) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ext) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(read_file(f));
  return out;
}

std::string numbered(std::size_t n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03zu", n);
  return buf;
}

}  // namespace

sinks::sinks() {
  const char* state = std::getenv("TLSRPT_STATE_DIR");
  const std::filesystem::path base =
      state != nullptr && *state != '\0' ? std::filesystem::path(state) : binary_dir();
  std::string tmpl = (base / "sinks-XXXXXX").string();
  std::filesystem::create_directories(base);
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  dir_ = tmpl;
  // Debian's interpreter, where python3-aiosmtpd is installed (not a pyenv or venv one).
  const std::string script = (source_dir() / "tests" / "monitor" / "sinks.py").string();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl("/usr/bin/python3", "python3", script.c_str(), dir_.c_str(), nullptr);
    ::_exit(127);
  }
  pid_ = pid;
  // Startup is a matter of the machine's load; waiting is bounded, nothing is timed.
  for (int i = 0; i < 600 && !std::filesystem::exists(dir_ / "ports"); ++i) {
    int st = 0;
    REQUIRE_MESSAGE(::waitpid(pid_, &st, WNOHANG) == 0,
                    "tests/monitor/sinks.py exited: is python3-aiosmtpd installed "
                    "(scripts/deps.sh)?");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::istringstream ports(read_file(dir_ / "ports"));
  std::string name;
  ports >> name >> smtp_port_ >> name >> http_port_;
  REQUIRE(smtp_port_ > 0);
  REQUIRE(http_port_ > 0);
}

sinks::~sinks() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> sinks::mails() const { return read_all(dir_ / "mail", ".json"); }
std::vector<std::string> sinks::hooks() const { return read_all(dir_ / "hooks", ".json"); }
std::string sinks::raw_mail(std::size_t n) const {
  return read_file(dir_ / "mail" / (numbered(n) + ".eml"));
}
std::string sinks::raw_hook(std::size_t n) const {
  return read_file(dir_ / "hooks" / (numbered(n) + ".body"));
}

void sinks::fail_smtp(bool on) const {
  if (on) {
    write_file(dir_ / "smtp-fail", "");
  } else {
    std::filesystem::remove(dir_ / "smtp-fail");
  }
}

void sinks::fail_http(bool on) const {
  if (on) {
    write_file(dir_ / "http-fail", "");
  } else {
    std::filesystem::remove(dir_ / "http-fail");
  }
}

int dead_port() {
  // Bound and closed again: the kernel gave it to nobody else in between on loopback, and
  // nothing listens on it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string json_get(const std::string& text, const std::string& path) {
  const auto file = binary_dir() / ("json_get_" + std::to_string(::getpid()) + ".json");
  write_file(file, text);
  const auto r =
      run("/usr/bin/python3 -c 'import json,sys\ntry:\n d=json.load(open(sys.argv[1]))\n"
          "except ValueError:\n print(\"INVALID\"); sys.exit(0)\nprint(" +
          path + ")' '" + file.string() + "'");
  std::filesystem::remove(file);
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace tlsrpt::test::monitor
