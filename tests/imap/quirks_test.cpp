// SPDX-License-Identifier: Apache-2.0
// Gmail and Microsoft 365 as their documentation and their users' protocol logs show them
// (issue 23), replayed by the fake server: we cannot reach either service from the tests.
// Each case names the service and where its exchange comes from; the code it covers carries
// the same name (imap/protocol.cpp refusal_is_temporary and refusal_hint, imap/session.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "fake_server.hpp"
#include "tlsrpt/imap/curl_mailbox.hpp"

namespace {

using tlsrpt::imap::connection_options;
using tlsrpt::imap::curl_mailbox;
using tlsrpt::imap::fetched_message;
using tlsrpt::test::fake_imap_server;

const tlsrpt::imap::library curl_library;

// From Microsoft 365 protocol logs (MailKit issue 1277's log of outlook.office365.com): the
// greeting, CAPABILITY before and after login (no ESEARCH, no CONDSTORE), and SELECT with a
// PERMANENTFLAGS that has no \* (Exchange Online keeps no keywords of its clients).
const std::string m365_greeting =
    "* OK The Microsoft Exchange IMAP4 service is ready. "
    "[TQBOADIAUABSADAAMQBDAEEAMAAwADAANAAu]\r\n";
const std::string m365_caps =
    "IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE "
    "NAMESPACE LITERAL+";
const std::string m365_select =
    "* 1 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft "
    "$MDNSent)\r\n"
    "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] Permanent "
    "flags\r\n* OK [UIDVALIDITY 14] UIDVALIDITY value\r\n* OK [UIDNEXT 2] The next unique "
    "identifier value\r\n";

// From Gmail's IMAP extensions page (developers.google.com/gmail/imap/imap-extensions) and
// users' logs of imap.gmail.com (MailKit issue 1396).
const std::string gmail_greeting =
    "* OK Gimap ready for requests from 127.0.0.1 k2if6111336rvb.0\r\n";
const std::string gmail_caps =
    "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS "
    "COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS "
    "LITERAL- SPECIAL-USE APPENDLIMIT=35651584 SASL-IR AUTH=PLAIN AUTH=XOAUTH2";

std::string tag_of(const std::string& line) { return line.substr(0, line.find(' ')); }
bool has(const std::string& line, const std::string& what) {
  return line.find(what) != std::string::npos;
}

// A server answering `special(line)` where it returns non-empty, the standard answers (with
// `select` for SELECT) otherwise.
fake_imap_server::responder server(std::string caps, std::string select,
                                   std::function<std::string(const std::string&)> special) {
  return [caps, select, special = std::move(special)](const std::string& line) -> std::string {
    if (auto r = special(line); !r.empty()) return r;
    const auto tag = tag_of(line);
    if (has(line, " SELECT ")) return select + tag + " OK [READ-WRITE] SELECT completed.\r\n";
    return fake_imap_server::standard(caps)(line);
  };
}

connection_options options_for(const fake_imap_server& s) {
  connection_options o;
  o.url = s.url();
  o.username = "reports@example.org";
  o.password = "pw";
  o.allow_plaintext = true;
  o.connect_timeout = std::chrono::seconds(5);
  o.operation_timeout = std::chrono::seconds(5);
  return o;
}

tlsrpt::imap::error expect_error(auto&& f) {
  try {
    f();
  } catch (const tlsrpt::imap::error& e) {
    return e;
  }
  FAIL("no imap::error");
  return tlsrpt::imap::error("", 0, false);
}

// fetch_many over UIDs 1 and 2; how many messages came back, per-message errors included.
std::size_t fetch_count(curl_mailbox& m) {
  std::size_t n = 0;
  m.fetch_many(std::vector<std::uint32_t>{1, 2}, [&](fetched_message&) {
    ++n;
    return true;
  });
  return n;
}

}  // namespace

TEST_CASE("Microsoft 365: a throttled batch FETCH is a temporary failure that blames no message") {
  // imapsync's Office 365 FAQ and imap_tools issue 135: the answer comes as NO or as BAD.
  for (const std::string word : {"NO", "BAD"}) {
    CAPTURE(word);
    fake_imap_server s(m365_greeting,
                       server(m365_caps, m365_select, [word](const std::string& line) {
                         if (has(line, "BODY.PEEK[]"))
                           return tag_of(line) + " " + word +
                                  " Request is throttled. Suggested Backoff Time: 299910 "
                                  "milliseconds\r\n";
                         return std::string{};
                       }));
    curl_mailbox m(options_for(s));
    m.select("INBOX");
    std::size_t delivered = 0;
    const auto e = expect_error([&] { delivered = fetch_count(m); });
    // Thrown, not handed out as a per-message error: the pass counts no attempt against
    // either message, so throttling never quarantines a report.
    CHECK(delivered == 0);
    CHECK(e.transient());
    const std::string what = e.what();
    CHECK_MESSAGE(what.find("Request is throttled") != std::string::npos, what);
    CHECK_MESSAGE(what.find("a pause of 300 s") != std::string::npos, what);
  }
}

