// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/imap/reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tlsrpt::imap::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

template <class T>
std::optional<T> whole_number(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string shown(std::string_view text) {
  // Server text in our error messages: bounded and without control characters.
  std::string r;
  for (const char c : text.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    r += u < 0x20 || u == 0x7f ? '?' : c;
  }
  if (text.size() > 80) r += "...";
  return r;
}

// A cursor over one FETCH response's text (RFC 3501 §9 msg-att).
class fetch_parser {
 public:
  explicit fetch_parser(const response& r) : r_(r), s_(r.text) {}

  fetch_response parse(std::uint32_t seq) {
    fetch_response out;
    out.seq = seq;
    expect('(');
    bool first = true;
    while (!peek(')')) {
      if (!first) expect(' ');
      first = false;
      const std::string name = item_name();
      expect(' ');
      if (iequals(name, "UID")) {
        out.uid = number<std::uint32_t>("UID");
        if (*out.uid == 0) fail("UID 0");
      } else if (iequals(name, "RFC822.SIZE")) {
        out.size = number<std::uint64_t>("RFC822.SIZE");
      } else if (iequals(name, "FLAGS")) {
        out.flags = flag_list();
      } else if (iequals(name, "BODY[]") || iequals(name, "RFC822") || iequals(name, "BINARY[]")) {
        body(out);
      } else {
        skip_value(0);
      }
    }
    expect(')');
    if (pos_ != s_.size()) fail("text after the closing parenthesis");
    if (next_literal_ != r_.literals.size()) fail("literals that no item takes");
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw protocol_error("cannot read a FETCH response: " + why + " in \"" + shown(s_) + "\"");
  }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  // An item name: an atom, with a section `[...]` and a partial `<n>` (BODY[HEADER]<0>).
  std::string item_name() {
    const auto start = pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '[') {
        const auto close = s_.find(']', pos_);
        if (close == std::string_view::npos) fail("an unterminated section");
        pos_ = close + 1;
      } else if (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{') {
        break;
      } else {
        ++pos_;
      }
    }
    if (pos_ == start) fail("an empty item name");
    return std::string(s_.substr(start, pos_ - start));
  }

  std::string_view atom() {
    const auto start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != '(' && s_[pos_] != ')' &&
           s_[pos_] != '"' && s_[pos_] != '{')
      ++pos_;
    return s_.substr(start, pos_ - start);
  }

  template <class T>
  T number(const char* what) {
    const auto a = atom();
    const auto v = whole_number<T>(a);
    if (!v) fail(std::string("a bad number for ") + what + ": \"" + shown(a) + "\"");
    return *v;
  }

  std::string quoted_string() {
    expect('"');
    std::string r;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        c = s_[pos_++];
        if (c != '"' && c != '\\') fail("a bad escape in a quoted string");
      }
      r += c;
    }
    expect('"');
    return r;
  }

  // `{N}` where the reader put a literal; returns its index.
  std::size_t literal_marker() {
    const auto start = pos_;
    if (peek('~')) ++pos_;
    expect('{');
    const auto close = s_.find('}', pos_);
    if (close == std::string_view::npos) fail("an unterminated literal");
    const auto size = whole_number<std::uint64_t>(s_.substr(pos_, close - pos_));
    if (!size) fail("a literal size that is not a number: \"" + shown(s_.substr(start)) + "\"");
    pos_ = close + 1;
    if (next_literal_ >= r_.literals.size() || r_.literals[next_literal_].size != *size)
      fail("a literal marker with no literal");
    return next_literal_++;
  }

  std::vector<std::string> flag_list() {
    expect('(');
    std::vector<std::string> flags;
    while (!peek(')')) {
      if (!flags.empty()) expect(' ');
      const auto start = pos_;
      if (peek('\\')) ++pos_;
      const auto a = atom();
      if (a.empty()) fail("an empty flag");
      flags.emplace_back(s_.substr(start, pos_ - start));
    }
    expect(')');
    return flags;
  }

  void body(fetch_response& out) {
    if (peek('{') || peek('~')) {
      out.body_literal = literal_marker();
    } else if (peek('"')) {
      out.body_inline = quoted_string();
    } else if (iequals(atom(), "NIL")) {
      out.body_inline = std::string{};
    } else {
      fail("BODY[] is neither a literal, a quoted string nor NIL");
    }
  }

  // Any value we do not use: number, atom, NIL, quoted, literal, nested list.
  void skip_value(int depth) {
    if (depth > 64) fail("lists nested too deep");
    if (peek('(')) {
      ++pos_;
      bool first = true;
      while (!peek(')')) {
        if (pos_ >= s_.size()) fail("an unterminated list");
        if (!first) expect(' ');
        first = false;
        skip_value(depth + 1);
      }
      ++pos_;
    } else if (peek('"')) {
      quoted_string();
    } else if (peek('{') || peek('~')) {
      literal_marker();
    } else {
      const auto start = pos_;
      while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != ')' && s_[pos_] != '(') {
        if (s_[pos_] == '[') {  // BODY[HEADER.FIELDS (A B)]-style atoms in nested values
          const auto close = s_.find(']', pos_);
          if (close == std::string_view::npos) fail("an unterminated section");
          pos_ = close + 1;
        } else if (s_[pos_] == '"' || s_[pos_] == '{') {
          fail("a quote or brace inside an atom");
        } else {
          ++pos_;
        }
      }
      if (pos_ == start) fail("an empty value");
    }
  }

  const response& r_;
  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t next_literal_ = 0;
};

}  // namespace

