// SPDX-License-Identifier: Apache-2.0
// The IMAP text that libcurl leaves to us: quoting, UID sets, and the untagged responses of
// the commands we send as custom requests. Pure functions over strings, so they are tested
// without a server. Internal to the imap module.
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

// Keeps each command well under the 8,000 octets RFC 7162 §4 recommends servers accept.
inline constexpr std::size_t max_set_chars = 7000;

// Compact UID sets ("1:5,8,10:12") covering `uids` (any order, duplicates allowed), split so
// that no set is longer than `max_chars` nor covers more than `max_uids` messages.
std::vector<std::string> uid_sets(std::span<const std::uint32_t> uids,
                                  std::size_t max_chars = max_set_chars,
                                  std::size_t max_uids = SIZE_MAX);

// An IMAP quoted string (RFC 3501 §4.3). Throws imap::error for characters a quoted string
// cannot carry (CR, LF, NUL) and for non-ASCII, which would need modified UTF-7 (§5.1.3).
std::string quoted(std::string_view s);

// A flag or keyword checked to be an atom (RFC 3501 §9 flag-keyword) or a system flag.
// Throws imap::error otherwise, before anything reaches the server.
std::string checked_flag(std::string_view flag);

// `(\Seen $TLSRPTProcessed)`.
std::string flag_list(const std::vector<std::string>& flags);

// Calls `f(line)` for every CRLF- or LF-terminated line of `text`, without the terminator.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// SELECT's untagged responses (RFC 3501 §7.3.1, §7.1).
folder_state parse_select(std::string_view response);

// `* SEARCH 1 2 3` lines (RFC 3501 §7.2.5); appends the numbers to `out`.
void parse_search(std::string_view response, std::vector<std::uint32_t>& out);

// `* 12 FETCH (UID 40 RFC822.SIZE 2048 FLAGS (\Seen))` lines; appends those that carry both
// UID and RFC822.SIZE (unsolicited FETCH responses carry only FLAGS and are left out).
void parse_fetch_meta(std::string_view response, std::vector<message_ref>& out);

// The mailbox names of `* LIST (\HasNoChildren) "/" name` lines (quoted or atom).
std::vector<std::string> parse_list(std::string_view response);

// `* CAPABILITY ...` atoms, upper-cased.
std::vector<std::string> parse_capabilities(std::string_view response);

// The last tagged status line (`A005 NO [TRYCREATE] ...`), without its tag; empty if none.
std::string last_tagged(std::string_view response);
// The last tagged NO or BAD, without its tag; empty if none. libcurl closes the connection
// after a failed command (LOGOUT and all) within the same transfer, so the failing answer is
// not always the last tagged line.
std::string last_refusal(std::string_view response);

// The response code of a status text: "[TRYCREATE]" -> "TRYCREATE", "" when none.
std::string response_code(std::string_view status);

// Whether a refusal (the text after NO or BAD) says "not now", so the next pass may succeed
// and no message is to blame: RFC 5530's UNAVAILABLE and INUSE, and the throttling answers of
// the big services, which carry no such code (see protocol.cpp for who sends what).
bool refusal_is_temporary(std::string_view text);
// Microsoft 365's "Suggested Backoff Time: <n> milliseconds", in milliseconds, when present.
std::optional<std::uint64_t> suggested_backoff_ms(std::string_view text);
// What to add to the error of a refusal we recognise, for the person reading the log
// ("; ..."), or "" when there is nothing to add.
std::string refusal_hint(std::string_view text);

// `[APPENDUID <uidvalidity> <uid>]` (RFC 4315 §3) from a status text.
std::optional<std::uint32_t> appended_uid(std::string_view status);

// A command line as the protocol trace shows it: LOGIN arguments, AUTHENTICATE initial
// responses and SASL continuation lines (anything without a tag) become "[redacted]".
std::string redact_command(std::string_view line);

}  // namespace tlsrpt::imap::detail
