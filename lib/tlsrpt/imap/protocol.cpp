// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/imap/protocol.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tlsrpt::imap::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string upper(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::toupper(static_cast<unsigned char>(a)) ==
                  std::toupper(static_cast<unsigned char>(b));
         });
}

// Reads a decimal number at the start of `s`, advancing past it.
template <class T>
std::optional<T> take_number(std::string_view& s) {
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{}) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  return v;
}

std::string_view skip_spaces(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

// The number after `key ` in `s` (case-insensitive key, searched as a whole word).
template <class T>
std::optional<T> number_after(std::string_view s, std::string_view key) {
  const auto u = upper(s);
  std::size_t pos = 0;
  while ((pos = u.find(key, pos)) != std::string::npos) {
    const bool word_start = pos == 0 || u[pos - 1] == ' ' || u[pos - 1] == '(' || u[pos - 1] == '[';
    const auto end = pos + key.size();
    if (word_start && end < u.size() && u[end] == ' ') {
      auto rest = s.substr(end + 1);
      return take_number<T>(rest);
    }
    pos = end;
  }
  return std::nullopt;
}

[[noreturn]] void bad_argument(const std::string& what) { throw error("imap: " + what, 0, false); }

}  // namespace

std::vector<std::string> uid_sets(std::span<const std::uint32_t> uids, std::size_t max_chars,
                                  std::size_t max_uids) {
  std::vector<std::uint32_t> sorted(uids.begin(), uids.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<std::string> sets;
  std::string cur;
  std::size_t in_cur = 0;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1 &&
           in_cur + (j + 1 - i) < max_uids)
      ++j;
    std::string range = std::to_string(sorted[i]);
    if (j > i) range += ":" + std::to_string(sorted[j]);
    if (!cur.empty() && (cur.size() + 1 + range.size() > max_chars || in_cur >= max_uids)) {
      sets.push_back(std::move(cur));
      cur.clear();
      in_cur = 0;
      continue;  // the range again, now limited by a fresh count
    }
    in_cur += j - i + 1;
    if (!cur.empty()) cur += ',';
    cur += range;
    i = j + 1;
  }
  if (!cur.empty()) sets.push_back(std::move(cur));
  return sets;
}

std::string quoted(std::string_view s) {
  std::string r;
  r.reserve(s.size() + 2);
  r += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n' || c == '\0')
      bad_argument("cannot quote \"" + std::string(s) + "\": it holds a control character");
    if (u >= 0x80)
      bad_argument("cannot quote \"" + std::string(s) +
                   "\": non-ASCII folder names need modified UTF-7, which is not supported");
    if (c == '"' || c == '\\') r += '\\';
    r += c;
  }
  r += '"';
  return r;
}

std::string checked_flag(std::string_view flag) {
  // RFC 3501 §9: flag = "\Answered" / ... / flag-keyword / flag-extension; both are atoms
  // after the optional backslash. atom-specials: ( ) { SP CTL % * " \ ]
  auto body = flag;
  if (!body.empty() && body.front() == '\\') body.remove_prefix(1);
  const bool ok = !body.empty() && std::all_of(body.begin(), body.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && std::string_view("(){%*\"\\]").find(c) == std::string_view::npos;
  });
  if (!ok) bad_argument("cannot use \"" + std::string(flag) + "\" as a flag: it is not an atom");
  return std::string(flag);
}

std::string flag_list(const std::vector<std::string>& flags) {
  std::string r = "(";
  for (const auto& f : flags) {
    if (r.size() > 1) r += ' ';
    r += checked_flag(f);
  }
  r += ')';
  return r;
}

folder_state parse_select(std::string_view response) {
  folder_state st;
  for_each_line(response, [&](std::string_view line) {
    if (!line.starts_with("* ")) return;
    auto rest = line.substr(2);
    if (istarts_with(rest, "OK [UIDVALIDITY ")) {
      rest.remove_prefix(16);
      if (auto v = take_number<std::uint32_t>(rest)) st.uidvalidity = *v;
    } else if (istarts_with(rest, "OK [PERMANENTFLAGS (")) {
      // RFC 3501 §7.1: `* OK [PERMANENTFLAGS (\Seen \Deleted \*)] ...`
      rest.remove_prefix(20);
      const auto close = rest.find(')');
      if (close == std::string_view::npos) return;  // broken: as if not sent
      std::vector<std::string> flags;
      auto list = rest.substr(0, close);
      while (!list.empty()) {
        list = skip_spaces(list);
        const auto end = list.find(' ');
        if (!list.empty()) flags.emplace_back(list.substr(0, end));
        if (end == std::string_view::npos) break;
        list.remove_prefix(end);
      }
      st.permanent_flags = std::move(flags);
    } else if (istarts_with(rest, "OK [UIDNEXT ")) {
      rest.remove_prefix(12);
      if (auto v = take_number<std::uint32_t>(rest)) st.uidnext = *v;
    } else if (auto n = take_number<std::uint32_t>(rest)) {
      if (istarts_with(rest, " EXISTS")) st.exists = *n;
    }
  });
  return st;
}

