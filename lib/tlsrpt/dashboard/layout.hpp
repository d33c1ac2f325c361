// SPDX-License-Identifier: Apache-2.0
// The frame every page shares: the document head with its Content-Security-Policy and inline
// style sheet, the navigation and the footer. Internal to the dashboard module.
#pragma once

#include <string>
#include <string_view>

namespace tlsrpt::dashboard::detail {

// The Content-Security-Policy of every page, in a <meta> element so that the file written by
// `report --html` carries it too: nothing loads, nothing runs; only the inline style sheet and
// the page's own links and forms work. (The server adds frame-ancestors in its header: a
// <meta> policy may not hold it.)
inline constexpr std::string_view content_security_policy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'";

struct nav_links {
  std::string overview;  // already escaped for an attribute
  std::string messages;
  std::string_view current;  // "overview", "domain", "messages", ""
};

// A complete document around body (HTML). title is plain text.
std::string document(std::string_view title, const nav_links& nav, const std::string& body,
                     std::string_view generated_at);

}  // namespace tlsrpt::dashboard::detail
