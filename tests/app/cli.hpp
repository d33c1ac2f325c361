// SPDX-License-Identifier: Apache-2.0
// Running the built tlsrpt-collector, and the harness helpers the app tests share.
#pragma once

#include <filesystem>
#include <string>

namespace tlsrpt::test::app {

struct cli_result {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs the program with `args` (shell words) and `env` ("A=b C=d"), without the caller's
// TLSRPT_CONFIG and TLSRPT_DATABASE_URL, stdin from `stdin_path` or /dev/null.
cli_result cli(const std::string& args, const std::string& env = "",
               const std::string& stdin_path = "");

// A temporary directory, removed with everything in it.
class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// psql -At: the first result, trimmed.
std::string sql(const std::string& url, const std::string& query);

// IMAP over the harness's IMAPS port with curl(1), as `user`.
std::string imap(const std::string& user, const std::string& folder, const std::string& command);
void imap_append(const std::string& user, const std::string& folder,
                 const std::filesystem::path& message);
// Deletes (if there) and creates a folder.
void imap_fresh_folder(const std::string& user, const std::string& folder);

// A small report mail (multipart/report, JSON part) with its own report-id.
std::string report_mail(const std::string& report_id, int successful_sessions);

std::string quote(const std::string& s);  // single-quoted for the shell

}  // namespace tlsrpt::test::app