TEST_CASE("Microsoft 365: a busy backend's \"Server Unavailable\" is temporary") {
  // Exchange's answer under load (imapfilter issue 146): "NO Server Unavailable. 15".
  fake_imap_server s(m365_greeting, server(m365_caps, m365_select, [](const std::string& line) {
                       if (has(line, "BODY.PEEK[]"))
                         return tag_of(line) + " NO Server Unavailable. 15\r\n";
                       return std::string{};
                     }));
  curl_mailbox m(options_for(s));
  m.select("INBOX");
  CHECK(expect_error([&] { fetch_count(m); }).transient());
}

TEST_CASE("Microsoft 365: a password login is refused with the hint that only OAuth2 works") {
  // Basic authentication is off in Exchange Online: the refusal itself says nothing of why.
  fake_imap_server s(m365_greeting, [](const std::string& line) -> std::string {
    if (has(line, "AUTHENTICATE") || has(line, "LOGIN"))
      return tag_of(line) + " NO AUTHENTICATE failed.\r\n";
    return fake_imap_server::standard(m365_caps)(line);
  });
  curl_mailbox m(options_for(s));
  const auto e = expect_error([&] { m.select("INBOX"); });
  CHECK_FALSE(e.transient());
  const std::string what = e.what();
  CHECK_MESSAGE(what.find("AUTHENTICATE failed") != std::string::npos, what);
  CHECK_MESSAGE(what.find("Microsoft 365 accepts only OAuth2") != std::string::npos, what);
  CHECK(what.find("pw") == std::string::npos);
}

TEST_CASE("a password refused by a server that is not Microsoft's gets no OAuth2 hint") {
  fake_imap_server s("* OK Dovecot ready.\r\n", [](const std::string& line) -> std::string {
    if (has(line, "AUTHENTICATE") || has(line, "LOGIN"))
      return tag_of(line) + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n";
    return fake_imap_server::standard("IMAP4rev1 SASL-IR AUTH=PLAIN")(line);
  });
  curl_mailbox m(options_for(s));
  const std::string what = expect_error([&] { m.select("INBOX"); }).what();
  CHECK_MESSAGE(what.find("AUTHENTICATIONFAILED") != std::string::npos, what);
  CHECK_MESSAGE(what.find("OAuth2") == std::string::npos, what);
}

TEST_CASE("Microsoft 365: a token that may not open the mailbox is named as such, not retried") {
  // Microsoft's "Authenticate an IMAP, POP or SMTP connection using OAuth": the XOAUTH2 login
  // succeeds, the first command after it fails when the app has no access to the mailbox.
  fake_imap_server s(m365_greeting, server(m365_caps, m365_select, [](const std::string& line) {
                       if (has(line, " SELECT "))
                         return tag_of(line) + " BAD User is authenticated but not connected.\r\n";
                       return std::string{};
                     }));
  auto o = options_for(s);
  o.password.clear();
  o.oauth2_token = "eyJ0eXAi.token";
  curl_mailbox m(o);
  const auto e = expect_error([&] { m.select("INBOX"); });
  CHECK_FALSE(e.transient());
  const std::string what = e.what();
  CHECK_MESSAGE(what.find("Add-MailboxPermission") != std::string::npos, what);
  CHECK(what.find("eyJ0eXAi") == std::string::npos);
}

TEST_CASE("Microsoft 365: without ESEARCH the search is a plain UID SEARCH, and a pass works") {
  fake_imap_server s(m365_greeting, server(m365_caps, m365_select, [](const std::string& line) {
                       const auto tag = tag_of(line);
                       if (has(line, "UID SEARCH"))
                         return "* SEARCH 1\r\n" + tag + " OK SEARCH completed.\r\n";
                       if (has(line, "UID FETCH 1 (UID RFC822.SIZE FLAGS)"))
                         return "* 1 FETCH (UID 1 RFC822.SIZE 40 FLAGS ())\r\n" + tag +
                                " OK FETCH completed.\r\n";
                       return std::string{};
                     }));
  curl_mailbox m(options_for(s));
  m.select("INBOX");
  const auto refs = m.search({"$TLSRPTProcessed"});
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].uid == 1);
  CHECK(refs[0].size == 40);
  const auto got = s.received();
  const auto search = std::find_if(got.begin(), got.end(),
                                   [](const std::string& l) { return has(l, "UID SEARCH"); });
  REQUIRE(search != got.end());
  CHECK(search->find("RETURN") == std::string::npos);  // no ESEARCH syntax
}