literal_announcement literal_at_end(std::string_view line) {
  if (line.empty() || line.back() != '}') return {};
  const auto open = line.rfind('{');
  if (open == std::string_view::npos) return {};
  auto digits = line.substr(open + 1, line.size() - open - 2);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return {};
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || p != digits.data() + digits.size())
    throw protocol_error("cannot frame the server's response: the literal size " + shown(digits) +
                         " does not fit in 64 bits");
  return {literal_announcement::kind::literal, v};
}

void response_reader::feed(std::string_view bytes) {
  compact();
  buf_.append(bytes);
}

void response_reader::compact() {
  if (pos_ == 0) return;
  if (pos_ == buf_.size()) {
    buf_.clear();
  } else if (pos_ > 65536 && pos_ > buf_.size() / 2) {
    buf_.erase(0, pos_);
  } else {
    return;
  }
  scanned_ -= std::min(scanned_, pos_);
  pos_ = 0;
}

response_reader::event response_reader::next() {
  for (;;) {
    switch (state_) {
      case state::literal_pending:
        return event::literal;  // the caller has not decided yet
      case state::literal: {
        const auto avail = static_cast<std::uint64_t>(buf_.size() - pos_);
        const auto n = static_cast<std::size_t>(std::min(avail, literal_left_));
        if (keep_) current_.literals.back().data.append(buf_, pos_, n);
        pos_ += n;
        literal_left_ -= n;
        if (literal_left_ > 0) return event::need_more;
        state_ = state::line;
        scanned_ = pos_;
        break;
      }
      case state::line: {
        const auto lf = buf_.find('\n', std::max(scanned_, pos_));
        if (lf == std::string::npos) {
          scanned_ = buf_.size();
          if (current_.text.size() + (buf_.size() - pos_) > max_text_)
            throw protocol_error("cannot read the server's response: more than " +
                                 std::to_string(max_text_) + " octets outside literals");
          return event::need_more;
        }
        auto end = lf;
        if (end > pos_ && buf_[end - 1] == '\r') --end;
        if (current_.text.size() + (end - pos_) > max_text_)
          throw protocol_error("cannot read the server's response: more than " +
                               std::to_string(max_text_) + " octets outside literals");
        const std::string_view line(buf_.data() + pos_, end - pos_);
        current_.text.append(line);
        pos_ = lf + 1;
        scanned_ = pos_;
        const auto lit = literal_at_end(line);
        if (lit.what == literal_announcement::kind::literal) {
          literal_size_ = lit.size;
          state_ = state::literal_pending;
          return event::literal;
        }
        return event::response;
      }
    }
  }
}

