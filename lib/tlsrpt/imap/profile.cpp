// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/imap/profile.hpp"

#include <algorithm>

#include "tlsrpt/text/escape.hpp"

namespace tlsrpt::imap {

server_profile profile_of(curl_mailbox& m) {
  server_profile p;
  p.greeting = text::escape_c(m.channel().greeting());
  const auto& caps = m.capabilities();
  const auto has = [&](const char* c) { return std::binary_search(caps.begin(), caps.end(), c); };
  for (const char* c : {"IDLE", "UIDPLUS", "MOVE", "ESEARCH", "CONDSTORE"})
    p.capabilities.emplace_back(c, has(c));
  p.idle = has("IDLE");
  p.move = has("MOVE");
  p.uidplus = has("UIDPLUS");
  // Gmail announces its extensions with X-GM-EXT-1 (developers.google.com/gmail/imap/
  // imap-extensions); Microsoft 365 names itself in its greeting ("The Microsoft Exchange IMAP4
  // service is ready.").
  if (has("X-GM-EXT-1")) {
    p.capabilities.emplace_back("X-GM-EXT-1", true);
    p.service = "Gmail";
  } else if (p.greeting.find("Microsoft Exchange") != std::string::npos) {
    p.service = "Microsoft 365";
  }
  return p;
}

std::string capability_line(const server_profile& p) {
  std::string s;
  for (const auto& [name, offered] : p.capabilities)
    s += (s.empty() ? "" : ", ") + name + (offered ? " yes" : " no");
  return s;
}

std::string keyword_line(const folder_state& st) {
  if (!st.permanent_flags) return "keywords kept (no PERMANENTFLAGS: every flag is permanent)";
  // The server's atoms as it sent them (flags are backslashed: escape_c would double that),
  // with anything a terminal could take for a control sequence replaced.
  std::string list;
  for (const auto& f : *st.permanent_flags) list += (list.empty() ? "" : " ") + f;
  for (auto& c : list)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  const bool star = st.keeps("$TLSRPTProcessed");
  return std::string(star ? "keywords kept" : "no new keywords kept") + " (PERMANENTFLAGS (" +
         list + "))";
}

}  // namespace tlsrpt::imap
