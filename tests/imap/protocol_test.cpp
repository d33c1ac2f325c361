// SPDX-License-Identifier: Apache-2.0
// The IMAP text the client builds and reads itself, checked without a server.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tlsrpt/imap/protocol.hpp"

namespace d = tlsrpt::imap::detail;

TEST_CASE("UID sets are compact ranges in ascending order without duplicates") {
  const std::vector<std::uint32_t> uids{12, 1, 2, 3, 4, 5, 8, 10, 11, 3};
  const auto sets = d::uid_sets(uids);
  REQUIRE(sets.size() == 1);
  CHECK(sets[0] == "1:5,8,10:12");
  CHECK(d::uid_sets(std::vector<std::uint32_t>{}).empty());
  CHECK(d::uid_sets(std::vector<std::uint32_t>{7}) == std::vector<std::string>{"7"});
}

TEST_CASE("UID sets are split so that no command grows past the limit") {
  std::vector<std::uint32_t> uids;
  for (std::uint32_t u = 1; u <= 20000; u += 2) uids.push_back(u);  // no ranges at all
  const auto sets = d::uid_sets(uids, 1000);
  CHECK(sets.size() > 1);
  std::size_t count = 0;
  std::uint32_t previous = 0;
  for (const auto& s : sets) {
    CHECK(s.size() <= 1000);
    std::size_t pos = 0;
    while (pos < s.size()) {
      const auto comma = s.find(',', pos);
      const auto item = s.substr(pos, comma - pos);
      const auto value = static_cast<std::uint32_t>(std::stoul(item));
      CHECK(value > previous);
      previous = value;
      ++count;
      pos = comma == std::string::npos ? s.size() : comma + 1;
    }
  }
  CHECK(count == uids.size());
}

TEST_CASE("folder names are quoted with backslash escapes and control characters are refused") {
  CHECK(d::quoted("INBOX") == "\"INBOX\"");
  CHECK(d::quoted("TLS \"reports\"\\x") == "\"TLS \\\"reports\\\"\\\\x\"");
  CHECK_THROWS_AS(d::quoted("a\r\nb"), tlsrpt::imap::error);
  CHECK_THROWS_AS(d::quoted("Entw\xc3\xbcrfe"), tlsrpt::imap::error);
}

TEST_CASE("flags must be atoms or system flags, so nothing can be smuggled into a command") {
  CHECK(d::flag_list({"\\Seen", "$TLSRPTProcessed"}) == "(\\Seen $TLSRPTProcessed)");
  CHECK(d::flag_list({}) == "()");
  CHECK_THROWS_AS(d::checked_flag("two words"), tlsrpt::imap::error);
  CHECK_THROWS_AS(d::checked_flag("x) EXPUNGE"), tlsrpt::imap::error);
  CHECK_THROWS_AS(d::checked_flag(""), tlsrpt::imap::error);
  CHECK_THROWS_AS(d::checked_flag("\\"), tlsrpt::imap::error);
}

TEST_CASE("a SELECT answer gives UIDVALIDITY, EXISTS and UIDNEXT") {
  const auto st = d::parse_select(
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
      "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Flags permitted.\r\n"
      "* 172 EXISTS\r\n* 0 RECENT\r\n"
      "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
      "* OK [UIDNEXT 4392] Predicted next UID\r\n"
      "A003 OK [READ-WRITE] Select completed.\r\n");
  CHECK(st.uidvalidity == 3857529045U);
  CHECK(st.exists == 172);
  CHECK(st.uidnext == 4392);
  REQUIRE(st.permanent_flags.has_value());
  CHECK(*st.permanent_flags == std::vector<std::string>{"\\Deleted", "\\Seen", "\\*"});
  CHECK(st.keeps("$TLSRPTProcessed"));  // \* : new keywords are kept
  CHECK_FALSE(st.keeps("\\Flagged"));   // a system flag must be listed by name
}

TEST_CASE("PERMANENTFLAGS: none sent keeps everything, an empty list nothing") {
  // RFC 3501 §6.3.1: without PERMANENTFLAGS every flag is permanent.
  const auto none = d::parse_select("* 1 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n");
  CHECK_FALSE(none.permanent_flags.has_value());
  CHECK(none.keeps("$TLSRPTProcessed"));
  // Cyrus 3.6 on EXAMINE, or on a folder where we have no write rights: "()".
  const auto empty = d::parse_select("* OK [PERMANENTFLAGS ()] Ok\r\n* OK [UIDVALIDITY 1] x\r\n");
  REQUIRE(empty.permanent_flags.has_value());
  CHECK(empty.permanent_flags->empty());
  CHECK_FALSE(empty.keeps("\\Seen"));
  // A list cut short is as if not sent.
  CHECK_FALSE(d::parse_select("* OK [PERMANENTFLAGS (\\Seen\r\n").permanent_flags.has_value());
}

