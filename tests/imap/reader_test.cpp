// SPDX-License-Identifier: Apache-2.0
// The response reader and its parsers over hostile and awkward server text, without a server.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tlsrpt/imap/reader.hpp"

namespace d = tlsrpt::imap::detail;

namespace {

using event = d::response_reader::event;

// Feeds `input` in pieces of `step` octets, keeps literals up to `keep_max`, returns the
// responses read.
std::vector<d::response> read_all(const std::string& input, std::size_t step,
                                  std::uint64_t keep_max = UINT64_MAX) {
  d::response_reader r;
  std::vector<d::response> out;
  std::size_t fed = 0;
  for (;;) {
    const auto e = r.next();
    if (e == event::need_more) {
      if (fed >= input.size()) break;
      const auto n = std::min(step, input.size() - fed);
      r.feed(std::string_view(input).substr(fed, n));
      fed += n;
    } else if (e == event::literal) {
      if (r.literal_size() <= keep_max) {
        r.keep_literal();
      } else {
        r.skip_literal();
      }
    } else {
      out.push_back(r.take());
    }
  }
  return out;
}

const std::string body = "From: a@example.com\r\nSubject: x\r\n\r\nline one\r\n)}{5}\r\n";

std::string fetch_answer() {
  return "* 1 FETCH (UID 7 RFC822.SIZE " + std::to_string(body.size()) +
         " FLAGS (\\Seen $Label) BODY[] {" + std::to_string(body.size()) + "}\r\n" + body +
         ")\r\n* 2 EXISTS\r\nT5 OK Fetch completed.\r\n";
}

}  // namespace

TEST_CASE("a FETCH answer reads the same whether it arrives whole or one octet at a time") {
  for (const std::size_t step :
       {std::size_t{1}, std::size_t{3}, std::size_t{17}, std::size_t{4096}}) {
    CAPTURE(step);
    const auto rs = read_all(fetch_answer(), step);
    REQUIRE(rs.size() == 3);
    REQUIRE(rs[0].literals.size() == 1);
    CHECK(rs[0].literals[0].kept);
    CHECK(rs[0].literals[0].data == body);  // the body's own ")}{5}" is data, not syntax
    const auto f = d::parse_fetch(rs[0]);
    REQUIRE(f);
    CHECK(f->seq == 1);
    CHECK(f->uid == 7u);
    CHECK(f->size == body.size());
    CHECK(f->flags == std::vector<std::string>{"\\Seen", "$Label"});
    CHECK(f->body_literal == 0u);
    CHECK(d::classify_untagged(rs[1].text).what == d::untagged_event::kind::exists);
    CHECK(d::classify_untagged(rs[1].text).number == 2u);
    const auto t = d::parse_tagged(rs[2].text);
    REQUIRE(t);
    CHECK(t->tag == "T5");
    CHECK(t->status == d::tagged_status::kind::ok);
  }
}

TEST_CASE("a literal over the caller's limit is read past without being held") {
  const auto rs = read_all(fetch_answer(), 5, 10);
  REQUIRE(rs.size() == 3);
  REQUIRE(rs[0].literals.size() == 1);
  CHECK_FALSE(rs[0].literals[0].kept);
  CHECK(rs[0].literals[0].data.empty());
  CHECK(rs[0].literals[0].size == body.size());
  CHECK(d::parse_fetch(rs[0])->uid == 7u);  // the rest of the response still reads
}

TEST_CASE("an announced literal is never reserved beyond what arrives") {
  d::response_reader r;
  r.feed("* 1 FETCH (UID 1 BODY[] {18446744073709551615}\r\nabc");
  REQUIRE(r.next() == event::literal);
  CHECK(r.literal_size() == UINT64_MAX);
  r.keep_literal();  // the caller's limit would refuse this; even kept it holds only what came
  CHECK(r.next() == event::need_more);
  CHECK(r.buffered() == 0);
}

TEST_CASE("literal sizes that overflow or are no numbers are refused, not read as sizes") {
  CHECK_THROWS_AS(d::literal_at_end("* 1 FETCH (BODY[] {18446744073709551616}"), d::protocol_error);
  CHECK_THROWS_AS(d::literal_at_end("* 1 FETCH (BODY[] {99999999999999999999999999}"),
                  d::protocol_error);
  CHECK(d::literal_at_end("* 1 FETCH (BODY[] {9x9}").what == d::literal_announcement::kind::none);
  CHECK(d::literal_at_end("* OK {}").what == d::literal_announcement::kind::none);
  CHECK(d::literal_at_end("* OK {-1}").what == d::literal_announcement::kind::none);
  CHECK(d::literal_at_end("x {12}").size == 12u);
  CHECK(d::literal_at_end("x ~{0}").what == d::literal_announcement::kind::literal);
  // `{9x9}` is then plain text, which the FETCH grammar refuses.
  const auto rs = read_all("* 1 FETCH (UID 3 BODY[] {9x9}\r\n", 64);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].literals.empty());
  CHECK_THROWS_AS(d::parse_fetch(rs[0]), d::protocol_error);
}

