// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/imap/curl_mailbox.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "tlsrpt/imap/protocol.hpp"
#include "tlsrpt/imap/reader.hpp"

namespace tlsrpt::imap {

namespace detail {

// Long UID sets make unreadable error messages; the start is enough to find the command.
std::string brief(std::string_view set) {
  if (set.size() <= 40) return std::string(set);
  return std::string(set.substr(0, 40)) + "...";
}

// Whether a literal announced at the end of `text` is the BODY[] of a FETCH response
// (`... BODY[] {2048}`; BODY.PEEK[] is answered as BODY[], RFC 3501 §7.4.2).
bool is_body_literal(std::string_view text) {
  const auto open = text.rfind('{');
  if (open == std::string_view::npos) return false;
  auto before = text.substr(0, open);
  if (before.ends_with('~')) before.remove_suffix(1);
  if (!before.ends_with(' ')) return false;
  before.remove_suffix(1);
  for (const std::string_view name : {"BODY[]", "RFC822", "BINARY[]"}) {
    if (before.size() < name.size()) continue;
    const auto tail = before.substr(before.size() - name.size());
    if (std::equal(tail.begin(), tail.end(), name.begin(),
                   [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; }))
      return true;
  }
  return false;
}

}  // namespace detail

using namespace std::string_literals;

library::library() {
  const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    throw error("imap: cannot initialise libcurl: "s + curl_easy_strerror(rc) + " (" +
                    std::to_string(static_cast<int>(rc)) + ")",
                static_cast<int>(rc), false);
}

library::~library() { curl_global_cleanup(); }

struct curl_mailbox::impl {
  imap::session s;
  std::string folder;
  folder_state st;
  bool selected = false;  // on the current connection
  std::vector<std::string> known_folders;
  std::size_t search_rejected = 0;

  explicit impl(connection_options o) : s(std::move(o)) {}

  // Opens the connection if it is not (a failure mid-pass closed it) and selects the folder
  // of the last select() again.
  void ensure() {
    if (s.is_open() && (selected || folder.empty())) return;
    s.open();
    if (!folder.empty() && !selected) {
      const auto before = st.uidvalidity;
      select_now(folder);
      // RFC 3501 §2.3.1.1: the UIDs the caller holds mean nothing now.
      if (st.uidvalidity != before)
        throw error("imap: cannot SELECT " + folder + " again after reconnecting: UIDVALIDITY " +
                        "changed from " + std::to_string(before) + " to " +
                        std::to_string(st.uidvalidity),
                    0, false);
    }
  }

  detail::tagged_status run(std::string_view command, const std::string& what,
                            const session::handler& h = {}) {
    ensure();
    try {
      return s.run(command, what, h);
    } catch (...) {
      if (!s.is_open()) selected = false;
      throw;
    }
  }

  // Untagged responses' text, one per line, for the parsers of protocol.hpp.
  static session::handler collect(std::string& into) {
    session::handler h;
    h.on_untagged = [&into](detail::response& r) {
      into += r.text;
      into += "\r\n";
    };
    return h;
  }

  void select_now(const std::string& name) {
    std::string lines;
    selected = false;
    s.open();
    s.run("SELECT " + detail::quoted(name), "SELECT " + name, collect(lines));
    const auto now = detail::parse_select(lines);
    if (now.uidvalidity == 0)
      throw error("imap: cannot SELECT " + name + ": the server sent no UIDVALIDITY", 0, false);
    folder = name;
    st = now;
    selected = true;
  }

  void require_selected(const char* verb) const {
    if (folder.empty()) throw error("imap: cannot "s + verb + ": no folder is selected", 0, false);
  }

  bool exists(const std::string& name) {
    std::string lines;
    run("LIST \"\" " + detail::quoted(name), "LIST " + name, collect(lines));
    const auto names = detail::parse_list(lines);
    return std::find(names.begin(), names.end(), name) != names.end();
  }

