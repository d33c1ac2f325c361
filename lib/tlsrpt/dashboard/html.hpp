// SPDX-License-Identifier: Apache-2.0
// HTML text for the dashboard pages: escaping of everything a report or a message supplied,
// and the number formats. Report fields are attacker-controlled (RFC 8460 §7 leaves the
// reporter free to write anything): every such string goes through text() or attr().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tlsrpt::dashboard::html {

// Escapes for element content and for quoted attribute values alike: & < > " ' become
// entities; invalid UTF-8 becomes U+FFFD; C0/C1 controls other than tab and newline become
// U+FFFD; the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069),
// which could reorder what a reader sees around them, are shown as "[U+202E]".
std::string escape(std::string_view s);

// escape() of at most max_chars code points; a longer string is cut there and ends with
// "… (N bytes)" so a 10 KB reporter name cannot take over a page.
std::string text(std::string_view s, std::size_t max_chars = 160);

// Percent-encoding for a URL query value (RFC 3986 unreserved characters stay).
std::string url_component(std::string_view s);

// 1234567 -> "1,234,567".
std::string count(std::int64_t n);
// A rate in percent with enough digits to tell 0.04% from 0: "0.042%", "12.5%", "0%".
std::string percent(double rate);

}  // namespace tlsrpt::dashboard::html
