// SPDX-License-Identifier: Apache-2.0
#include "e2e.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/support.hpp"

namespace tlsrpt::e2e {

namespace {

std::string quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::string replace_db(const std::string& url, const std::string& db) {
  return url.substr(0, url.rfind('/') + 1) + db;
}

// `export NAME='value'` lines, as scripts/services.sh prints them.
std::map<std::string, std::string> parse_env(const std::string& text) {
  std::map<std::string, std::string> env;
  static const std::regex line(R"(export ([A-Z_]+)='?([^'\n]*)'?)");
  for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it)
    env[(*it)[1].str()] = (*it)[2].str();
  return env;
}

std::int64_t json_int(const std::string& json, const std::string& key) {
  const std::regex re("\"" + key + "\":(-?[0-9]+)");
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(json, m, re), "no " << key << " in " << json);
  return std::stoll(m[1].str());
}

gen_totals parse_totals(const std::string& json) {
  gen_totals t;
  t.messages = json_int(json, "messages");
  t.reports = json_int(json, "reports");
  t.policies = json_int(json, "policies");
  t.successful_sessions = json_int(json, "successful_sessions");
  t.failed_sessions = json_int(json, "failed_sessions");
  t.failure_details = json_int(json, "failure_details");
  t.not_a_report = json_int(json, "not_a_report");
  t.broken = json_int(json, "broken");
  return t;
}

std::string gen_args(const gen_options& o) {
  return std::string(generator_bin()) + " --count " + std::to_string(o.count) + " --seed " +
         std::to_string(o.seed) + " --start " + std::to_string(o.start) + " --not-a-report " +
         std::to_string(o.not_a_report) + " --broken " + std::to_string(o.broken);
}

bool as_root() { return ::geteuid() == 0; }

}  // namespace

// ---------------------------------------------------------------------------------------------

services services::shared() {
  services s;
  s.pg_admin_url = test::require_env("TLSRPT_TEST_PG_ADMIN_URL");
  s.imap_host = test::require_env("TLSRPT_TEST_IMAP_HOST");
  s.imap_port = test::require_env("TLSRPT_TEST_IMAP_PORT");
  s.password = test::require_env("TLSRPT_TEST_IMAP_PASSWORD");
  s.mail_dir = test::require_env("TLSRPT_TEST_MAIL_DIR");
  s.mail_user = test::require_env("TLSRPT_TEST_MAIL_USER");
  s.cyrus = test::current_imap_server() == test::imap_server::cyrus;
  return s;
}

private_services::private_services(const std::string& name)
    : state_(test::binary_dir() / "e2e-state" / (name + "-" + std::to_string(::getpid()))) {
  fs::remove_all(state_);
  fs::create_directories(state_);
  start();
}

void private_services::start() {
  const auto r = test::run(
      // A private instance is a Dovecot (kill_dovecot): no Cyrus beside it.
      "env -u TLSRPT_PG_PORT -u TLSRPT_IMAP_PORT -u TLSRPT_IMAPS_PORT TLSRPT_CYRUS=0 "
      "TLSRPT_STATE_DIR=" +
      quote(state_.string()) + " " +
      quote((test::source_dir() / "scripts" / "services.sh").string()) + " start 2>>" +
      quote((state_ / "services.log").string()));
  REQUIRE_MESSAGE(r.status == 0, "cannot start private services in "
                                     << state_ << ": " << test::read_file(state_ / "services.log"));
  const auto env = parse_env(r.out);
  env_.pg_admin_url = env.at("TLSRPT_TEST_PG_ADMIN_URL");
  env_.imap_host = env.at("TLSRPT_TEST_IMAP_HOST");
  env_.imap_port = env.at("TLSRPT_TEST_IMAP_PORT");
  env_.password = env.at("TLSRPT_TEST_IMAP_PASSWORD");
  env_.mail_dir = env.at("TLSRPT_TEST_MAIL_DIR");
  env_.mail_user = env.at("TLSRPT_TEST_MAIL_USER");
}