void parse_search(std::string_view response, std::vector<std::uint32_t>& out) {
  for_each_line(response, [&](std::string_view line) {
    if (!istarts_with(line, "* SEARCH")) return;
    auto rest = line.substr(8);
    for (;;) {
      rest = skip_spaces(rest);
      auto v = take_number<std::uint32_t>(rest);
      if (!v) break;
      out.push_back(*v);
    }
  });
}

void parse_fetch_meta(std::string_view response, std::vector<message_ref>& out) {
  for_each_line(response, [&](std::string_view line) {
    if (!line.starts_with("* ")) return;
    auto rest = line.substr(2);
    if (!take_number<std::uint32_t>(rest) || !istarts_with(rest, " FETCH (")) return;
    rest.remove_prefix(8);
    const auto uid = number_after<std::uint32_t>(rest, "UID");
    const auto size = number_after<std::uint64_t>(rest, "RFC822.SIZE");
    if (!uid || !size) return;
    bool seen = false;
    const auto u = upper(rest);
    if (const auto f = u.find("FLAGS ("); f != std::string::npos) {
      const auto end = u.find(')', f);
      const std::string_view flags = std::string_view(u).substr(f + 7, end - (f + 7));
      for (std::size_t p = 0; (p = flags.find("\\SEEN", p)) != std::string_view::npos; p += 5) {
        const auto after = p + 5;
        if (after == flags.size() || flags[after] == ' ') seen = true;
      }
    }
    out.push_back({*uid, *size, seen});
  });
}

std::vector<std::string> parse_list(std::string_view response) {
  std::vector<std::string> names;
  for_each_line(response, [&](std::string_view line) {
    if (!istarts_with(line, "* LIST ")) return;
    // RFC 3501 §7.2.2: "* LIST" SP "(" flags ")" SP delimiter SP mailbox
    const auto close = line.find(')');
    if (close == std::string_view::npos) return;
    auto rest = skip_spaces(line.substr(close + 1));
    if (rest.starts_with('"')) {  // quoted delimiter, one (possibly escaped) character
      const auto end = rest.find('"', rest.size() > 1 && rest[1] == '\\' ? 3 : 2);
      if (end == std::string_view::npos) return;
      rest.remove_prefix(end + 1);
    } else {  // NIL
      rest.remove_prefix(std::min(rest.size(), rest.find(' ')));
    }
    rest = skip_spaces(rest);
    if (rest.starts_with('"')) {
      std::string name;
      for (std::size_t i = 1; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        name += rest[i];
      }
      names.push_back(std::move(name));
    } else if (!rest.empty() && !rest.starts_with('{')) {  // literals: not from our names
      names.emplace_back(rest);
    }
  });
  return names;
}

std::vector<std::string> parse_capabilities(std::string_view response) {
  std::vector<std::string> caps;
  for_each_line(response, [&](std::string_view line) {
    if (!istarts_with(line, "* CAPABILITY ")) return;
    auto rest = line.substr(13);
    while (!(rest = skip_spaces(rest)).empty()) {
      auto end = rest.find(' ');
      caps.push_back(upper(rest.substr(0, end)));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end);
    }
  });
  std::sort(caps.begin(), caps.end());
  caps.erase(std::unique(caps.begin(), caps.end()), caps.end());
  return caps;
}

std::string last_tagged(std::string_view response) {
  std::string last;
  for_each_line(response, [&](std::string_view line) {
    if (line.empty() || line.starts_with("* ") || line.starts_with("+")) return;
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) return;
    auto status = line.substr(sp + 1);
    if (istarts_with(status, "OK") || istarts_with(status, "NO") || istarts_with(status, "BAD"))
      last = std::string(status);
  });
  return last;
}

std::string last_refusal(std::string_view response) {
  std::string last;
  for_each_line(response, [&](std::string_view line) {
    if (line.empty() || line.starts_with("* ") || line.starts_with("+")) return;
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) return;
    auto status = line.substr(sp + 1);
    if (istarts_with(status, "NO") || istarts_with(status, "BAD")) last = std::string(status);
  });
  return last;
}

std::string response_code(std::string_view status) {
  const auto open = status.find('[');
  if (open == std::string_view::npos) return {};
  const auto close = status.find_first_of(" ]", open);
  if (close == std::string_view::npos) return {};
  return upper(status.substr(open + 1, close - open - 1));
}

