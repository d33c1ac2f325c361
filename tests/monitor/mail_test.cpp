// SPDX-License-Identifier: Apache-2.0
// The alert and digest mails as text: headers that no sender's string can break, bodies in
// quoted-printable lines of at most 76 characters.
#include <doctest/doctest.h>

#include "tlsrpt/monitor/mail.hpp"

namespace mail = tlsrpt::monitor::detail;

TEST_CASE("a header value never holds CR or LF, whatever the text") {
  CHECK(mail::header_text("plain subject") == "plain subject");
  CHECK(mail::header_text("a\r\nBcc: x@example.org") == "a Bcc: x@example.org");
  CHECK(mail::header_text("tab\there\x1b[31m") == "tab here [31m");
  const auto enc = mail::header_text("caf\xc3\xa9 \xff");  // é, then a byte that is not UTF-8
  CHECK(enc == "=?UTF-8?B?Y2Fmw6kg77+9?=");                // U+FFFD for the stray byte
  // "=?" in plain text would read as an encoded word: encoded.
  CHECK(mail::header_text("x =?UTF-8?B?QmNjOiB4?=").starts_with("=?UTF-8?B?"));
}

TEST_CASE("a long header is cut and folded into encoded words, never a line past 78") {
  const auto h = mail::header_text(std::string(500, 'a') + "\xc3\xa9", 200);
  std::size_t at = 0;
  std::size_t lines = 0;
  for (;;) {
    const auto end = h.find("\r\n ", at);
    CHECK((end == std::string::npos ? h.size() : end) - at <= 76);
    ++lines;
    if (end == std::string::npos) break;
    at = end + 3;
  }
  CHECK(lines > 1);
  CHECK(h.find('\n', 0) != std::string::npos);
  for (std::size_t i = 0; i < h.size(); ++i)
    if (h[i] == '\n') CHECK(i + 1 < h.size());  // every LF is folding: a space follows
}

TEST_CASE("quoted-printable keeps lines at 76, encodes '=', trailing space and a leading dot") {
  const auto qp = mail::quoted_printable(std::string(200, 'x') + "\n.dot\nend \n=\n");
  for (std::size_t at = 0, end; (end = qp.find("\r\n", at)) != std::string::npos; at = end + 2)
    CHECK(end - at <= 76);
  CHECK(qp.find("\r\n=2Edot\r\n") != std::string::npos);
  CHECK(qp.find("end=20\r\n") != std::string::npos);
  CHECK(qp.find("\r\n=3D\r\n") != std::string::npos);
}

TEST_CASE("a mail with an HTML part is multipart/alternative with a boundary of its own") {
  const auto m = mail::compose({.from = "a@example.net",
                                .to = {"b@example.net", "c@example.net"},
                                .subject = "digest",
                                .text = "text part",
                                .html = std::string("<p>html part</p>"),
                                .date = std::chrono::sys_seconds(std::chrono::seconds(0))});
  CHECK(m.find("To: b@example.net, c@example.net\r\n") != std::string::npos);
  CHECK(m.find("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != std::string::npos);
  CHECK(m.find("Content-Type: multipart/alternative; boundary=\"=_tlsrpt_") != std::string::npos);
  CHECK(m.find("text/plain; charset=utf-8") < m.find("text/html; charset=utf-8"));
  CHECK(mail::html_escape("<a href=\"x\">&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}