  bool create_folder(const std::string& name) {
    if (exists(name)) return false;
    try {
      run("CREATE " + detail::quoted(name), "CREATE " + name);
    } catch (const error& e) {
      // Created by someone else since the LIST (RFC 5530 ALREADYEXISTS).
      if (e.code() == 0 && detail::response_code(e.server_status()) == "ALREADYEXISTS")
        return false;
      throw;
    }
    return true;
  }

  void ensure_folder(const std::string& name) {
    if (std::find(known_folders.begin(), known_folders.end(), name) != known_folders.end()) return;
    create_folder(name);
    known_folders.push_back(name);
  }

  void store(std::span<const std::uint32_t> uids, const char* op,
             const std::vector<std::string>& flags) {
    require_selected("UID STORE");
    if (uids.empty() || flags.empty()) return;
    const auto list = detail::flag_list(flags);
    for (const auto& set : detail::uid_sets(uids)) {
      run("UID STORE " + set + " " + op + " " + list,
          "UID STORE " + detail::brief(set) + " " + op + " " + list + " in " + folder);
    }
  }

  void fetch_set(const std::string& set, std::span<const std::uint32_t> asked,
                 std::vector<char>& delivered, bool& taking,
                 const std::function<bool(fetched_message&)>& on_message) {
    const auto limit = s.options().max_message_bytes;
    session::handler h;
    h.keep_literal = [&](std::string_view text, std::uint64_t size) {
      if (!taking) return false;
      if (detail::is_body_literal(text)) return limit == 0 || size <= limit;
      return size <= 64u * 1024u;
    };
    h.on_untagged = [&](detail::response& r) {
      if (!taking) return;
      std::optional<detail::fetch_response> f;
      try {
        f = detail::parse_fetch(r);
      } catch (const detail::protocol_error&) {
        return;  // tells nothing that can be trusted; the UID counts as not answered
      }
      if (!f || !f->uid || (!f->body_literal && !f->body_inline)) return;  // a flag update
      // Issue 15: only what was asked, once. A FETCH for another UID is never taken for one.
      const auto it = std::lower_bound(asked.begin(), asked.end(), *f->uid);
      if (it == asked.end() || *it != *f->uid) return;
      const auto i = static_cast<std::size_t>(it - asked.begin());
      if (delivered[i] != 0) return;
      delivered[i] = 1;
      fetched_message m;
      m.uid = *f->uid;
      if (f->body_literal) {
        auto& lit = r.literals[*f->body_literal];
        m.size = lit.size;
        if (lit.kept) {
          m.raw = std::move(lit.data);
        } else {
          m.oversized = true;
        }
      } else {
        m.raw = std::move(*f->body_inline);
        m.size = m.raw.size();
      }
      if (f->size && *f->size > m.size) m.size = *f->size;
      if (!on_message(m)) taking = false;
    };
    run("UID FETCH " + set + " (UID RFC822.SIZE FLAGS BODY.PEEK[])",
        "UID FETCH " + detail::brief(set) + " from " + folder, h);
  }
};

curl_mailbox::curl_mailbox(connection_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}
curl_mailbox::~curl_mailbox() = default;

folder_state curl_mailbox::select(const std::string& folder) {
  impl_->select_now(folder);
  return impl_->st;
}

std::vector<message_ref> curl_mailbox::search(const std::vector<std::string>& exclude_keywords) {
  auto& m = *impl_;
  m.require_selected("UID SEARCH");
  std::string criteria;
  for (const auto& k : exclude_keywords) criteria += " NOT KEYWORD " + detail::checked_flag(k);
  if (criteria.empty()) criteria = " ALL";

  // Dovecot adds mail delivered since the last command to the session's view only when a
  // command ends, so a SEARCH alone would miss it: a NOOP first lets it in (RFC 3501 §6.1.2).
  m.run("NOOP", "NOOP in " + m.folder);
  // Issue 15: one SEARCH of what exists, however large UIDNEXT claims to be.
  detail::search_result found;
  session::handler h;
  h.on_untagged = [&](detail::response& r) { detail::parse_search_response(r.text, found); };
  m.run("UID SEARCH" + criteria, "UID SEARCH" + criteria + " in " + m.folder, h);
  m.search_rejected = found.rejected;
  auto& uids = found.uids;
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());