TEST_CASE("Gmail: over its bandwidth limits the FETCH refusal is temporary, no message blamed") {
  // Gmail's answer once an account passes its IMAP bandwidth limits (Google Workspace admin
  // help "Gmail bandwidth limits"; the text as ha-email-sensor issue 16 logged it).
  fake_imap_server s(gmail_greeting, server(gmail_caps, m365_select, [](const std::string& line) {
                       if (has(line, "BODY.PEEK[]"))
                         return tag_of(line) +
                                " NO [OVERQUOTA] Account exceeded command or bandwidth limits. "
                                "(Failure)\r\n";
                       return std::string{};
                     }));
  curl_mailbox m(options_for(s));
  m.select("INBOX");
  std::size_t delivered = 0;
  const auto e = expect_error([&] { delivered = fetch_count(m); });
  CHECK(delivered == 0);
  CHECK(e.transient());
}

TEST_CASE("Gmail: too many simultaneous connections at login is temporary") {
  // Gmail allows 15 IMAP connections per account; the 16th login is refused.
  fake_imap_server s(gmail_greeting, [](const std::string& line) -> std::string {
    if (has(line, "AUTHENTICATE") || has(line, "LOGIN"))
      return tag_of(line) + " NO [ALERT] Too many simultaneous connections. (Failure)\r\n";
    return fake_imap_server::standard(gmail_caps)(line);
  });
  curl_mailbox m(options_for(s));
  const auto e = expect_error([&] { m.select("INBOX"); });
  CHECK(e.transient());
}

TEST_CASE("Gmail: a move to [Gmail]/All Mail finds the label folder by LIST and quotes its name") {
  // Gmail's labels are folders; "[Gmail]/All Mail" (the \All special use) holds everything,
  // and moving a message there from INBOX takes the Inbox label off: Gmail's "archive". The
  // name has brackets and a space: quoted everywhere, and never CREATEd (Gmail refuses new
  // folders under [Gmail]/).
  fake_imap_server s(gmail_greeting, server(gmail_caps, m365_select, [](const std::string& line) {
                       const auto tag = tag_of(line);
                       if (has(line, "LIST "))
                         return "* LIST (\\HasNoChildren \\All) \"/\" \"[Gmail]/All Mail\"\r\n" +
                                tag + " OK Success\r\n";
                       if (has(line, "CREATE "))
                         return tag + " NO [CANNOT] Folder name is not allowed.\r\n";
                       if (has(line, "NOOP")) return tag + " OK Success [THROTTLED]\r\n";
                       return std::string{};
                     }));
  curl_mailbox m(options_for(s));
  m.select("INBOX");
  m.move(std::vector<std::uint32_t>{1}, "[Gmail]/All Mail");
  const auto got = s.received();
  CHECK(std::none_of(got.begin(), got.end(), [](const auto& l) { return has(l, "CREATE"); }));
  CHECK(std::any_of(got.begin(), got.end(),
                    [](const auto& l) { return has(l, "UID MOVE 1 \"[Gmail]/All Mail\""); }));
}

TEST_CASE("Gmail: an OK answer that ends in [THROTTLED] is still an OK") {
  // Gmail slows an account down before it refuses it, and says so after the text of OK
  // answers ("A00000002 OK Success [THROTTLED]", MailKit issue 1396).
  fake_imap_server s(gmail_greeting, server(gmail_caps, m365_select, [](const std::string& line) {
                       const auto tag = tag_of(line);
                       if (has(line, "NOOP")) return tag + " OK Success [THROTTLED]\r\n";
                       if (has(line, "UID SEARCH"))
                         return "* SEARCH\r\n" + tag +
                                " OK SEARCH completed (Success) [THROTTLED]\r\n";
                       return std::string{};
                     }));
  curl_mailbox m(options_for(s));
  m.select("INBOX");
  CHECK(m.search({}).empty());
}

TEST_CASE("Microsoft 365: SELECT says the folder keeps \\Seen but no keyword of ours") {
  fake_imap_server s(m365_greeting, server(m365_caps, m365_select,
                                           [](const std::string&) { return std::string{}; }));
  curl_mailbox m(options_for(s));
  const auto st = m.select("INBOX");
  REQUIRE(st.permanent_flags.has_value());
  CHECK(st.keeps("\\Seen"));
  CHECK(st.keeps("\\seen"));                  // flags compare case-insensitively (RFC 3501 §2.3.2)
  CHECK(st.keeps("$MDNSent"));                // listed by name
  CHECK_FALSE(st.keeps("$TLSRPTProcessed"));  // no \* : not kept
}