TEST_CASE("a response longer than the bound outside literals is a protocol error") {
  d::response_reader r(100);
  r.feed("* SEARCH " + std::string(200, '1'));
  CHECK_THROWS_AS(r.next(), d::protocol_error);
  d::response_reader r2(100);
  r2.feed("* OK " + std::string(50, 'x') + " {3}\r\nabc" + std::string(60, 'y') + "\r\n");
  REQUIRE(r2.next() == event::literal);
  r2.keep_literal();
  CHECK_THROWS_AS(r2.next(), d::protocol_error);  // the text counts across the literal
}

TEST_CASE("quoted strings, NIL and nested lists in a FETCH are read by the grammar") {
  d::response r;
  r.text =
      "* 4 FETCH (MODSEQ (12345) X-GM-LABELS (\"\\\\Inbox\" \"a (b\" {3}) "
      "BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 1)) "
      "UID 9 BODY[] \"a \\\"quoted\\\" body\" RFC822.SIZE 16)";
  r.literals.push_back({3, true, "xyz"});
  const auto f = d::parse_fetch(r);
  REQUIRE(f);
  CHECK(f->uid == 9u);
  CHECK(f->size == 16u);
  CHECK(f->body_inline == "a \"quoted\" body");
  CHECK_FALSE(f->body_literal);

  d::response nil;
  nil.text = "* 5 FETCH (UID 10 BODY[] NIL)";
  CHECK(d::parse_fetch(nil)->body_inline == "");
}

TEST_CASE("a FETCH that breaks the grammar is refused as a whole") {
  for (const char* text : {
           "* 1 FETCH (UID 7 BODY[] {5}",  // a marker without its literal
           "* 1 FETCH (UID 7",             // unbalanced
           "* 1 FETCH (UID 4294967296)",   // overflows a UID
           "* 1 FETCH (UID 0)",            // no UID is 0
           "* 1 FETCH (UID x7)",
           "* 1 FETCH (FLAGS (\\Seen) UID 7) trailing",
           "* 1 FETCH (BODY[] \"unterminated)",
           "* 1 FETCH (X (((((",
           "* 1 FETCH (UID 7 RFC822.SIZE 18446744073709551616)",
       }) {
    CAPTURE(text);
    d::response r;
    r.text = text;
    CHECK_THROWS_AS(d::parse_fetch(r), d::protocol_error);
  }
  d::response deep;
  deep.text = "* 1 FETCH (X " + std::string(100, '(') + std::string(100, ')') + ")";
  CHECK_THROWS_AS(d::parse_fetch(deep), d::protocol_error);
  d::response other;
  other.text = "* 3 EXPUNGE";
  CHECK_FALSE(d::parse_fetch(other));
}

TEST_CASE("a SEARCH keeps every valid UID and counts the tokens that are none") {
  d::search_result s;
  d::parse_search_response("* SEARCH 0 4294967296 1 2", s);
  CHECK(s.uids == std::vector<std::uint32_t>{1, 2});
  CHECK(s.rejected == 2);
  d::search_result t;
  d::parse_search_response("* SEARCH 4294967295 x7 7 (MODSEQ 917162500)", t);
  CHECK(t.uids == std::vector<std::uint32_t>{4294967295u, 7});
  CHECK(t.rejected == 1);
  d::search_result none;
  d::parse_search_response("* SEARCH", none);
  d::parse_search_response("* 3 EXISTS", none);
  CHECK(none.uids.empty());
  CHECK(none.rejected == 0);
}

TEST_CASE("BYE, EXPUNGE and tagged answers are recognised; continuations are not tagged") {
  CHECK(d::classify_untagged("* BYE shutting down").what == d::untagged_event::kind::bye);
  CHECK(d::classify_untagged("* 12 EXPUNGE").number == 12u);
  CHECK(d::classify_untagged("* 12 RECENT").what == d::untagged_event::kind::other);
  CHECK_FALSE(d::parse_tagged("+ idling"));
  CHECK_FALSE(d::parse_tagged("* OK still here"));
  const auto no = d::parse_tagged("T9 NO [TRYCREATE] no such mailbox");
  REQUIRE(no);
  CHECK(no->status == d::tagged_status::kind::no);
  CHECK(no->text == "[TRYCREATE] no such mailbox");
  CHECK_FALSE(d::parse_tagged("T9 MAYBE"));
}
