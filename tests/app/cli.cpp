// SPDX-License-Identifier: Apache-2.0
#include "cli.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <atomic>

#include "support/support.hpp"

namespace tlsrpt::test::app {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

scratch_dir::scratch_dir() {
  // Not "tlsrpt...": the harness's database password is "tlsrpt", and the program masks it
  // wherever it appears in what it prints, paths included.
  std::string tmpl = (std::filesystem::temp_directory_path() / "app_test_XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  path_ = tmpl;
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

cli_result cli(const std::string& args, const std::string& env, const std::string& stdin_path) {
  const scratch_dir d;
  const auto err = d.path() / "stderr";
  const std::string command = "env -u TLSRPT_CONFIG -u TLSRPT_DATABASE_URL " + env + " " +
                              quote(TLSRPT_COLLECTOR_BIN) + " " + args + " 2>" +
                              quote(err.string()) + " <" +
                              quote(stdin_path.empty() ? "/dev/null" : stdin_path);
  const auto r = run(command);
  cli_result out{r.status, r.out, ""};
  if (std::filesystem::exists(err)) out.err = read_file(err);
  return out;
}

std::string sql(const std::string& url, const std::string& query) {
  const auto r = run("psql -qAtX " + quote(url) + " -c " + quote(query) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "psql failed: " << r.out);
  std::string s = r.out;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

namespace {
std::string curl_base(const std::string& user) {
  return "curl -sS --cacert " + quote(require_env("TLSRPT_TEST_CA_FILE")) + " -u " +
         quote(user + ":" + require_env("TLSRPT_TEST_IMAP_PASSWORD")) + " ";
}
std::string url(const std::string& folder) {
  return "imaps://127.0.0.1:" + require_env("TLSRPT_TEST_IMAPS_PORT") + "/" + folder;
}
}  // namespace

std::string imap(const std::string& user, const std::string& folder, const std::string& command) {
  const auto r = run(curl_base(user) + quote(url(folder)) + " -X " + quote(command) + " 2>&1");
  return r.out;
}

void imap_append(const std::string& user, const std::string& folder,
                 const std::filesystem::path& message) {
  const auto r =
      run(curl_base(user) + quote(url(folder)) + " -T " + quote(message.string()) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "APPEND to " << folder << " failed: " << r.out);
}

void imap_fresh_folder(const std::string& user, const std::string& folder) {
  imap(user, "", "DELETE " + folder);
  const auto r =
      run(curl_base(user) + quote(url("")) + " -X " + quote("CREATE " + folder) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "CREATE " << folder << " failed: " << r.out);
}

std::string report_mail(const std::string& report_id, int successful_sessions) {
  const std::string json =
      "{\"organization-name\":\"Daemon Test\",\"date-range\":{\"start-datetime\":"
      "\"2026-11-20T00:00:00Z\",\"end-datetime\":\"2026-11-20T23:59:59Z\"},\"contact-info\":"
      "\"tlsrpt@daemon.example\",\"report-id\":\"" +
      report_id +
      "\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: "
      "STSv1\",\"mode: enforce\",\"mx: mx.daemon.example\",\"max_age: 86400\"],"
      "\"policy-domain\":\"daemon.example\"},\"summary\":{\"total-successful-session-count\":" +
      std::to_string(successful_sessions) + ",\"total-failure-session-count\":0}}]}";
  return "From: tlsrpt@daemon.example\r\n"
         "To: t5@localhost\r\n"
         "Subject: Report Domain: daemon.example Submitter: daemon.example Report-ID: <" +
         report_id +
         ">\r\n"
         "Message-ID: <" +
         report_id +
         "@daemon.example>\r\n"
         "Date: Sat, 21 Nov 2026 00:00:00 +0000\r\n"
         "TLS-Report-Domain: daemon.example\r\n"
         "TLS-Report-Submitter: daemon.example\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain\r\n\r\nA TLS report.\r\n"
         "--b1\r\nContent-Type: application/tlsrpt+json\r\n"
         "Content-Disposition: attachment; filename=\"report.json\"\r\n\r\n" +
         json + "\r\n--b1--\r\n";
}

}  // namespace tlsrpt::test::app