private_services::~private_services() {
  // Never the shared instance: TLSRPT_STATE_DIR names this one's own directory.
  test::run("TLSRPT_STATE_DIR=" + quote(state_.string()) + " " +
            quote((test::source_dir() / "scripts" / "services.sh").string()) +
            " stop >/dev/null 2>&1");
  std::error_code ec;
  fs::remove_all(state_, ec);
}

void private_services::stop_postgres() {
  const std::string pg_ctl = "/usr/lib/postgresql/15/bin/pg_ctl -D " +
                             quote((state_ / "pg" / "data").string()) + " -m fast -w stop";
  const auto r = test::run((as_root() ? "runuser -u postgres -- " : "") + pg_ctl + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "cannot stop the private PostgreSQL: " << r.out);
}

void private_services::kill_dovecot() {
  const auto pidfile = state_ / "dovecot" / "run" / "master.pid";
  const pid_t pid = static_cast<pid_t>(std::stol(test::read_file(pidfile)));
  REQUIRE(pid > 1);
  REQUIRE(::kill(pid, SIGTERM) == 0);
  for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE_MESSAGE(::kill(pid, 0) != 0, "the private Dovecot did not stop");
}

// ---------------------------------------------------------------------------------------------

database::database(const services& s) : admin_(s.pg_admin_url) {
  name_ = "e2e_" + unique_suffix();
  for (auto& c : name_)
    if (c == '-') c = '_';
  url_ = replace_db(admin_, name_);
  sql(admin_, "CREATE DATABASE " + name_);
}

database::~database() {
  test::run("psql -qAtX " + quote(admin_) + " -c 'DROP DATABASE IF EXISTS " + name_ +
            " WITH (FORCE)' >/dev/null 2>&1");
}

std::string sql(const std::string& url, const std::string& statement) {
  const auto r = test::run("psql -qAtX -v ON_ERROR_STOP=1 " + quote(url) + " -c " +
                           quote(statement) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "psql failed: " << statement << ": " << r.out);
  return trim(r.out);
}

std::int64_t sql_int(const std::string& url, const std::string& statement) {
  const std::string v = sql(url, statement);
  REQUIRE_MESSAGE(!v.empty(), "no value from " << statement);
  return std::stoll(v);
}

// ---------------------------------------------------------------------------------------------

folder::folder(const services& s, std::string user, const std::string& label)
    : s_(s), user_(std::move(user)), name_("e2e-" + label + "-" + unique_suffix()) {
  const auto r = test::run(
      "curl -sS --max-time 30 " + quote("imap://" + s_.imap_host + ":" + s_.imap_port + "/") +
      " -u " + quote(user_ + ":" + s_.password) + " -X " + quote("CREATE " + name_) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "cannot create IMAP folder " << name_ << ": " << r.out);
  if (!s_.cyrus) REQUIRE(fs::is_directory(maildir() / "new"));
}

folder::~folder() {
  test::run("curl -sS --max-time 30 " + quote("imap://" + s_.imap_host + ":" + s_.imap_port + "/") +
            " -u " + quote(user_ + ":" + s_.password) + " -X " + quote("DELETE " + name_) +
            " >/dev/null 2>&1");
}

fs::path folder::maildir() const { return s_.mail_dir / user_ / "Maildir" / ("." + name_); }

std::string folder::imap_url() const {
  return "imap://" + s_.imap_host + ":" + s_.imap_port + "/" + name_;
}

void folder::deliver(const std::string& base, const std::string& bytes, bool seen) const {
  if (s_.cyrus) {
    const scratch_dir d("deliver");
    test::write_file(d.path() / base, bytes);
    append_files({d.path() / base}, seen);
    return;
  }
  const fs::path tmp = maildir() / "tmp" / base;
  test::write_file(tmp, bytes);
  if (as_root()) {
    const passwd* pw = ::getpwnam(s_.mail_user.c_str());
    REQUIRE(pw != nullptr);
    REQUIRE(::chown(tmp.c_str(), pw->pw_uid, pw->pw_gid) == 0);
  }
  fs::rename(tmp, seen ? maildir() / "cur" / (base + ":2,S") : maildir() / "new" / base);
}

