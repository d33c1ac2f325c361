// SPDX-License-Identifier: Apache-2.0
// Composing the alert and digest mails (RFC 5322, MIME: RFC 2045-2047). Internal to the
// monitor module. Everything a sender controls reaches a header only through header_text(),
// which leaves no CR or LF in it (no header injection) and encodes what is not ASCII.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsrpt::monitor::detail {

struct mail {
  std::string from;  // plain addresses, checked by the config reader
  std::vector<std::string> to;
  std::string subject;  // any text (see header_text)
  std::string text;
  std::optional<std::string> html;  // set: multipart/alternative with both parts
  std::chrono::sys_seconds date{};
};

// The message with CRLF line ends; bodies quoted-printable (RFC 2045 §6.7), so no line passes
// 76 characters and 8-bit text needs no 8BITMIME.
std::string compose(const mail& m);

std::string quoted_printable(std::string_view text);
// One header value from any text: controls (CR and LF included) become spaces, bytes that are
// not UTF-8 become U+FFFD, at most `max_bytes` of it are kept, and text that is not plain
// ASCII becomes RFC 2047 "B" encoded words, folded: after a header name of up to 7
// characters ("Subject"), no line passes 78 characters (RFC 5322 §2.1.1).
std::string header_text(std::string_view text, std::size_t max_bytes = 200);
// HTML-escaped text (& < > " ') for the digest's HTML part.
std::string html_escape(std::string_view text);
// Body text from sender-controlled text: the unsafe code points (controls, bidi overrides)
// escaped as text::escape_c does, so a mail reader shows them instead of acting on them.
std::string body_text(std::string_view text);

}  // namespace tlsrpt::monitor::detail