namespace {
bool contains_nocase(std::string_view text, std::string_view needle) {
  return upper(text).find(upper(needle)) != std::string::npos;
}
}  // namespace

bool refusal_is_temporary(std::string_view text) {
  // RFC 5530 §3: the server says itself that the failure is temporary.
  const std::string code = response_code(text);
  if (code == "UNAVAILABLE" || code == "INUSE") return true;
  // Microsoft 365 (Exchange Online) throttles with a bare text and no response code, as NO or
  // BAD, often followed by "* BYE Connection closed. 14" (seen in imapsync's Office 365 FAQ
  // and the issue trackers of imap_tools and email-oauth2-proxy):
  //   T12 NO Request is throttled. Suggested Backoff Time: 299910 milliseconds
  // and, when a backend is overloaded: "NO Server Unavailable. 15".
  if (contains_nocase(text, "Request is throttled") || contains_nocase(text, "Server Unavailable"))
    return true;
  // Gmail over its IMAP bandwidth limits (Google Workspace admin help "Gmail bandwidth
  // limits": 2,500 MB a day down over IMAP) answers commands with
  //   T7 NO [OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)
  // and over its limit of simultaneous connections (15 per account) refuses the login with
  // "[ALERT] Too many simultaneous connections. (Failure)". Both pass with time; RFC 9208's
  // OVERQUOTA otherwise means a full mailbox, which only APPEND meets, and we never append.
  if (code == "OVERQUOTA" || contains_nocase(text, "exceeded command or bandwidth limits") ||
      contains_nocase(text, "Too many simultaneous connections"))
    return true;
  return false;
}

std::optional<std::uint64_t> suggested_backoff_ms(std::string_view text) {
  const std::string u = upper(text);
  const std::string_view needle = "SUGGESTED BACKOFF TIME:";
  const auto p = u.find(needle);
  if (p == std::string::npos) return std::nullopt;
  auto rest = skip_spaces(text.substr(p + needle.size()));
  return take_number<std::uint64_t>(rest);
}

std::string refusal_hint(std::string_view text) {
  if (const auto ms = suggested_backoff_ms(text))
    return "; the server throttles this account and asks for a pause of " +
           std::to_string((*ms + 999) / 1000) + " s: the next pass retries";
  if (refusal_is_temporary(text)) return "; the server refuses for now: the next pass retries";
  // Microsoft 365 answers the first command after an XOAUTH2 login this way when the token is
  // valid but its identity may not open the mailbox (Microsoft's "Authenticate an IMAP, POP or
  // SMTP connection using OAuth": an app-only token needs the service principal registered in
  // Exchange and FullAccess on the mailbox).
  if (contains_nocase(text, "User is authenticated but not connected"))
    return "; Microsoft 365 accepted the token but will not open this mailbox for it (for "
           "app-only access: New-ServicePrincipal and Add-MailboxPermission -AccessRights "
           "FullAccess)";
  return {};
}

std::optional<std::uint32_t> appended_uid(std::string_view status) {
  const auto u = upper(status);
  const auto p = u.find("[APPENDUID ");
  if (p == std::string::npos) return std::nullopt;
  auto rest = status.substr(p + 11);
  if (!take_number<std::uint32_t>(rest)) return std::nullopt;
  rest = skip_spaces(rest);
  return take_number<std::uint32_t>(rest);
}

std::string redact_command(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  const auto sp = line.find(' ');
  const auto tag = line.substr(0, sp);
  const bool tag_ok = sp != std::string_view::npos && tag.size() >= 2 &&
                      std::isalpha(static_cast<unsigned char>(tag[0])) != 0 &&
                      std::all_of(tag.begin() + 1, tag.end(), [](char c) {
                        return std::isdigit(static_cast<unsigned char>(c)) != 0;
                      });
  if (!tag_ok) return "[redacted]";  // a SASL continuation: credentials
  auto rest = line.substr(sp + 1);
  const auto sp2 = rest.find(' ');
  std::string verb(rest.substr(0, sp2));
  for (auto& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (verb == "LOGIN") return std::string(tag) + " LOGIN [redacted]";
  if (verb == "AUTHENTICATE") {
    auto args = sp2 == std::string_view::npos ? std::string_view{} : rest.substr(sp2 + 1);
    const auto sp3 = args.find(' ');
    std::string r = std::string(tag) + " AUTHENTICATE " + std::string(args.substr(0, sp3));
    if (sp3 != std::string_view::npos) r += " [redacted]";
    return r;
  }
  return std::string(line);
}

}  // namespace tlsrpt::imap::detail
