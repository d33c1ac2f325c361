// SPDX-License-Identifier: Apache-2.0
// What `check-config --connect` says about an IMAP server (issue 23): its greeting, the
// capabilities the collector's choices rest on, the service when we recognise it, and whether
// the selected folder keeps our keywords.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tlsrpt/imap/curl_mailbox.hpp"

namespace tlsrpt::imap {

struct server_profile {
  std::string greeting;  // as sent, escaped for a terminal
  // IDLE, UIDPLUS, MOVE, ESEARCH, CONDSTORE (and X-GM-EXT-1 when Gmail's), offered or not.
  std::vector<std::pair<std::string, bool>> capabilities;
  std::string service;  // "Gmail", "Microsoft 365" or "" (from the greeting and capabilities)
  bool idle = false;
  bool move = false;     // MOVE (RFC 6851)
  bool uidplus = false;  // UIDPLUS (RFC 4315): COPY + UID EXPUNGE when there is no MOVE
};

// Of a logged-in mailbox (after select()).
server_profile profile_of(curl_mailbox& m);

// One line: "IDLE yes, UIDPLUS yes, MOVE no, ...".
std::string capability_line(const server_profile& p);
// One line about the folder's PERMANENTFLAGS: "keywords kept (\* in PERMANENTFLAGS)", ...
std::string keyword_line(const folder_state& st);

}  // namespace tlsrpt::imap
