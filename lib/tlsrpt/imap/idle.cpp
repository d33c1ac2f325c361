// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/imap/idle.hpp"

#include <algorithm>
#include <string>

#include "tlsrpt/imap/reader.hpp"
#include "tlsrpt/imap/session.hpp"

namespace tlsrpt::imap {

idle_outcome idle(curl_mailbox& mb, std::chrono::steady_clock::time_point until,
                  const std::atomic<bool>& stop, std::chrono::milliseconds stop_check) {
  using clock = std::chrono::steady_clock;
  session& s = mb.channel();
  s.open();
  if (!s.has_capability("IDLE")) return idle_outcome::unsupported;
  if (stop.load()) return idle_outcome::stopped;

  bool changed = false;
  session::handler h;
  h.on_untagged = [&](detail::response& r) {
    const auto ev = detail::classify_untagged(r.text);
    if (ev.what == detail::untagged_event::kind::exists ||
        ev.what == detail::untagged_event::kind::expunge)
      changed = true;
    // RFC 3501 §7.3.2: `* n RECENT` comes with new mail on servers that send it alone.
    if (r.text.find(" RECENT") != std::string::npos) changed = true;
  };
  const std::string what = "IDLE in " + mb.folder();
  const std::string tag = s.send("IDLE");
  // RFC 2177 §3: the server answers `+` once it idles; a tagged answer instead refuses IDLE.
  bool idling = false;
  for (;;) {
    const auto now = clock::now();
    if (changed || stop.load() || (idling && now >= until)) break;
    const auto slice = std::min(until > now ? until : now + stop_check, now + stop_check);
    const auto r = s.read_one(slice, h);
    if (!r) continue;
    if (r->text.starts_with('+')) {
      idling = true;
      continue;
    }
    if (const auto t = detail::parse_tagged(r->text); t && t->tag == tag) {
      // Ended by the server without a DONE (not allowed by RFC 2177, but a server going down
      // may): the folder may have changed, so a pass looks.
      if (t->status != detail::tagged_status::kind::ok)
        throw error("imap: cannot " + what + ": the server refused it: " + t->text, 0, false);
      return idle_outcome::changed;
    }
  }
  s.send_raw("DONE\r\n");
  const auto t = s.finish(tag, h);
  if (t.status != detail::tagged_status::kind::ok)
    throw error("imap: cannot " + what + ": " + t.text, 0, false);
  if (changed) return idle_outcome::changed;
  return stop.load() ? idle_outcome::stopped : idle_outcome::timeout;
}

}  // namespace tlsrpt::imap
