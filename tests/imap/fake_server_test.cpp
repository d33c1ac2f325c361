// SPDX-License-Identifier: Apache-2.0
// The client against a fake server: what Dovecot in the harness cannot be made to do.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "fake_server.hpp"
#include "tlsrpt/imap/curl_mailbox.hpp"

namespace {

using tlsrpt::imap::connection_options;
using tlsrpt::imap::curl_mailbox;
using tlsrpt::test::fake_imap_server;

const tlsrpt::imap::library curl_library;

connection_options options_for(const fake_imap_server& server) {
  connection_options o;
  o.url = server.url();
  o.username = "t1";
  o.allow_plaintext = true;
  o.connect_timeout = std::chrono::seconds(5);
  o.operation_timeout = std::chrono::seconds(5);
  return o;
}

std::string base64_decode(const std::string& in) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (const char c : in) {
    const auto v = alphabet.find(c);
    if (v == std::string::npos) continue;  // padding
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xffU);
    }
  }
  return out;
}

const std::string greeting = "* OK fake IMAP ready\r\n";

}  // namespace

TEST_CASE("an OAuth2 token logs in with AUTHENTICATE XOAUTH2 carrying user and bearer") {
  fake_imap_server server(
      greeting,
      fake_imap_server::standard("IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER"));
  auto o = options_for(server);
  o.oauth2_token = "ya29.token-value";
  o.password = "not-used";
  std::vector<std::string> trace;
  o.verbose = true;
  o.trace = [&](std::string_view line) { trace.emplace_back(line); };
  {
    curl_mailbox m(o);
    CHECK(m.has_capability("IMAP4rev1"));
  }
  const auto lines = server.received();
  const auto auth = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find(" AUTHENTICATE ") != std::string::npos;
  });
  REQUIRE(auth != lines.end());
  const auto prefix = std::string(" AUTHENTICATE XOAUTH2 ");
  const auto at = auth->find(prefix);
  REQUIRE(at != std::string::npos);
  // The SASL XOAUTH2 initial response: user=<user>^Aauth=Bearer <token>^A^A.
  CHECK(base64_decode(auth->substr(at + prefix.size())) ==
        "user=t1\x01"
        "auth=Bearer ya29.token-value\x01\x01");
  for (const auto& l : lines) CHECK(l.find("LOGIN") == std::string::npos);
  // The trace shows the mechanism but not the token.
  CHECK(std::any_of(trace.begin(), trace.end(), [](const std::string& l) {
    return l.find("AUTHENTICATE XOAUTH2 [redacted]") != std::string::npos;
  }));
  for (const auto& l : trace) {
    CHECK(l.find("ya29") == std::string::npos);
    CHECK(l.find(auth->substr(at + prefix.size())) == std::string::npos);
  }
}

TEST_CASE("a verbose trace of a password login shows neither the password nor its encoding") {
  // No AUTH= mechanisms: libcurl falls back to LOGIN, where the password is plain text.
  fake_imap_server server(greeting, fake_imap_server::standard("IMAP4rev1"));
  auto o = options_for(server);
  o.password = "hunter2-secret";
  std::vector<std::string> trace;
  o.verbose = true;
  o.trace = [&](std::string_view line) { trace.emplace_back(line); };
  {
    curl_mailbox m(o);
    m.select("INBOX");
  }
  const auto lines = server.received();
  CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("LOGIN t1 hunter2-secret") != std::string::npos;
  }));
  CHECK(std::any_of(trace.begin(), trace.end(),
                    [](const std::string& l) { return l.ends_with("LOGIN [redacted]"); }));
  CHECK(std::any_of(trace.begin(), trace.end(),
                    [](const std::string& l) { return l.find("SELECT") != std::string::npos; }));
  for (const auto& l : trace) CHECK(l.find("hunter2") == std::string::npos);
}

TEST_CASE("without MOVE and without UIDPLUS a move is refused before anything is expunged") {
  fake_imap_server server(greeting, fake_imap_server::standard("IMAP4rev1 AUTH=PLAIN SASL-IR"));
  auto o = options_for(server);
  o.password = "pw";
  curl_mailbox m(o);
  const auto st = m.select("INBOX");
  CHECK(st.uidvalidity == 7);
  const std::vector<std::uint32_t> uids{1};
  try {
    m.move(uids, "Archive");
    FAIL("move did not throw");
  } catch (const tlsrpt::imap::error& e) {
    CHECK_FALSE(e.transient());
    CHECK(std::string(e.what()).find("neither MOVE nor UIDPLUS") != std::string::npos);
  }
  for (const auto& l : server.received()) {
    CHECK(l.find("EXPUNGE") == std::string::npos);
    CHECK(l.find("COPY") == std::string::npos);
    CHECK(l.find("\\Deleted") == std::string::npos);
  }
}

TEST_CASE("a server that accepts but never greets times out as a transient error") {
  fake_imap_server server("", fake_imap_server::standard("IMAP4rev1"));
  auto o = options_for(server);
  o.password = "pw";
  o.connect_timeout = std::chrono::seconds(1);
  curl_mailbox m(o);
  try {
    m.select("INBOX");
    FAIL("select did not throw");
  } catch (const tlsrpt::imap::error& e) {
    CHECK(e.transient());
    CHECK(e.code() == 28);  // CURLE_OPERATION_TIMEDOUT
    CHECK(std::string(e.what()).starts_with("imap: cannot read the greeting of " + o.url + ": "));
  }
}

TEST_CASE("a NO to a command is an error with code 0 and the server's text") {
  fake_imap_server server(greeting, [](const std::string& line) -> std::string {
    const auto tag = line.substr(0, line.find(' '));
    if (line.find("CREATE") != std::string::npos) return tag + " NO [NOPERM] Permission denied\r\n";
    return fake_imap_server::standard("IMAP4rev1 AUTH=PLAIN SASL-IR")(line);
  });
  auto o = options_for(server);
  o.password = "pw";
  curl_mailbox m(o);
  try {
    m.create_folder("Archive");
    FAIL("create_folder did not throw");
  } catch (const tlsrpt::imap::error& e) {
    CHECK(e.code() == 0);
    CHECK_FALSE(e.transient());
    CHECK(std::string(e.what()) == "imap: cannot CREATE Archive: NO [NOPERM] Permission denied");
  }
}

TEST_CASE("a URL with another scheme or with credentials in it is refused") {
  connection_options o;
  o.url = "http://127.0.0.1/";
  CHECK_THROWS_AS(curl_mailbox{o}, tlsrpt::imap::error);
  o.url = "imaps://user:secret@127.0.0.1/";
  try {
    curl_mailbox m(o);
    FAIL("no error");
  } catch (const tlsrpt::imap::error& e) {
    CHECK(std::string(e.what()).find("credentials") != std::string::npos);
    CHECK(std::string(e.what()).find("secret") == std::string::npos);
  }
}
