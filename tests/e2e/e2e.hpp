// SPDX-License-Identifier: Apache-2.0
// The end-to-end harness: the built tlsrpt-collector and tlsrpt-gen as a user runs them, a
// Dovecot folder filled straight through its Maildir (a Cyrus folder through APPEND, when the
// suite runs against Cyrus: TLSRPT_TEST_IMAP_SERVER), a scratch PostgreSQL database, and the
// end check every scenario shares (nothing lost, nothing counted twice). Checks read the
// mailbox with curl(1) and the database with psql(1), never through the project's own modules,
// so a bug in a module cannot hide itself.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tlsrpt::e2e {

namespace fs = std::filesystem;

// Connection details of one harness instance (the shared one, or a private one).
struct services {
  std::string pg_admin_url;  // .../postgres, as a superuser
  std::string imap_host;
  std::string imap_port;
  std::string password;
  fs::path mail_dir;  // <mail_dir>/<user>/Maildir (Dovecot's)
  std::string mail_user;
  bool cyrus = false;  // the IMAP side is the harness's Cyrus: mail goes in by APPEND

  static services shared();  // from the environment scripts/services.sh prints
};

// A private PostgreSQL + Dovecot (scripts/services.sh with its own state directory), for the
// faults that stop a server: the shared instance is never stopped. Stopped by the destructor.
class private_services {
 public:
  explicit private_services(const std::string& name);
  ~private_services();
  private_services(const private_services&) = delete;
  private_services& operator=(const private_services&) = delete;

  const services& env() const { return env_; }
  void start();          // starts whatever is down (services.sh start is idempotent)
  void stop_postgres();  // pg_ctl stop -m fast
  void kill_dovecot();   // SIGTERM to this instance's Dovecot master, waits for it to go

 private:
  fs::path state_;
  services env_;
};

// A scratch database on one instance, dropped by the destructor.
class database {
 public:
  explicit database(const services& s);
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string admin_;
  std::string name_;
  std::string url_;
};

// psql -qAtX with ON_ERROR_STOP; fails the test on error; returns the trimmed output.
std::string sql(const std::string& url, const std::string& statement);
std::int64_t sql_int(const std::string& url, const std::string& statement);

// A fresh IMAP folder of `user` (created over IMAP, deleted by the destructor).
class folder {
 public:
  folder(const services& s, std::string user, const std::string& label);
  ~folder();
  folder(const folder&) = delete;
  folder& operator=(const folder&) = delete;

  const std::string& name() const { return name_; }
  const std::string& user() const { return user_; }
  const services& server() const { return s_; }
  fs::path maildir() const;  // the folder's Maildir directory (Dovecot)
  std::string imap_url() const;

  // Delivers one message as a Maildir file named `base` (unique), unread in new/ or read in cur/
  // (on Cyrus: APPENDed, with \Seen when `seen`).
  void deliver(const std::string& base, const std::string& bytes, bool seen = false) const;
  // APPENDs the files in order, over one connection (tests/harness/imap_append.py).
  void append_files(const std::vector<fs::path>& files, bool seen = false) const;
  // UID -> the Maildir base name, from Dovecot's dovecot-uidlist (after a SELECT). Dovecot only.
  std::map<std::uint32_t, std::string> uid_names() const;
  // UIDs matching an IMAP SEARCH criteria (UID SEARCH RETURN (ALL) ...), ascending.
  std::vector<std::uint32_t> search(const std::string& criteria) const;
  // Any IMAP command on this folder (after SELECT); the server's untagged answer.
  std::string command(const std::string& cmd) const;

 private:
  services s_;
  std::string user_;
  std::string name_;
};

// What tlsrpt-gen says a collector must end up with.
struct gen_totals {
  std::int64_t messages = 0, reports = 0, policies = 0, successful_sessions = 0,
               failed_sessions = 0, failure_details = 0, not_a_report = 0, broken = 0;
};
struct gen_options {
  std::size_t count = 0;
  std::uint64_t seed = 1;
  std::size_t start = 0;
  double not_a_report = 0.03;
  double broken = 0.02;
};
// Writes the mails into the folder's Maildir (new/, owned by the mail user); on Cyrus, APPENDs
// them in the generator's order.
gen_totals generate_into(const folder& f, const gen_options& o, const std::string& mail_user);
// Writes them as .eml files (NNNNNNNN-<kind>.eml) into `dir`.
gen_totals generate_eml(const fs::path& dir, const gen_options& o);

// A directory under the build tree, removed with everything in it.
class scratch_dir {
 public:
  explicit scratch_dir(const std::string& label);
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A configuration file for one mailbox (`name`) on folder `f` of instance `s`, database `db`.
// `mailbox_extra` is YAML appended to the mailbox (indented by four spaces).
fs::path write_config(const fs::path& dir, const services& s, const database& db, const folder& f,
                      const std::string& name, const std::string& mailbox_extra = "");

// The collector as a child process.
struct proc_result {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  long max_rss_kib = 0;
  std::string err;  // its stderr
  std::string out;  // its stdout
};
struct proc_options {
  std::optional<std::chrono::milliseconds> kill_after;  // SIGKILL after this long
  std::function<bool()> kill_when;    // SIGKILL once this says so (asked while it runs)
  std::chrono::seconds timeout{240};  // SIGKILL, and the test fails
  std::vector<std::string> env;       // extra NAME=value
  fs::path stdin_file;                // default /dev/null
  bool under_valgrind = false;
};
const char* collector_bin();
const char* generator_bin();
pid_t start_collector(const std::vector<std::string>& args, const proc_options& o,
                      const fs::path& out_dir, const std::string& tag);
proc_result wait_collector(pid_t pid, const proc_options& o, const fs::path& out_dir,
                           const std::string& tag);
proc_result run_collector(const std::vector<std::string>& args, const proc_options& o = {});

// The end check of every scenario: every generated report stored once with the generator's
// totals, every message acknowledged with its action, every broken one failed with its error,
// ordinary mail untouched (no keyword, still unread), however many passes died midway: the
// fetch is BODY.PEEK[] and nothing else touches the read state (issue 17).
// `database_totals`: what the whole database holds when several mailboxes share it (default:
// this mailbox's `t`).
void check_end_state(const std::string& db_url, const folder& f, const std::string& mailbox,
                     const gen_totals& t, const gen_totals* database_totals = nullptr);
// Field by field, for database_totals.
gen_totals operator+(const gen_totals& a, const gen_totals& b);

}  // namespace tlsrpt::e2e
