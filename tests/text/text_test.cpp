// SPDX-License-Identifier: Apache-2.0
// The shared string helpers: what a hostile sender's bytes become in a log, a terminal, JSON
// and CSV.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tlsrpt/text/ascii.hpp"
#include "tlsrpt/text/escape.hpp"
#include "tlsrpt/text/nearest.hpp"
#include "tlsrpt/text/utf8.hpp"

using namespace tlsrpt::text;
using namespace std::string_literals;

TEST_CASE("escape_c keeps a log line one line and a terminal inert") {
  CHECK(escape_c("id\noutcome=stored FORGED") == "id\\noutcome=stored FORGED");
  CHECK(escape_c("a\r\nb\tc\\d") == "a\\r\\nb\\tc\\\\d");
  CHECK(escape_c("\x1b]0;owned\x07\x1b[2J") == "\\x1b]0;owned\\x07\\x1b[2J");
  CHECK(escape_c("nul\0byte"s) == "nul\\x00byte");
  CHECK(escape_c("del\x7f") == "del\\x7f");
  // U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI, U+200B ZWSP, U+0085 NEL (C1), U+2028 LS
  CHECK(escape_c("evil\u202Etxt.exe") == "evil\\u{202e}txt.exe");
  CHECK(escape_c("\u2066x\u200By\u0085z\u2028") == "\\u{2066}x\\u{200b}y\\u{0085}z\\u{2028}");
  // Not UTF-8: each byte on its own; an overlong slash and a lone surrogate too.
  CHECK(escape_c("Bj\xF6rn") == "Bj\\xf6rn");
  CHECK(escape_c("\xC0\xAF") == "\\xc0\\xaf");
  CHECK(escape_c("\xED\xA0\x80") == "\\xed\\xa0\\x80");
  // Printable text of other scripts stays readable.
  CHECK(escape_c("Gr\u00FC\u00DFe \u65E5\u672C") == "Gr\u00FC\u00DFe \u65E5\u672C");
  CHECK(is_plain("example.org"));
  CHECK_FALSE(is_plain("a\nb"));
  CHECK_FALSE(is_plain("a\u202Eb"));
}

TEST_CASE("json_quote gives valid UTF-8 JSON whatever the bytes") {
  CHECK(json_quote("plain") == "\"plain\"");
  CHECK(json_quote("q\"b\\s") == "\"q\\\"b\\\\s\"");
  CHECK(json_quote("l1\nl2\x1b[0m") == "\"l1\\nl2\\u001b[0m\"");
  CHECK(json_quote("\xFF\xFEraw 8-bit") == "\"\\ufffd\\ufffdraw 8-bit\"");
  CHECK(json_quote("\u202E") == "\"\\u202e\"");
  CHECK(json_quote("\u00E9t\u00E9") == "\"\u00E9t\u00E9\"");
  CHECK(is_valid_utf8(json_quote("\xC3\x28 \xF0\x9F\x98")));
}

TEST_CASE("UTF-8 is validated strictly and repaired with U+FFFD") {
  CHECK(is_valid_utf8("\u00E9\U0001F600"));
  CHECK_FALSE(is_valid_utf8("\xC0\x80"));          // overlong NUL
  CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xE2\x82"));          // cut short
  CHECK(to_valid_utf8("a\xFFz") == "a\uFFFDz");
  CHECK(utf8_cut("\u00E9\u00E9", 3) == 2);
  std::string s;
  append_utf8(s, 0x1F600);
  CHECK(s == "\U0001F600");
}

TEST_CASE("a terminal cell is escaped and capped in columns") {
  CHECK(terminal_cell("short", 10) == "short");
  CHECK(terminal_cell(std::string(10000, 'a'), 12) == "aaaaaaaaa...");
  CHECK(columns(terminal_cell(std::string(500, '\xC3') + "", 40)) <= 40);
  CHECK(terminal_cell("\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9", 5) == "\u00E9\u00E9...");
  CHECK(terminal_cell("row\nforged", 40) == "row\\nforged");
}

TEST_CASE("a CSV field is quoted per RFC 4180 and formulas are made inert") {
  CHECK(csv_field("example.org") == "example.org");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\r\nlines") == "\"two\r\nlines\"");
  CHECK(csv_field("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"");
  CHECK(csv_field("+1") == "'+1");
  CHECK(csv_field("-cmd") == "'-cmd");
  CHECK(csv_field("@SUM(A1)") == "'@SUM(A1)");
  CHECK(csv_field("\tx") == "'\tx");
  CHECK(csv_field("") == "");
}

TEST_CASE("ASCII helpers fold only ASCII") {
  CHECK(ascii_lower("MiXeD.Example") == "mixed.example");
  CHECK(ascii_lower("\u00C9") == "\u00C9");
  CHECK(trim("  x \t\r\n") == "x");
  CHECK(iequals("Content-Type", "content-type"));
  CHECK(istarts_with("MULTIPART/report", "multipart/"));
}

TEST_CASE("the nearest candidate is offered for a typo, nothing for an unrelated word") {
  const std::vector<std::string> commands{"run",   "poll",    "ingest",
                                          "parse", "summary", "check-config"};
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(nearest("sumary", commands) == "summary");
  CHECK(nearest("Poll", commands) == "poll");
  CHECK(nearest("check", commands) == "check-config");
  CHECK(nearest("ingets", commands) == "ingest");
  CHECK_FALSE(nearest("frobnicate", commands).has_value());
}