void folder::append_files(const std::vector<fs::path>& files, bool seen) const {
  if (files.empty()) return;
  // The file names on stdin, one a line: thousands of them do not fit a command line.
  const scratch_dir d("append");
  std::string list;
  for (const auto& f : files) list += f.string() + "\n";
  test::write_file(d.path() / "files", list);
  const auto r = test::run(
      "python3 " + quote((test::source_dir() / "tests" / "harness" / "imap_append.py").string()) +
      " " + quote(s_.imap_host) + " " + quote(s_.imap_port) + " " + quote(user_) + " " +
      quote(name_) + (seen ? " --seen" : "") + " <" + quote((d.path() / "files").string()) +
      " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "cannot APPEND to " << name_ << ": " << r.out);
}

std::map<std::uint32_t, std::string> folder::uid_names() const {
  REQUIRE_MESSAGE(!s_.cyrus, "uid_names reads Dovecot's dovecot-uidlist");
  command("NOOP");  // lets Dovecot sync the Maildir into its uidlist
  std::istringstream in(test::read_file(maildir() / "dovecot-uidlist"));
  std::map<std::uint32_t, std::string> out;
  std::string line;
  std::getline(in, line);  // the header: version, UIDVALIDITY, next UID
  while (std::getline(in, line)) {
    const auto colon = line.find(" :");
    if (line.empty() || colon == std::string::npos) continue;
    std::string name = line.substr(colon + 2);
    name = name.substr(0, name.find(':'));
    out[static_cast<std::uint32_t>(std::stoul(line))] = name;
  }
  return out;
}

std::string folder::command(const std::string& cmd) const {
  const auto r = test::run("curl -sS --max-time 120 " + quote(imap_url()) + " -u " +
                           quote(user_ + ":" + s_.password) + " -X " + quote(cmd) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "IMAP " << cmd << " on " << name_ << " failed: " << r.out);
  return r.out;
}

std::vector<std::uint32_t> folder::search(const std::string& criteria) const {
  const std::string answer = command("UID SEARCH RETURN (ALL) " + criteria);
  REQUIRE_MESSAGE(answer.find("* ESEARCH") != std::string::npos, "no ESEARCH in " << answer);
  std::vector<std::uint32_t> uids;
  const auto all = answer.find(" ALL ");
  if (all == std::string::npos) return uids;
  std::istringstream set(trim(answer.substr(all + 5)));
  std::string range;
  while (std::getline(set, range, ',')) {
    const auto c = range.find(':');
    const auto lo = static_cast<std::uint32_t>(std::stoul(range.substr(0, c)));
    const auto hi =
        c == std::string::npos ? lo : static_cast<std::uint32_t>(std::stoul(range.substr(c + 1)));
    for (auto u = lo; u <= hi; ++u) uids.push_back(u);
  }
  return uids;
}

// ---------------------------------------------------------------------------------------------

gen_totals generate_into(const folder& f, const gen_options& o, const std::string& mail_user) {
  if (f.server().cyrus) {
    const scratch_dir d("gen");
    const gen_totals t = generate_eml(d.path(), o);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(d.path())) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    f.append_files(files);
    return t;
  }
  const auto r = test::run(gen_args(o) + " --maildir " + quote(f.maildir().string()) + " --owner " +
                           quote(mail_user) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "tlsrpt-gen failed: " << r.out);
  return parse_totals(r.out);
}

gen_totals generate_eml(const fs::path& dir, const gen_options& o) {
  const auto r = test::run(gen_args(o) + " --eml " + quote(dir.string()) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, "tlsrpt-gen failed: " << r.out);
  return parse_totals(r.out);
}

