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
