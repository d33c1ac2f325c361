// SPDX-License-Identifier: Apache-2.0
// What is allowed but unsafe: secrets others can read, certificates not checked. Said by
// check-config and logged when `run` and `poll` start; never an error.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tlsrpt/config/config.hpp"

namespace tlsrpt::config {

namespace {

bool readable_by_others(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0;
}

std::string where(const std::string& file, int line, const std::string& key) {
  std::string s = "config: ";
  if (!file.empty()) s += file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": ";
  return s + key + ": ";
}

}  // namespace

std::vector<std::string> warnings(const configuration& c) {
  std::vector<std::string> out;
  if (!c.file.empty() && !c.db.url_from_environment && !connection_secrets(c.db.url).empty() &&
      readable_by_others(c.file)) {
    out.push_back(where(c.file, 0, "database.url") +
                  "holds a password and the file is readable by others (chmod o-r " + c.file +
                  ", or give the password by TLSRPT_DATABASE_URL or ~/.pgpass)");
  }
  for (std::size_t i = 0; i < c.mailboxes.size(); ++i) {
    const mailbox& m = c.mailboxes[i];
    if (m.secret.from == secret_ref::kind::file && readable_by_others(m.secret.name)) {
      out.push_back(where(c.file, m.secret.line, m.secret.key_path) + m.secret.name +
                    " is readable by others (chmod o-r " + m.secret.name + ")");
    }
    if (!m.tls_verify) {
      out.push_back(where(c.file, m.line, "mailboxes[" + std::to_string(i) + "].tls_verify") +
                    "false: the server's certificate is not checked, so anyone on the way can "
                    "pose as it and read the password (set ca_file for a private CA instead)");
    }
  }
  return out;
}

}  // namespace tlsrpt::config