scratch_dir::scratch_dir(const std::string& label)
    : path_(test::binary_dir() / "e2e-tmp" / (label + "-" + unique_suffix())) {
  fs::remove_all(path_);
  fs::create_directories(path_);
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path write_config(const fs::path& dir, const services& s, const database& db, const folder& f,
                      const std::string& name, const std::string& mailbox_extra) {
  std::string y;
  y += "database:\n  url: " + db.url() + "\n  migrate_on_start: true\n";
  y += "mailboxes:\n  - name: " + name + "\n    url: imap://" + s.imap_host + ":" + s.imap_port +
       "/" + f.name() + "\n    username: " + f.user() +
       "\n    password_env: TLSRPT_E2E_IMAP_PASSWORD\n    allow_plaintext: true\n"
       "    connect_timeout: 5s\n    operation_timeout: 30s\n";
  y += mailbox_extra;
  y += "logging:\n  format: text\n  level: info\n";
  const fs::path p = dir / (name + ".yaml");
  test::write_file(p, y);
  return p;
}

// ---------------------------------------------------------------------------------------------

const char* collector_bin() { return TLSRPT_E2E_COLLECTOR; }
const char* generator_bin() { return TLSRPT_E2E_GENERATOR; }

pid_t start_collector(const std::vector<std::string>& args, const proc_options& o,
                      const fs::path& out_dir, const std::string& tag) {
  const std::string out = (out_dir / (tag + ".out")).string();
  const std::string err = (out_dir / (tag + ".err")).string();
  const std::string in = o.stdin_file.empty() ? "/dev/null" : o.stdin_file.string();
  const std::string password = services::shared().password;
  std::vector<std::string> argv_s;
  if (o.under_valgrind) {
    for (const char* a : {"valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
                          "--error-exitcode=99", "--num-callers=30"})
      argv_s.emplace_back(a);
  }
  argv_s.emplace_back(collector_bin());
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: only async-signal-safe work would be strictly correct after fork in a threaded
    // program; the test process has no other threads here.
    const int fi = ::open(in.c_str(), O_RDONLY);
    const int fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fi < 0 || fo < 0 || fe < 0) ::_exit(121);
    ::dup2(fi, 0);
    ::dup2(fo, 1);
    ::dup2(fe, 2);
    ::unsetenv("TLSRPT_CONFIG");
    ::unsetenv("TLSRPT_DATABASE_URL");
    ::setenv("TLSRPT_E2E_IMAP_PASSWORD", password.c_str(), 1);
    for (const auto& e : o.env) {
      const auto eq = e.find('=');
      ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

proc_result wait_collector(pid_t pid, const proc_options& o, const fs::path& out_dir,
                           const std::string& tag) {
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  rusage ru{};
  bool timed_out = false;
  for (;;) {
    const pid_t w = ::wait4(pid, &status, WNOHANG, &ru);
    REQUIRE(w >= 0);
    if (w == pid) break;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if ((o.kill_after && elapsed >= *o.kill_after) || (o.kill_when && o.kill_when())) {
      ::kill(pid, SIGKILL);
    } else if (elapsed >= o.timeout) {
      timed_out = true;
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  proc_result r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.max_rss_kib = ru.ru_maxrss;
  r.out = test::read_file(out_dir / (tag + ".out"));
  r.err = test::read_file(out_dir / (tag + ".err"));
  REQUIRE_MESSAGE(!timed_out,
                  "the collector did not finish within " << o.timeout.count() << " s: " << r.err);
  return r;
}

proc_result run_collector(const std::vector<std::string>& args, const proc_options& o) {
  static std::atomic<unsigned> n{0};
  const fs::path dir = test::binary_dir() / "e2e-tmp" / "logs";
  fs::create_directories(dir);
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(n++);
  const pid_t pid = start_collector(args, o, dir, tag);
  auto r = wait_collector(pid, o, dir, tag);
  fs::remove(dir / (tag + ".out"));
  fs::remove(dir / (tag + ".err"));
  return r;
}

// ---------------------------------------------------------------------------------------------

gen_totals operator+(const gen_totals& a, const gen_totals& b) {
  gen_totals s;
  s.messages = a.messages + b.messages;
  s.reports = a.reports + b.reports;
  s.policies = a.policies + b.policies;
  s.successful_sessions = a.successful_sessions + b.successful_sessions;
  s.failed_sessions = a.failed_sessions + b.failed_sessions;
  s.failure_details = a.failure_details + b.failure_details;
  s.not_a_report = a.not_a_report + b.not_a_report;
  s.broken = a.broken + b.broken;
  return s;
}

void check_end_state(const std::string& db_url, const folder& f, const std::string& mailbox,
                     const gen_totals& t, const gen_totals* database_totals) {
  INFO("end check of mailbox " << mailbox << " (folder " << f.name() << ")");
  // The database: every report once, with the generator's exact totals.
  const gen_totals& d = database_totals != nullptr ? *database_totals : t;
  CHECK(sql_int(db_url, "SELECT count(*) FROM tlsrpt.reports") == d.reports);
  CHECK(sql_int(db_url, "SELECT coalesce(sum(policy_count), 0) FROM tlsrpt.reports") == d.policies);
  CHECK(sql_int(db_url, "SELECT count(*) FROM tlsrpt.policies") == d.policies);
  CHECK(sql_int(db_url, "SELECT coalesce(sum(successful_sessions), 0) FROM tlsrpt.policies") ==
        d.successful_sessions);
  CHECK(sql_int(db_url, "SELECT coalesce(sum(failed_sessions), 0) FROM tlsrpt.policies") ==
        d.failed_sessions);
  CHECK(sql_int(db_url, "SELECT coalesce(sum(successful_sessions), 0) FROM tlsrpt.reports") ==
        d.successful_sessions);
  CHECK(sql_int(db_url, "SELECT coalesce(sum(failed_sessions), 0) FROM tlsrpt.reports") ==
        d.failed_sessions);
  CHECK(sql_int(db_url, "SELECT count(*) FROM tlsrpt.failure_details") == d.failure_details);
  CHECK(sql_int(db_url, "SELECT count(*) FROM tlsrpt.conflicts") == 0);

  // The ledger: one finished row per message, the right outcome, broken ones with their error.
  const std::string where = "FROM tlsrpt.messages WHERE source = '" + mailbox + "'";
  CHECK(sql_int(db_url, "SELECT count(*) " + where) == t.messages);
  CHECK(sql_int(db_url, "SELECT count(*) " + where + " AND outcome IS NULL") == 0);
  CHECK(sql_int(db_url, "SELECT count(*) " + where + " AND outcome = 'stored'") == t.reports);
  CHECK(sql_int(db_url, "SELECT count(*) " + where + " AND outcome = 'rejected'") == t.broken);
  CHECK(sql_int(db_url, "SELECT count(*) " + where + " AND outcome = 'not_a_report'") ==
        t.not_a_report);
  CHECK(sql_int(db_url, "SELECT count(*) " + where +
                            " AND outcome = 'rejected' AND coalesce(error, '') = ''") == 0);
  CHECK(sql_int(db_url, "SELECT count(*) " + where +
                            " AND outcome = 'stored' AND cardinality(report_refs) <> 1") == 0);
  // Every stored report belongs to exactly one stored ledger row.
  CHECK(sql_int(db_url,
                "SELECT count(DISTINCT r) FROM tlsrpt.messages, unnest(report_refs) r "
                "WHERE outcome = 'stored' AND source = '" +
                    mailbox + "'") == t.reports);

  // The mailbox: the right keyword on each, ordinary mail untouched and still unread.
  CHECK(f.search("ALL").size() == static_cast<std::size_t>(t.messages));
  CHECK(f.search("KEYWORD $TLSRPTProcessed").size() == static_cast<std::size_t>(t.reports));
  CHECK(f.search("KEYWORD $TLSRPTProcessed UNSEEN").empty());
  CHECK(f.search("KEYWORD $TLSRPTFailed").size() == static_cast<std::size_t>(t.broken));
  CHECK(f.search("KEYWORD $TLSRPTFailed KEYWORD $TLSRPTProcessed").empty());
  CHECK(f.search("UNKEYWORD $TLSRPTProcessed UNKEYWORD $TLSRPTFailed").size() ==
        static_cast<std::size_t>(t.not_a_report));
  CHECK(f.search("UNKEYWORD $TLSRPTProcessed UNKEYWORD $TLSRPTFailed SEEN").empty());
  CHECK(f.search("KEYWORD $TLSRPTFailed SEEN").empty());
}

}  // namespace tlsrpt::e2e