void response_reader::keep_literal() {
  // Sized once the octets are here, never from the announcement alone: a server may announce
  // a size it never sends. What the caller keeps it has bounded already.
  current_.literals.push_back({literal_size_, true, {}});
  current_.literals.back().data.reserve(
      static_cast<std::size_t>(std::min<std::uint64_t>(literal_size_, 1u << 20)));
  keep_ = true;
  literal_left_ = literal_size_;
  state_ = state::literal;
}

void response_reader::skip_literal() {
  current_.literals.push_back({literal_size_, false, {}});
  keep_ = false;
  literal_left_ = literal_size_;
  state_ = state::literal;
}

response response_reader::take() {
  response r = std::move(current_);
  current_ = {};
  return r;
}

std::optional<tagged_status> parse_tagged(std::string_view text) {
  if (text.empty() || text.front() == '*' || text.front() == '+') return std::nullopt;
  const auto sp = text.find(' ');
  if (sp == std::string_view::npos || sp == 0) return std::nullopt;
  tagged_status t;
  t.tag = std::string(text.substr(0, sp));
  auto rest = text.substr(sp + 1);
  const auto sp2 = rest.find(' ');
  const auto word = rest.substr(0, sp2);
  if (iequals(word, "OK")) {
    t.status = tagged_status::kind::ok;
  } else if (iequals(word, "NO")) {
    t.status = tagged_status::kind::no;
  } else if (iequals(word, "BAD")) {
    t.status = tagged_status::kind::bad;
  } else {
    return std::nullopt;
  }
  t.text = sp2 == std::string_view::npos ? std::string{} : std::string(rest.substr(sp2 + 1));
  return t;
}

std::optional<fetch_response> parse_fetch(const response& r) {
  std::string_view s = r.text;
  if (!s.starts_with("* ")) return std::nullopt;
  s.remove_prefix(2);
  const auto sp = s.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  const auto seq = whole_number<std::uint32_t>(s.substr(0, sp));
  if (!seq) return std::nullopt;
  auto rest = s.substr(sp + 1);
  if (!istarts_with(rest, "FETCH ")) return std::nullopt;
  response body_of{std::string(rest.substr(6)), {}};
  // The literals stay where they are; the parser only needs their sizes and order.
  body_of.literals.reserve(r.literals.size());
  for (const auto& l : r.literals) body_of.literals.push_back({l.size, l.kept, {}});
  return fetch_parser(body_of).parse(*seq);
}

untagged_event classify_untagged(std::string_view text) {
  untagged_event e;
  if (!text.starts_with("* ")) return e;
  auto rest = text.substr(2);
  if (istarts_with(rest, "BYE")) {
    e.what = untagged_event::kind::bye;
    e.text = rest.size() > 4 ? shown(rest.substr(4)) : std::string{};
    return e;
  }
  if (istarts_with(rest, "CAPABILITY ")) {
    e.what = untagged_event::kind::capability;
    return e;
  }
  const auto sp = rest.find(' ');
  if (sp == std::string_view::npos) return e;
  const auto n = whole_number<std::uint32_t>(rest.substr(0, sp));
  if (!n) return e;
  const auto word = rest.substr(sp + 1);
  if (iequals(word, "EXISTS")) {
    e.what = untagged_event::kind::exists;
    e.number = *n;
  } else if (iequals(word, "EXPUNGE")) {
    e.what = untagged_event::kind::expunge;
    e.number = *n;
  }
  return e;
}

namespace {

void take_uid_token(std::string_view tok, search_result& out) {
  if (const auto v = whole_number<std::uint32_t>(tok); v && *v != 0) {
    out.uids.push_back(*v);
  } else {
    ++out.rejected;
  }
}

}  // namespace

void parse_search_response(std::string_view text, search_result& out) {
  if (istarts_with(text, "* SEARCH")) {
    auto rest = text.substr(8);
    if (!rest.empty() && rest.front() != ' ') return;  // "* SEARCHX": not ours
    while (!rest.empty()) {
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (rest.empty()) break;
      const auto sp = rest.find(' ');
      const auto tok = rest.substr(0, sp);
      // RFC 7162 §3.1.5: "(MODSEQ n)" may end the line.
      if (tok.starts_with('(')) break;
      take_uid_token(tok, out);
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp);
    }
    return;
  }
}

}  // namespace tlsrpt::imap::detail
