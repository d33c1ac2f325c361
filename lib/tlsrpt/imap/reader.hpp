// SPDX-License-Identifier: Apache-2.0
// The server side of the raw command channel, read as text (issue 17): an incremental reader
// that cuts the byte stream into responses and literals, and strict parsers for what the
// collector asks (FETCH, SEARCH, tagged status). Pure code with no I/O, in the style of
// protocol.hpp, so every hostile input is tested without a server. Internal to the imap module.
//
// Nothing here trusts the server: a literal's size is parsed with an overflow check and
// compared with the caller's limit before a byte of it is held (a larger one is read past,
// never reserved), a response's text outside literals is bounded, and a response that breaks
// the grammar is refused rather than guessed at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/imap/mailbox.hpp"

namespace tlsrpt::imap::detail {

// A server that breaks the protocol so that the rest of the stream cannot be trusted (a
// literal size that overflows, a response longer than the bound): the connection is dropped.
class protocol_error : public error {
 public:
  explicit protocol_error(const std::string& what) : error("imap: " + what, 0, true) {}
};

// A literal announced at the end of a line (RFC 3501 §4.3 `{N}`, RFC 3516 `~{N}`).
struct literal_announcement {
  enum class kind { none, literal };
  kind what = kind::none;
  std::uint64_t size = 0;
};
// `line` without its CRLF. `{9x9}` or `{}` is no literal (plain text, which the grammar of the
// response then refuses where it matters); digits that overflow 64 bits throw protocol_error,
// since the stream after them cannot be framed.
literal_announcement literal_at_end(std::string_view line);

// One literal of a response: kept (its octets in `data`) or read past (only its size).
struct literal {
  std::uint64_t size = 0;
  bool kept = false;
  std::string data;
};

// One complete server response: its text with every literal's octets replaced by its
// announcement (`* 3 FETCH (UID 7 BODY[] {2048})`), and the literals in order.
struct response {
  std::string text;
  std::vector<literal> literals;
};

// Cuts a byte stream into responses. Feed it what recv() returned, then call next() until it
// says need_more. At event::literal the caller decides with keep_literal()/skip_literal()
// whether the announced literal is held (into the response) or read past.
class response_reader {
 public:
  // `max_text`: the bound on one response's text outside its literals.
  explicit response_reader(std::size_t max_text = 16u * 1024u * 1024u) : max_text_(max_text) {}

  void feed(std::string_view bytes);
  enum class event { need_more, literal, response };
  event next();

  // At event::literal: the announced size and the response's text up to the announcement.
  std::uint64_t literal_size() const noexcept { return literal_size_; }
  const std::string& text() const noexcept { return current_.text; }
  void keep_literal();
  void skip_literal();
  // At event::response: the response (the reader starts the next one).
  response take();

  // Octets fed but not yet consumed (for tests and for the bound on buffered input).
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }

 private:
  enum class state { line, literal_pending, literal };
  void compact();

  std::size_t max_text_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::size_t scanned_ = 0;  // buf_ from pos_ up to here holds no LF
  state state_ = state::line;
  std::uint64_t literal_size_ = 0;
  std::uint64_t literal_left_ = 0;
  bool keep_ = false;
  response current_;
};

// A tagged status line (`A0004 NO [TRYCREATE] no such mailbox`).
struct tagged_status {
  std::string tag;
  enum class kind { ok, no, bad } status = kind::ok;
  std::string text;  // after the status word: "[TRYCREATE] no such mailbox"
};
// nullopt for untagged (`*`) and continuation (`+`) responses.
std::optional<tagged_status> parse_tagged(std::string_view text);

// What one `* n FETCH (...)` response says about a message (RFC 3501 §7.4.2).
struct fetch_response {
  std::uint32_t seq = 0;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint64_t> size;              // RFC822.SIZE
  std::optional<std::vector<std::string>> flags;  // FLAGS, as sent
  // BODY[]: the index of its literal in the response, or the content of a quoted string / NIL.
  std::optional<std::size_t> body_literal;
  std::optional<std::string> body_inline;
};
// nullopt for responses that are not FETCH. A FETCH that breaks the grammar (unbalanced lists,
// an unterminated quoted string, `{9x9}` as a value, a number that overflows, a literal marker
// with no literal) throws protocol_error: it tells nothing that can be trusted.
std::optional<fetch_response> parse_fetch(const response& r);

// Untagged status-like responses the reader acts on wherever they come.
struct untagged_event {
  enum class kind { other, exists, expunge, bye, capability } what = kind::other;
  std::uint32_t number = 0;  // EXISTS count, EXPUNGE sequence number
  std::string text;          // BYE's text
};
untagged_event classify_untagged(std::string_view text);

// `* SEARCH 1 2 3` (RFC 3501 §7.2.5; RFC 7162's trailing `(MODSEQ n)` ignored).
// Only UIDs in 1..4294967295 are kept; anything else (0, 4294967296, `x`) is counted in
// `rejected` and left out, so one bad token never hides the good ones after it.
struct search_result {
  std::vector<std::uint32_t> uids;
  std::size_t rejected = 0;
};
void parse_search_response(std::string_view text, search_result& out);

}  // namespace tlsrpt::imap::detail