  std::vector<message_ref> refs;
  refs.reserve(uids.size());
  session::handler meta;
  meta.on_untagged = [&](detail::response& r) {
    try {
      const auto f = detail::parse_fetch(r);
      if (!f || !f->uid || !f->size || !f->flags) return;
      bool seen = false;
      for (const auto& flag : *f->flags) {
        if (flag.size() == 5 && (flag[1] == 'S' || flag[1] == 's') &&
            (flag == "\\Seen" || flag == "\\SEEN" || flag == "\\seen"))
          seen = true;
      }
      refs.push_back({*f->uid, *f->size, seen});
    } catch (const detail::protocol_error&) {
      // Not trusted: the message is left for the next pass.
    }
  };
  for (const auto& set : detail::uid_sets(uids)) {
    m.run("UID FETCH " + set + " (UID RFC822.SIZE FLAGS)",
          "UID FETCH " + detail::brief(set) + " (RFC822.SIZE FLAGS) from " + m.folder, meta);
  }
  // Keep what SEARCH found (a message expunged in between has no FETCH line), once, in order.
  std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
  refs.erase(std::unique(refs.begin(), refs.end(),
                         [](const auto& a, const auto& b) { return a.uid == b.uid; }),
             refs.end());
  std::erase_if(refs, [&](const message_ref& r) {
    return !std::binary_search(uids.begin(), uids.end(), r.uid);
  });
  return refs;
}

std::size_t curl_mailbox::search_rejected() const noexcept { return impl_->search_rejected; }

void curl_mailbox::fetch_many(std::span<const std::uint32_t> uids,
                              const std::function<bool(fetched_message&)>& on_message) {
  auto& m = *impl_;
  m.require_selected("UID FETCH");
  std::vector<std::uint32_t> asked(uids.begin(), uids.end());
  std::sort(asked.begin(), asked.end());
  asked.erase(std::unique(asked.begin(), asked.end()), asked.end());
  std::vector<char> delivered(asked.size(), 0);
  bool taking = true;
  // Slices of at most fetch_slice UIDs, each one command or a few (uid_sets keeps a command
  // under max_set_chars). After each slice, the UIDs it asked for and did not get are answered
  // with the server's refusal or "no usable answer", so a caller sees every UID once.
  constexpr std::size_t fetch_slice = 2000;
  for (std::size_t lo = 0; lo < asked.size() && taking; lo += fetch_slice) {
    const std::size_t hi = std::min(asked.size(), lo + fetch_slice);
    std::optional<std::string> refused;
    for (const auto& set : detail::uid_sets(std::span(asked).subspan(lo, hi - lo))) {
      try {
        m.fetch_set(set, asked, delivered, taking, on_message);
      } catch (const error& e) {
        // NO/BAD refuses this command only: what came before it stands.
        if (e.server_status().empty() || e.transient()) throw;
        refused = e.what();
      }
      if (!taking) return;
    }
    for (std::size_t i = lo; i < hi && taking; ++i) {
      if (delivered[i] != 0) continue;
      delivered[i] = 1;
      fetched_message fm;
      fm.uid = asked[i];
      fm.error = refused ? *refused
                         : "imap: cannot UID FETCH " + std::to_string(asked[i]) + " from " +
                               m.folder + ": the server sent no usable answer for it";
      if (!on_message(fm)) taking = false;
    }
  }
}

std::string curl_mailbox::fetch(std::uint32_t uid) {
  std::optional<fetched_message> got;
  fetch_many(std::span(&uid, 1), [&](fetched_message& m) {
    got = std::move(m);
    return true;
  });
  if (!got || got->error)
    throw error(got && got->error ? *got->error
                                  : "imap: cannot UID FETCH " + std::to_string(uid) + ": no answer",
                0, false);
  if (got->oversized)
    throw error("imap: cannot UID FETCH " + std::to_string(uid) + " from " + impl_->folder +
                    ": the message is larger than the limit of " +
                    std::to_string(impl_->s.options().max_message_bytes) + " octets",
                0, false);
  return std::move(got->raw);
}