TEST_CASE("throttling answers of Microsoft 365 and Gmail are temporary; others are not") {
  CHECK(
      d::refusal_is_temporary("Request is throttled. Suggested Backoff Time: 299910 milliseconds"));
  CHECK(d::suggested_backoff_ms(
            "Request is throttled. Suggested Backoff Time: 299910 milliseconds") == 299910U);
  CHECK(d::refusal_is_temporary("Server Unavailable. 15"));
  CHECK(d::refusal_is_temporary(
      "[OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)"));
  CHECK(d::refusal_is_temporary("[ALERT] Too many simultaneous connections. (Failure)"));
  CHECK(d::refusal_is_temporary("[UNAVAILABLE] Internal error"));
  CHECK(d::refusal_is_temporary("[INUSE] Mailbox in use"));
  CHECK_FALSE(d::refusal_is_temporary("[AUTHENTICATIONFAILED] Authentication failed."));
  CHECK_FALSE(d::refusal_is_temporary("[NONEXISTENT] Unknown Mailbox"));
  CHECK_FALSE(d::suggested_backoff_ms("Server Unavailable. 15").has_value());
  CHECK(d::refusal_hint("[NONEXISTENT] Unknown Mailbox").empty());
}

TEST_CASE("SEARCH answers are read across lines and an empty answer is empty") {
  std::vector<std::uint32_t> out;
  d::parse_search("* SEARCH 2 84 882\r\nA004 OK Search completed.\r\n", out);
  CHECK(out == std::vector<std::uint32_t>{2, 84, 882});
  out.clear();
  d::parse_search("* SEARCH\r\nA004 OK Search completed.\r\n", out);
  CHECK(out.empty());
}

TEST_CASE("FETCH answers give UID, size and seen state and unsolicited FLAGS updates are ignored") {
  std::vector<tlsrpt::imap::message_ref> out;
  d::parse_fetch_meta(
      "* 1 FETCH (UID 40 RFC822.SIZE 2048 FLAGS (\\Seen $TLSRPTProcessed))\r\n"
      "* 2 FETCH (FLAGS (\\Seen) UID 41 RFC822.SIZE 99)\r\n"
      "* 3 FETCH (UID 42 RFC822.SIZE 5 FLAGS (\\Recent $Seenish))\r\n"
      "* 4 FETCH (FLAGS (\\Deleted))\r\n"
      "A005 OK Fetch completed.\r\n",
      out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].uid == 40);
  CHECK(out[0].size == 2048);
  CHECK(out[0].seen);
  CHECK(out[1].uid == 41);
  CHECK(out[1].size == 99);
  CHECK(out[1].seen);
  CHECK(out[2].uid == 42);
  CHECK_FALSE(out[2].seen);
}

TEST_CASE("capabilities are upper-cased atoms of the CAPABILITY line") {
  const auto caps = d::parse_capabilities(
      "* CAPABILITY IMAP4rev1 SASL-IR uidplus Move\r\nA001 OK Capability completed.\r\n");
  CHECK(caps == std::vector<std::string>{"IMAP4REV1", "MOVE", "SASL-IR", "UIDPLUS"});
}

TEST_CASE("the tagged status, its response code and APPENDUID are found") {
  const std::string r = "* OK [UIDNEXT 4] x\r\nA007 NO [ALREADYEXISTS] Mailbox already exists\r\n";
  CHECK(d::last_tagged(r) == "NO [ALREADYEXISTS] Mailbox already exists");
  CHECK(d::response_code(d::last_tagged(r)) == "ALREADYEXISTS");
  CHECK(d::response_code("NO Mailbox doesn't exist") == "");
  CHECK(d::appended_uid("OK [APPENDUID 1795945953 17] Append completed.") == 17U);
  CHECK_FALSE(d::appended_uid("OK Append completed.").has_value());
}

TEST_CASE("the protocol trace never shows credentials") {
  CHECK(d::redact_command("A002 LOGIN t1 \"secret\"\r\n") == "A002 LOGIN [redacted]");
  CHECK(d::redact_command("A002 AUTHENTICATE PLAIN AHQxAHNlY3JldA==") ==
        "A002 AUTHENTICATE PLAIN [redacted]");
  CHECK(d::redact_command("A002 AUTHENTICATE XOAUTH2") == "A002 AUTHENTICATE XOAUTH2");
  CHECK(d::redact_command("dXNlcj10MQFhdXRoPUJlYXJlciB0b2tlbgEB") == "[redacted]");
  CHECK(d::redact_command("") == "[redacted]");
  CHECK(d::redact_command("A007 UID FETCH 4 BODY[]") == "A007 UID FETCH 4 BODY[]");
}

TEST_CASE("LIST answers give the mailbox names, quoted or not") {
  const auto names = d::parse_list(
      "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
      "* LIST (\\HasNoChildren \\UnMarked) \"/\" \"TLS reports/2024\"\r\n"
      "* LIST () \"\\\\\" \"a\\\"b\"\r\n"
      "* LIST (\\Noselect) NIL Public\r\n"
      "A004 OK List completed.\r\n");
  CHECK(names == std::vector<std::string>{"INBOX", "TLS reports/2024", "a\"b", "Public"});
}

TEST_CASE("UID sets are split so that no set covers more messages than the limit") {
  std::vector<std::uint32_t> uids;
  for (std::uint32_t u = 1; u <= 2500; ++u) uids.push_back(u);
  uids.push_back(3000);
  CHECK(d::uid_sets(uids, 7000, 1000) ==
        std::vector<std::string>{"1:1000", "1001:2000", "2001:2500,3000"});
  CHECK(d::uid_sets(std::vector<std::uint32_t>{1, 3, 5, 7, 9}, 7000, 2) ==
        std::vector<std::string>{"1,3", "5,7", "9"});
}
