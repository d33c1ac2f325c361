// SPDX-License-Identifier: Apache-2.0
// Helpers shared by every test: where the samples are, and the harness's connection details.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tlsrpt::test {

// ../shared/corpus, or $TLSRPT_CORPUS_DIR. Fails the test when it does not exist. Only test
// cases in the doctest suite "corpus" (ctest label `corpus`) may call it.
std::filesystem::path corpus_dir();
// tests/data in the source tree.
std::filesystem::path data_dir();
std::filesystem::path source_dir();
std::filesystem::path binary_dir();

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& bytes);

// An environment variable set by scripts/services.sh. A missing one fails the test with a
// message saying how to start the harness: integration tests never skip silently.
std::string require_env(const char* name);

// The real IMAP server the integration tests talk to. ctest registers the IMAP and e2e suites
// once per server (issue 23): TLSRPT_TEST_IMAP_SERVER=cyrus makes main() point
// TLSRPT_TEST_IMAP_PORT and TLSRPT_TEST_IMAPS_PORT at the harness's Cyrus, so every test that
// reads them runs unchanged against either server.
enum class imap_server { dovecot, cyrus };
imap_server current_imap_server();
const char* imap_server_name();
// For main(): applies TLSRPT_TEST_IMAP_SERVER. Returns false (after saying why on stderr) when
// the server asked for is not running.
bool select_imap_server();
// What ctest's SKIP_REGULAR_EXPRESSION looks for: a case that cannot run against this server
// says why and returns, and ctest reports it skipped rather than passed.
#define TLSRPT_TEST_ONLY_ON(server, why)                                                         \
  do {                                                                                           \
    if (::tlsrpt::test::current_imap_server() != ::tlsrpt::test::imap_server::server) {          \
      MESSAGE("tlsrpt-test-skip: not run against " << ::tlsrpt::test::imap_server_name() << ": " \
                                                   << why);                                      \
      return;                                                                                    \
    }                                                                                            \
  } while (false)

// Runs a shell command, returns its exit status and collects stdout.
struct run_result {
  int status = -1;
  std::string out;
};
run_result run(const std::string& command);

// A fresh PostgreSQL database for one test, dropped by the destructor.
class scratch_database {
 public:
  scratch_database();
  ~scratch_database();
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string url_;
};

}  // namespace tlsrpt::test
