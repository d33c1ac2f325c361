// SPDX-License-Identifier: Apache-2.0
// The libcurl client against the harness's real Dovecot, over IMAP and IMAPS, and the same
// cases against its Cyrus (ctest's "imap_tests [cyrus]: ..."). Users t1..t4, each test in
// folders of its own, created and deleted by the test.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/support.hpp"
#include "tlsrpt/imap/curl_mailbox.hpp"

namespace {

using namespace std::chrono_literals;
using tlsrpt::imap::connection_options;
using tlsrpt::imap::curl_mailbox;
using tlsrpt::imap::message_ref;
using tlsrpt::test::require_env;

const tlsrpt::imap::library curl_library;

connection_options plain(const std::string& user) {
  connection_options o;
  o.url = "imap://" + require_env("TLSRPT_TEST_IMAP_HOST") + ":" +
          require_env("TLSRPT_TEST_IMAP_PORT") + "/";
  o.username = user;
  o.password = require_env("TLSRPT_TEST_IMAP_PASSWORD");
  o.allow_plaintext = true;
  o.connect_timeout = 10s;
  o.operation_timeout = 30s;
  return o;
}

connection_options imaps(const std::string& user) {
  auto o = plain(user);
  o.url = "imaps://localhost:" + require_env("TLSRPT_TEST_IMAPS_PORT") + "/";
  o.allow_plaintext = false;
  o.ca_file = require_env("TLSRPT_TEST_CA_FILE");
  return o;
}

std::string unique_name(const std::string& stem) {
  static std::atomic<int> counter{0};
  return "test-" + stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// A folder for one test; deleted, with whatever is in it, when the test ends.
class scratch_folder {
 public:
  scratch_folder(connection_options o, const std::string& stem, bool create = true)
      : options_(std::move(o)), name_(unique_name(stem)) {
    if (create) {
      curl_mailbox m(options_);
      REQUIRE(m.create_folder(name_));
    }
  }
  ~scratch_folder() {
    try {
      curl_mailbox m(options_);
      m.delete_folder(name_);
    } catch (const tlsrpt::imap::error&) {  // never created (a move target a test expected)
    }
  }
  scratch_folder(const scratch_folder&) = delete;
  scratch_folder& operator=(const scratch_folder&) = delete;
  const std::string& name() const { return name_; }

 private:
  connection_options options_;
  std::string name_;
};

std::string message(int n, std::size_t body_bytes = 300) {
  std::string m = "From: reporter@example.net\r\nTo: tlsrpt@example.org\r\nSubject: message " +
                  std::to_string(n) + "\r\nMessage-ID: <" + std::to_string(n) +
                  "@example.net>\r\n\r\n";
  while (m.size() < body_bytes) m += "line " + std::to_string(m.size()) + " of the body\r\n";
  return m;
}

std::vector<std::uint32_t> uids_of(const std::vector<message_ref>& refs) {
  std::vector<std::uint32_t> u;
  for (const auto& r : refs) u.push_back(r.uid);
  return u;
}

std::size_t logins(const std::string& user) {
  const auto log = tlsrpt::test::read_file(std::filesystem::path(require_env("TLSRPT_STATE_DIR")) /
                                           "dovecot" / "dovecot.log");
  const std::string needle = "Login: user=<" + user + ">";
  std::size_t n = 0;
  for (auto p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) ++n;
  return n;
}

// Dovecot writes its log through a separate process: give it a moment.
std::size_t logins_settled(const std::string& user) {
  std::this_thread::sleep_for(300ms);
  return logins(user);
}

std::string last_login_line(const std::string& user) {
  std::this_thread::sleep_for(300ms);
  const auto log = tlsrpt::test::read_file(std::filesystem::path(require_env("TLSRPT_STATE_DIR")) /
                                           "dovecot" / "dovecot.log");
  const auto p = log.rfind("Login: user=<" + user + ">");
  if (p == std::string::npos) return {};
  return log.substr(p, log.find('\n', p) - p);
}

tlsrpt::imap::error expect_error(auto&& f) {
  try {
    f();
  } catch (const tlsrpt::imap::error& e) {
    return e;
  }
  FAIL("no imap::error was thrown");
  return tlsrpt::imap::error("", 0, false);
}

}  // namespace

TEST_CASE("select reads UIDVALIDITY, EXISTS and UIDNEXT of a folder over IMAP and IMAPS") {
  for (const auto& o : {plain("t1"), imaps("t1")}) {
    CAPTURE(o.url);
    scratch_folder f(o, "select");
    curl_mailbox m(o);
    const auto empty = m.select(f.name());
    CHECK(empty.uidvalidity != 0);
    CHECK(empty.exists == 0);
    CHECK(empty.uidnext == 1);
    m.append(f.name(), message(1));
    m.append(f.name(), message(2));
    const auto two = m.select(f.name());
    CHECK(two.uidvalidity == empty.uidvalidity);
    CHECK(two.exists == 2);
    CHECK(two.uidnext == 3);
    CHECK(m.folder() == f.name());
    CHECK(m.state().exists == 2);
  }
}

TEST_CASE("selecting a folder that does not exist is a clear error with the server's answer") {
  curl_mailbox m(plain("t1"));
  const auto e = expect_error([&] { m.select("no-such-folder-here"); });
  CHECK(e.code() == 0);
  CHECK_FALSE(e.transient());
  CHECK_MESSAGE(std::string(e.what()).starts_with("imap: cannot SELECT no-such-folder-here: NO"),
                e.what());
}

TEST_CASE("fetched messages are byte-exact copies of what was appended, over IMAP and IMAPS") {
  const auto sample =
      tlsrpt::test::read_file(tlsrpt::test::data_dir() / "imap" / "8bit-notice.eml");
  REQUIRE(sample.size() > 1000);
  for (const auto& o : {plain("t1"), imaps("t1")}) {
    CAPTURE(o.url);
    scratch_folder f(o, "fetch");
    curl_mailbox m(o);
    const auto uid1 = m.append(f.name(), sample);
    const auto big = message(7, 3 * 1024 * 1024);  // larger than any libcurl buffer
    const auto uid2 = m.append(f.name(), big);
    CHECK(uid2 == uid1 + 1);
    m.select(f.name());
    CHECK(m.fetch(uid1) == sample);
    CHECK(m.fetch(uid2) == big);
    CHECK(m.fetch(uid1) == sample);  // and again, on the same connection
  }
}

TEST_CASE("a fetch of a UID that is not there is a clear, non-transient error") {
  const auto o = plain("t1");
  scratch_folder f(o, "fetch-missing");
  curl_mailbox m(o);
  m.select(f.name());
  const auto e = expect_error([&] { m.fetch(4711); });
  CHECK_FALSE(e.transient());
  CHECK_MESSAGE(
      std::string(e.what()).starts_with("imap: cannot UID FETCH 4711 from " + f.name() + ": "),
      e.what());
}

TEST_CASE("a message over the size limit is refused by fetch, and the pass goes on") {
  const auto o = plain("t1");
  scratch_folder f(o, "limit");
  auto limited = o;
  limited.max_message_bytes = 10000;
  curl_mailbox m(limited);
  const auto small = m.append(f.name(), message(1, 500));
  const auto big = m.append(f.name(), message(2, 20000));
  m.select(f.name());
  const auto e = expect_error([&] { m.fetch(big); });
  CHECK_FALSE(e.transient());
  CHECK_MESSAGE(std::string(e.what()).find("larger than the limit of 10000") != std::string::npos,
                e.what());
  CHECK(m.fetch(small) == message(1, 500));
}

TEST_CASE("search leaves out messages with the excluded keywords and reports size and seen") {
  const auto o = plain("t2");
  scratch_folder f(o, "search");
  curl_mailbox m(o);
  std::vector<std::uint32_t> uids;
  for (int i = 0; i < 6; ++i)
    uids.push_back(m.append(f.name(), message(i, static_cast<std::size_t>(400 + 100 * i))));
  // Flags as the collector leaves them: 1 processed, 3 failed, 4 read but not processed.
  m.select(f.name());
  m.add_flags(std::vector<std::uint32_t>{uids[1]}, {"$TLSRPTProcessed", "\\Seen"});
  m.add_flags(std::vector<std::uint32_t>{uids[3]}, {"$TLSRPTFailed"});
  m.add_flags(std::vector<std::uint32_t>{uids[4]}, {"\\Seen"});

  const auto refs = m.search({"$TLSRPTProcessed", "$TLSRPTFailed"});
  CHECK(uids_of(refs) == std::vector<std::uint32_t>{uids[0], uids[2], uids[4], uids[5]});
  REQUIRE(refs.size() == 4);
  CHECK(refs[0].size == message(0, 400).size());
  CHECK(refs[1].size == message(2, 600).size());
  CHECK_FALSE(refs[0].seen);
  CHECK(refs[2].seen);
  CHECK_FALSE(refs[3].seen);

  const auto all = m.search({});
  CHECK(uids_of(all) == uids);
}

TEST_CASE("flags are added to and removed from a set of messages") {
  const auto o = imaps("t2");
  scratch_folder f(o, "flags");
  curl_mailbox m(o);
  std::vector<std::uint32_t> uids;
  for (int i = 0; i < 8; ++i) uids.push_back(m.append(f.name(), message(i)));
  m.select(f.name());
  const std::vector<std::uint32_t> some{uids[0], uids[1], uids[2], uids[5], uids[7]};
  m.add_flags(some, {"$TLSRPTProcessed", "\\Seen"});
  CHECK(uids_of(m.search({"$TLSRPTProcessed"})) ==
        std::vector<std::uint32_t>{uids[3], uids[4], uids[6]});

  const std::vector<std::uint32_t> back{uids[1], uids[5]};
  m.remove_flags(back, {"$TLSRPTProcessed", "\\Seen"});
  const auto left = m.search({"$TLSRPTProcessed"});
  CHECK(uids_of(left) == std::vector<std::uint32_t>{uids[1], uids[3], uids[4], uids[5], uids[6]});
  for (const auto& r : left) CHECK_FALSE(r.seen);

  // Another client sees the same flags: they are on the server, not in our connection.
  curl_mailbox other(o);
  other.select(f.name());
  CHECK(uids_of(other.search({"$TLSRPTProcessed"})) == uids_of(left));
}

TEST_CASE("append sets exactly the flags asked for, unread by default") {
  const auto o = plain("t2");
  scratch_folder f(o, "append");
  curl_mailbox m(o);
  const auto unread = m.append(f.name(), message(1));
  const auto read = m.append(f.name(), message(2), {"\\Seen"});
  const auto marked = m.append(f.name(), message(3), {"$TLSRPTFailed"});
  m.select(f.name());
  const auto refs = m.search({"$TLSRPTFailed"});
  REQUIRE(uids_of(refs) == std::vector<std::uint32_t>{unread, read});
  CHECK_FALSE(refs[0].seen);
  CHECK(refs[1].seen);
  CHECK(uids_of(m.search({})) == std::vector<std::uint32_t>{unread, read, marked});
}

TEST_CASE("messages move with MOVE to a target folder that is created when missing") {
  const auto o = plain("t2");
  scratch_folder src(o, "move-src");
  scratch_folder dst(o, "move-dst", false);
  curl_mailbox m(o);
  REQUIRE(m.has_capability("MOVE"));
  std::vector<std::uint32_t> uids;
  for (int i = 0; i < 5; ++i) uids.push_back(m.append(src.name(), message(i)));
  m.select(src.name());
  const std::vector<std::uint32_t> moving{uids[0], uids[1], uids[3]};
  m.move(moving, dst.name());
  CHECK(uids_of(m.search({})) == std::vector<std::uint32_t>{uids[2], uids[4]});
  m.move(std::vector<std::uint32_t>{uids[2]}, dst.name());  // the target now exists

  curl_mailbox check(o);
  const auto st = check.select(dst.name());
  CHECK(st.exists == 4);
  const auto moved = check.search({});
  REQUIRE(moved.size() == 4);
  CHECK(check.fetch(moved[0].uid) == message(0));
  CHECK(check.fetch(moved[2].uid) == message(3));
}

TEST_CASE(
    "without MOVE, COPY and UID EXPUNGE move exactly the given messages and spare other "
    "clients' deleted mail") {
  auto o = plain("t3");
  o.use_move = false;
  scratch_folder src(o, "copy-src");
  scratch_folder dst(o, "copy-dst", false);
  std::vector<std::string> trace;
  auto traced = o;
  traced.verbose = true;
  traced.trace = [&](std::string_view l) { trace.emplace_back(l); };
  curl_mailbox m(traced);
  std::vector<std::uint32_t> uids;
  for (int i = 0; i < 4; ++i) uids.push_back(m.append(src.name(), message(i)));
  // "Another client" marked message 3 deleted but has not expunged it yet.
  {
    curl_mailbox other(plain("t3"));
    other.select(src.name());
    other.add_flags(std::vector<std::uint32_t>{uids[3]}, {"\\Deleted"});
  }
  m.select(src.name());
  m.move(std::vector<std::uint32_t>{uids[0], uids[1]}, dst.name());

  CHECK(uids_of(m.search({})) == std::vector<std::uint32_t>{uids[2], uids[3]});
  const auto has = [&](std::string_view s) {
    return std::any_of(trace.begin(), trace.end(),
                       [&](const std::string& l) { return l.find(s) != std::string::npos; });
  };
  CHECK(has("UID COPY "));
  CHECK(has("UID EXPUNGE "));
  CHECK_FALSE(has("UID MOVE "));
  curl_mailbox check(plain("t3"));
  CHECK(check.select(dst.name()).exists == 2);
}

TEST_CASE("create_folder says whether it created the folder") {
  const auto o = plain("t3");
  scratch_folder f(o, "create", false);
  curl_mailbox m(o);
  CHECK(m.create_folder(f.name()));
  CHECK_FALSE(m.create_folder(f.name()));
  CHECK(m.select(f.name()).exists == 0);
}

TEST_CASE("a wrong password is a clear, non-transient login error") {
  auto o = plain("t3");
  o.password = "wrong-password";
  curl_mailbox m(o);
  const auto e = expect_error([&] { m.select("INBOX"); });
  CHECK(e.code() == 67);  // CURLE_LOGIN_DENIED, not a timeout (28): no hang
  CHECK_FALSE(e.transient());
  const std::string what = e.what();
  CHECK_MESSAGE(what.starts_with("imap: cannot log in as t3 at imap://"), what);
  CHECK_MESSAGE(what.find("server said: ") != std::string::npos, what);
  // Dovecot answers with the RFC 5530 code; Cyrus 3.6 (which taught us not to count on one)
  // with a bare "NO authentication failure".
  if (tlsrpt::test::current_imap_server() == tlsrpt::test::imap_server::cyrus)
    CHECK_MESSAGE(what.find("authentication failure") != std::string::npos, what);
  else
    CHECK_MESSAGE(what.find("AUTHENTICATIONFAILED") != std::string::npos, what);
  CHECK(what.find("wrong-password") == std::string::npos);
}

TEST_CASE("a server that is down is a transient error") {
  // A port that was free a moment ago: bind, read the port, close.
  auto o = plain("t3");
  const auto r = tlsrpt::test::run(
      "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
      "print(s.getsockname()[1])'");
  REQUIRE(r.status == 0);
  o.url = "imap://127.0.0.1:" + r.out.substr(0, r.out.find('\n')) + "/";
  curl_mailbox m(o);
  const auto e = expect_error([&] { m.select("INBOX"); });
  CHECK(e.transient());
  CHECK(e.code() == 7);  // CURLE_COULDNT_CONNECT
  // Issue 14: the phase that failed, not the command that needed the connection.
  CHECK_MESSAGE(std::string(e.what()).starts_with("imap: cannot connect to " + o.url + ": "),
                e.what());
}

TEST_CASE("an untrusted server certificate is refused with the host named") {
  auto no_ca = imaps("t3");
  no_ca.ca_file.clear();  // the system store does not know the harness's CA
  auto other_ca = imaps("t3");
  other_ca.ca_file =
      (std::filesystem::path(require_env("TLSRPT_STATE_DIR")) / "tls" / "untrusted.pem").string();
  auto starttls = plain("t3");
  starttls.allow_plaintext = false;
  starttls.url = "imap://localhost:" + require_env("TLSRPT_TEST_IMAP_PORT") + "/";
  for (const auto& o : {no_ca, other_ca, starttls}) {
    CAPTURE(o.url);
    curl_mailbox m(o);
    const auto e = expect_error([&] { m.select("INBOX"); });
    CHECK(e.code() == 60);  // CURLE_PEER_FAILED_VERIFICATION
    CHECK_FALSE(e.transient());
    CHECK_MESSAGE(std::string(e.what()).find("the TLS certificate of localhost is not trusted") !=
                      std::string::npos,
                  e.what());
  }
}

TEST_CASE("imap:// without allow_plaintext logs in only after STARTTLS") {
  auto o = plain("t3");
  o.allow_plaintext = false;
  o.ca_file = require_env("TLSRPT_TEST_CA_FILE");
  // Cyrus logs to syslog only: whether a login was under TLS is read from Dovecot's log.
  const bool log = tlsrpt::test::current_imap_server() == tlsrpt::test::imap_server::dovecot;
  curl_mailbox m(o);
  CHECK(m.select("INBOX").uidvalidity != 0);
  if (log) {
    const auto line = last_login_line("t3");
    CHECK_MESSAGE(line.find(", TLS,") != std::string::npos, line);
  }

  auto clear = plain("t3");
  curl_mailbox c(clear);
  CHECK(c.select("INBOX").uidvalidity != 0);
  if (log) {
    const auto clear_line = last_login_line("t3");
    CHECK_MESSAGE(clear_line.find(", TLS,") == std::string::npos, clear_line);
  }
}

TEST_CASE("a whole pass logs in once") {
  TLSRPT_TEST_ONLY_ON(dovecot, "logins are counted in Dovecot's log");
  const auto o = plain("t1");
  scratch_folder f(o, "one-login");
  scratch_folder target(o, "one-login-target", false);
  {
    curl_mailbox setup(o);
    for (int i = 0; i < 10; ++i) setup.append(f.name(), message(i));
  }
  const auto before = logins_settled("t1");
  {
    curl_mailbox m(o);
    m.select(f.name());
    const auto refs = m.search({"$TLSRPTProcessed"});
    REQUIRE(refs.size() == 10);
    std::vector<std::uint32_t> done;
    for (const auto& r : refs) {
      CHECK(!m.fetch(r.uid).empty());
      done.push_back(r.uid);
    }
    m.add_flags(done, {"$TLSRPTProcessed"});
    m.remove_flags(done, {"\\Seen"});
    m.move(std::vector<std::uint32_t>{done[0]}, target.name());
    m.select(f.name());
    CHECK(m.search({"$TLSRPTProcessed"}).empty());
  }
  CHECK(logins_settled("t1") == before + 1);
}

TEST_CASE("a message appended during a pass is found by the next search") {
  const auto o = plain("t4");
  scratch_folder f(o, "arrival");
  curl_mailbox m(o);
  const auto first = m.append(f.name(), message(1));
  m.select(f.name());
  CHECK(uids_of(m.search({})) == std::vector<std::uint32_t>{first});
  std::uint32_t second = 0;
  {
    curl_mailbox deliverer(o);
    second = deliverer.append(f.name(), message(2));
  }
  CHECK(uids_of(m.search({})) == std::vector<std::uint32_t>{first, second});
  CHECK(m.fetch(second) == message(2));
}

TEST_CASE("UIDVALIDITY changes when the folder is deleted and created again") {
  const auto o = plain("t4");
  scratch_folder folder(o, "uidvalidity", false);
  const auto& name = folder.name();
  std::uint32_t before = 0;
  {
    curl_mailbox m(o);
    m.create_folder(name);
    m.append(name, message(1));
    before = m.select(name).uidvalidity;
  }
  {
    curl_mailbox admin(o);
    admin.delete_folder(name);
    // Dovecot derives UIDVALIDITY from the clock: make sure a second passes.
    std::this_thread::sleep_for(1100ms);
    admin.create_folder(name);
    admin.append(name, message(2));
  }
  curl_mailbox m(o);
  const auto after = m.select(name);
  CHECK(after.uidvalidity != before);
  CHECK(after.exists == 1);
  CHECK(m.fetch(m.search({}).at(0).uid) == message(2));
}

// Cyrus taught us the reader must not count on Dovecot's order of FETCH items: Cyrus 3.6
// puts the UID after the flags ("* 1 FETCH (FLAGS (\Recent \Seen) UID 1)"), and adds
// \Recent, which no STORE of ours may touch.
TEST_CASE("a batch FETCH streams every message byte-exact and leaves the read state alone") {
  for (const auto& o : {plain("t2"), imaps("t2")}) {
    CAPTURE(o.url);
    scratch_folder f(o, "batch");
    curl_mailbox m(o);
    std::vector<std::string> sent;
    std::vector<std::uint32_t> uids;
    for (int i = 0; i < 60; ++i) {
      // Sizes from a few hundred octets to 400 KB, so literals cross every read boundary.
      sent.push_back(message(i, 300 + static_cast<std::size_t>(i) * 7000));
      uids.push_back(
          m.append(f.name(), sent.back(),
                   i % 3 == 0 ? std::vector<std::string>{"\\Seen"} : std::vector<std::string>{}));
    }
    m.select(f.name());
    std::vector<std::uint32_t> got;
    m.fetch_many(uids, [&](tlsrpt::imap::fetched_message& fm) {
      const auto i =
          static_cast<std::size_t>(std::find(uids.begin(), uids.end(), fm.uid) - uids.begin());
      REQUIRE(i < sent.size());
      CHECK_FALSE(fm.error);
      CHECK(fm.raw == sent[i]);
      got.push_back(fm.uid);
      return true;
    });
    CHECK(got == uids);
    // BODY.PEEK[]: unread mail is still unread, read mail still read.
    const auto refs = m.search({});
    REQUIRE(refs.size() == 60);
    for (std::size_t i = 0; i < refs.size(); ++i) CHECK(refs[i].seen == (i % 3 == 0));
  }
}

TEST_CASE("imaps:// on the STARTTLS port says so, naming the TLS handshake") {
  auto o = imaps("t3");
  o.url = "imaps://127.0.0.1:" + require_env("TLSRPT_TEST_IMAP_PORT") + "/";
  curl_mailbox m(o);
  const auto e = expect_error([&] { m.select("INBOX"); });
  const std::string what = e.what();
  CHECK_FALSE(e.transient());
  CHECK_MESSAGE(what.starts_with("imap: cannot complete the TLS handshake with " + o.url), what);
  CHECK_MESSAGE(what.find("use imap://127.0.0.1:143/") != std::string::npos, what);
}

TEST_CASE("imap:// on the implicit-TLS port is recognised by the server's TLS answer") {
  auto o = plain("t3");
  o.url = "imap://127.0.0.1:" + require_env("TLSRPT_TEST_IMAPS_PORT") + "/";
  o.connect_timeout = 60s;  // detected after a quiet moment, long before this
  curl_mailbox m(o);
  const auto e = expect_error([&] { m.select("INBOX"); });
  const std::string what = e.what();
  CHECK_FALSE(e.transient());
  CHECK_MESSAGE(what.starts_with("imap: cannot read the greeting of " + o.url), what);
  CHECK_MESSAGE(what.find("speaks implicit TLS; use imaps://127.0.0.1:") != std::string::npos,
                what);
  o.url = "imap://127.0.0.1:993/";
  const auto e993 = expect_error([&] { curl_mailbox m993(o); });
  CHECK(std::string(e993.what()).find("port 993 speaks implicit TLS") != std::string::npos);
}
