// SPDX-License-Identifier: Apache-2.0
#include "support/support.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace tlsrpt::test {

std::filesystem::path corpus_dir() {
  const char* env = std::getenv("TLSRPT_CORPUS_DIR");
  std::filesystem::path p = env != nullptr && *env != '\0' ? env : TLSRPT_DEFAULT_CORPUS_DIR;
  REQUIRE_MESSAGE(std::filesystem::is_directory(p),
                  "corpus not found at " << p
                                         << " (set TLSRPT_CORPUS_DIR, or leave out the tests "
                                            "labelled corpus: ctest -LE corpus)");
  return p;
}

std::filesystem::path data_dir() {
  return std::filesystem::path(TLSRPT_SOURCE_DIR) / "tests" / "data";
}
std::filesystem::path source_dir() { return TLSRPT_SOURCE_DIR; }
std::filesystem::path binary_dir() { return TLSRPT_BINARY_DIR; }

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot create " + p.string());
  out << bytes;
}

std::string require_env(const char* name) {
  const char* v = std::getenv(name);
  REQUIRE_MESSAGE((v != nullptr && *v != '\0'),
                  std::string(name)
                      << " is not set: start the harness first "
                         "(eval \"$(scripts/services.sh start)\") or run scripts/test.sh");
  return v;
}

imap_server current_imap_server() {
  const char* v = std::getenv("TLSRPT_TEST_IMAP_SERVER");
  return v != nullptr && std::string_view(v) == "cyrus" ? imap_server::cyrus : imap_server::dovecot;
}

const char* imap_server_name() {
  return current_imap_server() == imap_server::cyrus ? "Cyrus" : "Dovecot";
}

bool select_imap_server() {
  const char* v = std::getenv("TLSRPT_TEST_IMAP_SERVER");
  if (v == nullptr || *v == '\0' || std::string_view(v) == "dovecot") return true;
  if (std::string_view(v) != "cyrus") {
    std::fprintf(stderr, "TLSRPT_TEST_IMAP_SERVER=%s: expected dovecot or cyrus\n", v);
    return false;
  }
  const char* port = std::getenv("TLSRPT_TEST_CYRUS_IMAP_PORT");
  const char* imaps = std::getenv("TLSRPT_TEST_CYRUS_IMAPS_PORT");
  if (port == nullptr || imaps == nullptr) {
    std::fprintf(stderr,
                 "TLSRPT_TEST_CYRUS_IMAP_PORT is not set: the harness runs no Cyrus IMAP "
                 "(scripts/deps.sh installs it, scripts/services.sh start starts it)\n");
    return false;
  }
  ::setenv("TLSRPT_TEST_IMAP_PORT", port, 1);
  ::setenv("TLSRPT_TEST_IMAPS_PORT", imaps, 1);
  return true;
}

run_result run(const std::string& command) {
  run_result r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

namespace {
std::string random_suffix() {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  return std::to_string(::getpid()) + "_" + std::to_string(rd() % 100000) + "_" +
         std::to_string(counter++);
}

std::string replace_db(const std::string& url, const std::string& db) {
  const auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + db;
}
}  // namespace

scratch_database::scratch_database() {
  const std::string admin = require_env("TLSRPT_TEST_PG_ADMIN_URL");
  name_ = "t_" + random_suffix();
  url_ = replace_db(admin, name_);
  const auto r = run("psql -qAtX '" + admin + "' -c 'CREATE DATABASE " + name_ + "' 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "cannot create database " << name_ << ": " << r.out);
}

scratch_database::~scratch_database() {
  const char* admin = std::getenv("TLSRPT_TEST_PG_ADMIN_URL");
  if (admin == nullptr) return;
  run(std::string("psql -qAtX '") + admin + "' -c 'DROP DATABASE IF EXISTS " + name_ +
      " WITH (FORCE)' >/dev/null 2>&1");
}

}  // namespace tlsrpt::test
