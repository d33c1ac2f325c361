// SPDX-License-Identifier: Apache-2.0
// The batch FETCH over the raw command channel, against a fake server that misbehaves the
// ways Dovecot cannot be made to: split and oversized literals, UIDs not asked for, a BYE
// mid-answer, stalls, literal sizes that overflow.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fake_server.hpp"
#include "tlsrpt/imap/curl_mailbox.hpp"

namespace {

using tlsrpt::imap::connection_options;
using tlsrpt::imap::curl_mailbox;
using tlsrpt::imap::fetched_message;
using tlsrpt::test::fake_imap_server;

const tlsrpt::imap::library curl_library;

std::string message(std::uint32_t uid, std::size_t pad = 0) {
  return "From: r@example.net\r\nSubject: report " + std::to_string(uid) + "\r\n\r\n" +
         std::string(pad, 'x') + "\r\n";
}

std::string fetch_line(std::uint32_t seq, std::uint32_t uid, const std::string& body) {
  return "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(uid) + " RFC822.SIZE " +
         std::to_string(body.size()) + " FLAGS () BODY[] {" + std::to_string(body.size()) +
         "}\r\n" + body + ")\r\n";
}

// A server whose UID FETCH answer is `fetch_reply(tag)`; the rest is the standard one.
fake_imap_server::responder with_fetch(std::function<std::string(const std::string&)> fetch_reply) {
  return [fetch_reply = std::move(fetch_reply)](const std::string& line) -> std::string {
    const auto tag = line.substr(0, line.find(' '));
    if (line.find(" UID FETCH ") != std::string::npos &&
        line.find("BODY.PEEK[]") != std::string::npos)
      return fetch_reply(tag);
    return fake_imap_server::standard("IMAP4rev1 AUTH=PLAIN SASL-IR")(line);
  };
}

connection_options options_for(const fake_imap_server& server) {
  connection_options o;
  o.url = server.url();
  o.username = "t1";
  o.password = "pw";
  o.allow_plaintext = true;
  o.connect_timeout = std::chrono::seconds(5);
  o.operation_timeout = std::chrono::seconds(5);
  return o;
}

std::map<std::uint32_t, fetched_message> fetch_all(curl_mailbox& m,
                                                   const std::vector<std::uint32_t>& uids) {
  std::map<std::uint32_t, fetched_message> got;
  m.fetch_many(uids, [&](fetched_message& f) {
    CHECK(got.count(f.uid) == 0);  // every UID once
    got[f.uid] = std::move(f);
    return true;
  });
  return got;
}

const std::string greeting = "* OK fake IMAP ready\r\n";

}  // namespace

TEST_CASE("one FETCH per batch, literals split across every recv boundary, BODY.PEEK asked") {
  fake_imap_server server(greeting, with_fetch([](const std::string& tag) {
                            return fetch_line(1, 10, message(10, 3000)) +
                                   fetch_line(2, 11, message(11)) +
                                   fetch_line(3, 12, message(12, 70000)) + tag + " OK done\r\n";
                          }));
  server.chunked(7);  // 7-octet pieces: every literal and line boundary falls mid-piece
  curl_mailbox m(options_for(server));
  m.select("INBOX");
  const auto got = fetch_all(m, {10, 11, 12});
  REQUIRE(got.size() == 3);
  CHECK(got.at(10).raw == message(10, 3000));
  CHECK(got.at(11).raw == message(11));
  CHECK(got.at(12).raw == message(12, 70000));
  for (const auto& [uid, f] : got) {
    CHECK_FALSE(f.error);
    CHECK_FALSE(f.oversized);
  }
  int fetches = 0;
  for (const auto& l : server.received()) {
    if (l.find("UID FETCH") == std::string::npos) continue;
    ++fetches;
    CHECK(l.find(" UID FETCH 10:12 (UID RFC822.SIZE FLAGS BODY.PEEK[])") != std::string::npos);
  }
  CHECK(fetches == 1);
}

TEST_CASE("a message over the limit is read past, unheld, and the next one still arrives") {
  fake_imap_server server(greeting, with_fetch([](const std::string& tag) {
                            return fetch_line(1, 1, message(1, 5000)) +
                                   fetch_line(2, 2, message(2)) + tag + " OK done\r\n";
                          }));
  auto o = options_for(server);
  o.max_message_bytes = 1000;
  curl_mailbox m(o);
  m.select("INBOX");
  const auto got = fetch_all(m, {1, 2});
  REQUIRE(got.size() == 2);
  CHECK(got.at(1).oversized);
  CHECK(got.at(1).raw.empty());
  CHECK(got.at(1).size == message(1, 5000).size());
  CHECK(got.at(2).raw == message(2));
}

TEST_CASE("a FETCH for a UID not asked for is ignored and the UID asked gets an error") {
  fake_imap_server server(greeting, with_fetch([](const std::string& tag) {
                            return fetch_line(1, 101, message(101)) +  // asked: 1, 2
                                   fetch_line(2, 2, message(2)) +
                                   fetch_line(3, 2, message(999)) +  // 2 again: the first stands
                                   "* 4 FETCH (UID 1 FLAGS (\\Seen))\r\n" +  // a flag update
                                   tag + " OK done\r\n";
                          }));
  curl_mailbox m(options_for(server));
  m.select("INBOX");
  const auto got = fetch_all(m, {1, 2});
  REQUIRE(got.size() == 2);
  CHECK(got.count(101) == 0);
  REQUIRE(got.at(1).error);
  CHECK(got.at(1).error->find("no usable answer") != std::string::npos);
  CHECK(got.at(1).raw.empty());
  CHECK(got.at(2).raw == message(2));
}

