// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/monitor/mail.hpp"

#include <ctime>
#include <random>

#include "tlsrpt/digest/sha256.hpp"
#include "tlsrpt/text/escape.hpp"
#include "tlsrpt/text/utf8.hpp"

namespace tlsrpt::monitor::detail {

namespace {

constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

unsigned byte(std::string_view s, std::size_t i) {
  return static_cast<unsigned>(static_cast<unsigned char>(s[i]));
}

std::string base64(std::string_view in) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (byte(in, i) << 16) | (byte(in, i + 1) << 8) | byte(in, i + 2);
    out += b64[(n >> 18) & 63];
    out += b64[(n >> 12) & 63];
    out += b64[(n >> 6) & 63];
    out += b64[n & 63];
  }
  if (i < in.size()) {
    unsigned n = byte(in, i) << 16;
    if (i + 1 < in.size()) n |= byte(in, i + 1) << 8;
    out += b64[(n >> 18) & 63];
    out += b64[(n >> 12) & 63];
    out += i + 1 < in.size() ? b64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string rfc5322_date(std::chrono::sys_seconds t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string("localhost") : address.substr(at + 1);
}

}  // namespace

std::string quoted_printable(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t column = 0;
  auto put = [&](std::string_view piece) {
    if (column + piece.size() > 75) {  // soft line break: "=" ends a line of at most 76
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      out += "\r\n";
      column = 0;
      continue;
    }
    const bool next_is_eol = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
    // Printable ASCII stays, except '=' and a space or tab at a line's end (RFC 2045 §6.7).
    const bool literal =
        (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !next_is_eol);
    // A '.' first on a line is encoded too, so no line of ours can read as SMTP's end of data
    // even through a relay that does not dot-stuff.
    if (literal && !(c == '.' && column == 0)) {
      put(std::string_view(&text[i], 1));
    } else {
      const char enc[3] = {'=', hex[c >> 4], hex[c & 15]};
      put(std::string_view(enc, 3));
    }
  }
  return out;
}

std::string header_text(std::string_view text, std::size_t max_bytes) {
  std::string line;
  {
    const std::string valid = text::to_valid_utf8(text);
    std::string_view s = valid;
    while (!s.empty()) {
      const auto seq = text::decode_utf8(s);
      const std::size_t n = seq.length == 0 ? 1 : seq.length;
      if (text::is_unsafe_code_point(seq.cp)) {
        if (line.empty() || line.back() != ' ') line += ' ';  // CR, LF, TAB, bidi: a space
      } else {
        line.append(s.substr(0, n));
      }
      s.remove_prefix(n);
    }
  }
  if (line.size() > max_bytes) line = line.substr(0, text::utf8_cut(line, max_bytes - 3)) + "...";
  bool plain = line.size() <= 66;  // with "Subject: ", a line of at most 78
  for (const char c : line) plain = plain && static_cast<unsigned char>(c) < 0x80;
  // "=?" in plain text would be read as the start of an encoded word (RFC 2047 §5).
  if (plain && line.find("=?") == std::string::npos) return line;
  // Encoded words of at most 75 characters (RFC 2047 §2), split between UTF-8 sequences, one
  // per folded line: 39 bytes are 52 of base64, 64 with the markers, so even the first line,
  // after "Subject: ", stays under 78.
  std::string out;
  std::string_view rest = line;
  while (!rest.empty()) {
    const std::size_t n = std::max<std::size_t>(1, text::utf8_cut(rest, 39));
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(rest.substr(0, n)) + "?=";
    rest.remove_prefix(n);
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (const char c : text::to_valid_utf8(text)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string body_text(std::string_view s) { return text::escape_c(s); }

std::string compose(const mail& m) {
  std::string to;
  for (const auto& a : m.to) to += (to.empty() ? "" : ", ") + a;
  std::random_device rd;
  const std::string token = digest::sha256_hex(m.subject + m.text + std::to_string(rd()) +
                                               std::to_string(m.date.time_since_epoch().count()))
                                .substr(0, 24);
  std::string s = "From: " + m.from + "\r\nTo: " + to + "\r\nSubject: " + header_text(m.subject) +
                  "\r\nDate: " + rfc5322_date(m.date) + "\r\nMessage-ID: <" + token +
                  ".tlsrpt-collector@" + domain_of(m.from) +
                  ">\r\nMIME-Version: 1.0\r\n"
                  // RFC 3834 §5: no vacation or bounce replies to this.
                  "Auto-Submitted: auto-generated\r\n";
  const std::string text_part =
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
      "quoted-printable\r\n\r\n" +
      quoted_printable(text::to_valid_utf8(m.text)) + "\r\n";
  if (!m.html) return s + text_part;
  // "=_" cannot occur in quoted-printable text (RFC 2045 §6.7 encodes every '='), so the
  // boundary cannot occur in either part.
  const std::string boundary = "=_tlsrpt_" + token;
  return s + "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n--" +
         boundary + "\r\n" + text_part + "--" + boundary +
         "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: "
         "quoted-printable\r\n\r\n" +
         quoted_printable(text::to_valid_utf8(*m.html)) + "\r\n--" + boundary + "--\r\n";
}

}  // namespace tlsrpt::monitor::detail