void curl_mailbox::add_flags(std::span<const std::uint32_t> uids,
                             const std::vector<std::string>& flags) {
  impl_->store(uids, "+FLAGS.SILENT", flags);
}

void curl_mailbox::remove_flags(std::span<const std::uint32_t> uids,
                                const std::vector<std::string>& flags) {
  impl_->store(uids, "-FLAGS.SILENT", flags);
}

void curl_mailbox::move(std::span<const std::uint32_t> uids, const std::string& target) {
  auto& m = *impl_;
  m.require_selected("UID MOVE");
  if (uids.empty()) return;
  const auto quoted_target = detail::quoted(target);
  m.ensure();
  const bool use_move = m.s.options().use_move && m.s.has_capability("MOVE");
  // Without UIDPLUS only a plain EXPUNGE is left, and that also removes mail other clients
  // marked \Deleted: refuse rather than lose someone else's mail.
  if (!use_move && !m.s.has_capability("UIDPLUS"))
    throw error("imap: cannot move messages from " + m.folder + " to " + target + ": " +
                    m.s.host() +
                    " offers neither MOVE nor UIDPLUS, and a plain EXPUNGE would remove other "
                    "clients' deleted mail",
                0, false);
  m.ensure_folder(target);
  for (const auto& set : detail::uid_sets(uids)) {
    const auto where = detail::brief(set) + " to " + target + " from " + m.folder;
    if (use_move) {
      m.run("UID MOVE " + set + " " + quoted_target, "UID MOVE " + where);  // RFC 6851
    } else {
      m.run("UID COPY " + set + " " + quoted_target, "UID COPY " + where);
      m.run("UID STORE " + set + " +FLAGS.SILENT (\\Deleted)",
            "UID STORE " + detail::brief(set) + " +FLAGS.SILENT (\\Deleted) in " + m.folder);
      m.run("UID EXPUNGE " + set,  // RFC 4315 §2.1: only these UIDs
            "UID EXPUNGE " + detail::brief(set) + " in " + m.folder);
    }
  }
}

const std::vector<std::string>& curl_mailbox::capabilities() {
  impl_->ensure();
  return impl_->s.capabilities();
}

bool curl_mailbox::has_capability(std::string_view name) {
  std::string upper(name);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  impl_->ensure();
  return impl_->s.has_capability(upper);
}

bool curl_mailbox::create_folder(const std::string& folder) {
  const bool created = impl_->create_folder(folder);
  impl_->known_folders.push_back(folder);
  return created;
}

void curl_mailbox::delete_folder(const std::string& folder) {
  auto& m = *impl_;
  m.run("DELETE " + detail::quoted(folder), "DELETE " + folder);
  std::erase(m.known_folders, folder);
}

std::uint32_t curl_mailbox::append(const std::string& folder, std::string_view raw,
                                   const std::vector<std::string>& flags) {
  auto& m = *impl_;
  const auto list = detail::flag_list(flags);  // checked before anything is sent
  session::handler h;
  bool sent = false;
  // RFC 3501 §6.3.11: the octets follow the server's continuation request.
  h.on_continuation = [&](std::string_view) {
    if (sent) return;
    sent = true;
    std::string data(raw);
    data += "\r\n";
    m.s.send_raw(data);
  };
  const auto t = m.run(
      "APPEND " + detail::quoted(folder) + " " + list + " {" + std::to_string(raw.size()) + "}",
      "APPEND to " + folder, h);
  return detail::appended_uid(t.text).value_or(0);
}

const std::string& curl_mailbox::folder() const noexcept { return impl_->folder; }
const folder_state& curl_mailbox::state() const noexcept { return impl_->st; }
imap::session& curl_mailbox::channel() noexcept { return impl_->s; }

}  // namespace tlsrpt::imap
