// SPDX-License-Identifier: Apache-2.0
// A bound on GMime's recursion, computed before its parser sees a message.
//
// GMime's parser (and g_object_unref of the tree it builds) recurses once per multipart or
// message/* level, so 25 MiB of nested multiparts (about 40 bytes a level) would overflow the
// stack. A larger stack only moves that limit, so we measure the depth first. The scan treats
// every line as if it could be a header (a body line that looks like one only raises the
// estimate) and it never estimates below what GMime would build:
//  - a level needs a Content-Type that names multipart or message (anywhere in its value, so
//    comments and odd spacing count too); multipart/digest counts twice, since its parts are
//    message/rfc822 by default with no header of their own (RFC 2046 §5.1.5);
//  - a level ends only on an exact boundary line of a boundary we read with certainty (a plain
//    token or quoted string); when the value is anything else, its level never ends.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "tlsrpt/mime/detail.hpp"

namespace tlsrpt::mime::detail {
namespace {

bool contains_nocase(std::string_view s, std::string_view what) noexcept {
  return std::search(s.begin(), s.end(), what.begin(), what.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         }) != s.end();
}

bool starts_with_nocase(std::string_view s, std::string_view what) noexcept {
  return s.size() >= what.size() &&
         std::equal(what.begin(), what.end(), s.begin(), [](char a, char b) {
           return a == std::tolower(static_cast<unsigned char>(b));
         });
}

// The boundary of a Content-Type value when it is certain; "" otherwise (never matches).
std::string_view certain_boundary(std::string_view v) {
  if (v.find('(') != std::string_view::npos || contains_nocase(v, "boundary*")) return {};
  std::size_t at = std::string_view::npos;
  for (std::size_t i = 0; i + 9 <= v.size(); ++i) {
    if (starts_with_nocase(v.substr(i), "boundary=")) {
      if (at != std::string_view::npos) return {};  // twice: which one wins is GMime's call
      at = i + 9;
    }
  }
  if (at == std::string_view::npos) return {};
  v.remove_prefix(at);
  if (v.starts_with('"')) {
    const std::size_t end = v.find('"', 1);
    if (end == std::string_view::npos) return {};
    v = v.substr(1, end - 1);
    if (v.find_first_of("\\\r\n") != std::string_view::npos) return {};
    return v;
  }
  const std::size_t end = v.find_first_of("; \t\r\n");
  return v.substr(0, end);
}

struct level {
  std::string_view boundary;  // empty: ends only with an enclosing level
  std::size_t weight;
};

}  // namespace

bool nesting_exceeds(std::string_view m, std::size_t limit) {
  std::vector<level> open;
  std::size_t depth = 0;
  std::size_t pos = 0;
  while (pos < m.size()) {
    std::size_t eol = m.find('\n', pos);
    if (eol == std::string_view::npos) eol = m.size();
    std::string_view line = m.substr(pos, eol - pos);
    if (line.starts_with("--")) {
      std::string_view rest = line.substr(2);
      while (!rest.empty() && (rest.back() == '\r' || rest.back() == ' ' || rest.back() == '\t')) {
        rest.remove_suffix(1);
      }
      const bool close = rest.ends_with("--");
      for (std::size_t i = open.size(); i-- > 0;) {
        const std::string_view b = open[i].boundary;
        if (b.empty() || (rest != b && !(close && rest.substr(0, rest.size() - 2) == b))) continue;
        // Levels inside this multipart end here; the multipart itself ends on its close line.
        const std::size_t keep = close ? i : i + 1;
        for (std::size_t k = keep; k < open.size(); ++k) depth -= open[k].weight;
        open.resize(keep);
        break;
      }
      pos = eol + 1;
      continue;
    }
    std::size_t colon = 0;
    if (starts_with_nocase(line, "content-type")) {
      colon = 12;
      while (colon < line.size() && (line[colon] == ' ' || line[colon] == '\t')) ++colon;
    }
    if (colon == 0 || colon >= line.size() || line[colon] != ':') {
      pos = eol + 1;
      continue;
    }
    // The field's value with its continuation lines.
    std::size_t end = eol;
    while (end + 1 < m.size() && (m[end + 1] == ' ' || m[end + 1] == '\t')) {
      end = m.find('\n', end + 1);
      if (end == std::string_view::npos) end = m.size();
    }
    const std::string_view value = m.substr(pos + colon + 1, end - pos - colon - 1);
    pos = end + 1;
    if (!contains_nocase(value, "multipart") && !contains_nocase(value, "message")) continue;
    const std::size_t weight = contains_nocase(value, "digest") ? 2 : 1;
    open.push_back({certain_boundary(value), weight});
    depth += weight;
    if (depth > limit) return true;
  }
  return false;
}

}  // namespace tlsrpt::mime::detail