TEST_CASE("a FETCH with a {9x9} literal is not trusted; the session goes on") {
  fake_imap_server server(greeting, with_fetch([](const std::string& tag) {
                            return "* 1 FETCH (UID 1 BODY[] {9x9}\r\n" +
                                   fetch_line(2, 2, message(2)) + tag + " OK done\r\n";
                          }));
  curl_mailbox m(options_for(server));
  m.select("INBOX");
  const auto got = fetch_all(m, {1, 2});
  REQUIRE(got.size() == 2);
  CHECK(got.at(1).error);
  CHECK(got.at(2).raw == message(2));
  CHECK(m.has_capability("IMAP4rev1"));  // still talking on the same connection
}

TEST_CASE("a literal size that overflows drops the connection as a transient protocol error") {
  fake_imap_server server(greeting, with_fetch([](const std::string& tag) {
                            return "* 1 FETCH (UID 1 BODY[] {99999999999999999999999}\r\nxx)\r\n" +
                                   tag + " OK done\r\n";
                          }));
  curl_mailbox m(options_for(server));
  m.select("INBOX");
  try {
    fetch_all(m, {1});
    FAIL("no error");
  } catch (const tlsrpt::imap::error& e) {
    CHECK(e.transient());
    CHECK(std::string(e.what()).find("does not fit in 64 bits") != std::string::npos);
  }
  CHECK_FALSE(m.channel().is_open());
}

TEST_CASE("a BYE in the middle of a FETCH ends it as a transient error after what came before") {
  fake_imap_server server(greeting, with_fetch([](const std::string&) {
                            return fetch_line(1, 1, message(1)) + "* BYE server shutting down\r\n";
                          }));
  curl_mailbox m(options_for(server));
  m.select("INBOX");
  std::vector<std::uint32_t> delivered;
  try {
    m.fetch_many(std::vector<std::uint32_t>{1, 2}, [&](fetched_message& f) {
      delivered.push_back(f.uid);
      return true;
    });
    FAIL("no error");
  } catch (const tlsrpt::imap::error& e) {
    CHECK(e.transient());
    CHECK(std::string(e.what()).find("BYE server shutting down") != std::string::npos);
  }
  CHECK(delivered == std::vector<std::uint32_t>{1});
}

TEST_CASE("a FETCH that stalls mid-literal fails after operation_timeout as a timeout") {
  fake_imap_server server(greeting, with_fetch([](const std::string&) {
                            return "* 1 FETCH (UID 1 BODY[] {100}\r\nonly part" +
                                   std::string(fake_imap_server::stall);
                          }));
  auto o = options_for(server);
  o.operation_timeout = std::chrono::seconds(1);
  curl_mailbox m(o);
  m.select("INBOX");
  try {
    fetch_all(m, {1});
    FAIL("no error");
  } catch (const tlsrpt::imap::error& e) {
    CHECK(e.transient());
    CHECK(e.code() == 28);
    CHECK(std::string(e.what()).find("sent nothing for 1 s") != std::string::npos);
  }
}

TEST_CASE("the stop flag ends a stalled FETCH long before operation_timeout") {
  fake_imap_server server(greeting, with_fetch([](const std::string&) {
                            return "* 1 FETCH (UID 1 BODY[] {100}\r\npart" +
                                   std::string(fake_imap_server::stall);
                          }));
  std::atomic<bool> stop{false};
  auto o = options_for(server);
  o.operation_timeout = std::chrono::seconds(600);  // a broken stop check would hang the test
  o.stop = &stop;
  curl_mailbox m(o);
  m.select("INBOX");
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  try {
    fetch_all(m, {1});
    FAIL("no error");
  } catch (const tlsrpt::imap::error& e) {
    CHECK(e.transient());
    CHECK(std::string(e.what()).find("stopped") != std::string::npos);
  }
  setter.join();
}

TEST_CASE("a NO to the FETCH answers the UIDs it did not deliver with the server's text") {
  fake_imap_server server(greeting, with_fetch([](const std::string& tag) {
                            return fetch_line(1, 1, message(1)) + tag +
                                   " NO [SERVERBUG] Internal error\r\n";
                          }));
  curl_mailbox m(options_for(server));
  m.select("INBOX");
  const auto got = fetch_all(m, {1, 2});
  REQUIRE(got.size() == 2);
  CHECK(got.at(1).raw == message(1));
  REQUIRE(got.at(2).error);
  CHECK(got.at(2).error->find("NO [SERVERBUG] Internal error") != std::string::npos);
}

TEST_CASE("a caller that takes no more stops the deliveries; the answer is read to its end") {
  fake_imap_server server(greeting, with_fetch([](const std::string& tag) {
                            return fetch_line(1, 1, message(1)) + fetch_line(2, 2, message(2)) +
                                   fetch_line(3, 3, message(3)) + tag + " OK done\r\n";
                          }));
  curl_mailbox m(options_for(server));
  m.select("INBOX");
  std::vector<std::uint32_t> delivered;
  m.fetch_many(std::vector<std::uint32_t>{1, 2, 3}, [&](fetched_message& f) {
    delivered.push_back(f.uid);
    return false;
  });
  CHECK(delivered == std::vector<std::uint32_t>{1});
  CHECK(m.has_capability("IMAP4rev1"));  // the connection is in step
}
