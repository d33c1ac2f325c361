// SPDX-License-Identifier: Apache-2.0
// Fakes of the mailbox and the store, for the collector's own logic (STYLE.md: fakes are for
// the collector; the real servers are tested in tests/imap and tests/store). Both write into
// one shared event log, so a test can check the order of writes and acknowledgements.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tlsrpt/collector/collector.hpp"

namespace tlsrpt::test {

// What a fake saw, in order: "select", "search", "fetch 3", "write 3,4", "add_flags 3,4 ...",
// "remove_flags ...", "move 3,4 -> Folder", "record_attempt 5".
struct event_log {
  std::vector<std::string> events;
  // The collector's writer thread logs store events while the pass logs mailbox events.
  void add(std::string e) {
    const std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
  std::mutex mutex;
  // Events starting with `prefix`.
  std::vector<std::string> with(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.rfind(prefix, 0) == 0) out.push_back(e);
    }
    return out;
  }
  // Index of the first event starting with prefix, or -1.
  long first(const std::string& prefix) const {
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (events[i].rfind(prefix, 0) == 0) return static_cast<long>(i);
    }
    return -1;
  }
};

inline std::string join(std::span<const std::uint32_t> uids) {
  std::string s;
  for (const auto u : uids) s += (s.empty() ? "" : ",") + std::to_string(u);
  return s;
}

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

struct fake_message {
  std::string raw;
  std::set<std::string> flags;
  std::optional<std::uint64_t> size;  // RFC822.SIZE when it should differ from raw.size()
};

class fake_mailbox : public imap::mailbox {
 public:
  explicit fake_mailbox(event_log& log) : log_(log) {}

  std::uint32_t add(std::string raw, std::set<std::string> flags = {}) {
    const std::uint32_t uid = next_uid_++;
    messages_[uid] = fake_message{std::move(raw), std::move(flags), std::nullopt};
    return uid;
  }

  imap::folder_state select(const std::string& folder) override {
    log_.add("select " + folder);
    if (fail_select) throw imap::error("imap: cannot SELECT " + folder + ": down", 7, true);
    return {uidvalidity, static_cast<std::uint32_t>(messages_.size()), next_uid_, permanent_flags};
  }

  std::vector<imap::message_ref> search(const std::vector<std::string>& exclude) override {
    log_.add("search " + join(exclude));
    std::vector<imap::message_ref> out;
    for (const auto& [uid, m] : messages_) {
      const bool excluded = std::any_of(exclude.begin(), exclude.end(),
                                        [&](const std::string& k) { return m.flags.count(k); });
      if (excluded) continue;
      out.push_back({uid, m.size.value_or(m.raw.size()), m.flags.count("\\Seen") > 0});
    }
    return out;
  }

  std::string fetch(std::uint32_t uid) override {
    log_.add("fetch " + std::to_string(uid));
    if (on_fetch) on_fetch(uid);
    if (transient_fetch_failure == uid) {
      throw imap::error("imap: cannot UID FETCH " + std::to_string(uid) + ": timeout", 28, true);
    }
    auto it = messages_.find(uid);
    if (it == messages_.end() || refuse_fetch.count(uid)) {
      throw imap::error("imap: cannot UID FETCH " + std::to_string(uid) + ": no such message", 0,
                        false);
    }
    // BODY.PEEK[]: the read state stays as it is.
    return it->second.raw;
  }

  void add_flags(std::span<const std::uint32_t> uids,
                 const std::vector<std::string>& flags) override {
    log_.add("add_flags " + join(uids) + " " + join(flags));
    // Like a server: a flag the folder does not keep (PERMANENTFLAGS) is dropped.
    imap::folder_state st;
    st.permanent_flags = permanent_flags;
    for (const auto u : uids) {
      for (const auto& f : flags)
        if (st.keeps(f)) messages_.at(u).flags.insert(f);
    }
  }

  void remove_flags(std::span<const std::uint32_t> uids,
                    const std::vector<std::string>& flags) override {
    log_.add("remove_flags " + join(uids) + " " + join(flags));
    for (const auto u : uids) {
      for (const auto& f : flags) messages_.at(u).flags.erase(f);
    }
  }

  void move(std::span<const std::uint32_t> uids, const std::string& target) override {
    log_.add("move " + join(uids) + " -> " + target);
    for (const auto u : uids) {
      moved[target].push_back(messages_.at(u));
      messages_.erase(u);
    }
  }

  const fake_message& at(std::uint32_t uid) const { return messages_.at(uid); }
  bool has(std::uint32_t uid) const { return messages_.count(uid) > 0; }
  void set_size(std::uint32_t uid, std::uint64_t size) { messages_.at(uid).size = size; }

  std::uint32_t uidvalidity = 1000;
  // What SELECT says the folder keeps (nullopt: every flag, as with no PERMANENTFLAGS).
  std::optional<std::vector<std::string>> permanent_flags;
  bool fail_select = false;
  std::uint32_t transient_fetch_failure = 0;
  std::set<std::uint32_t> refuse_fetch;  // the server answers NO (expunged meanwhile, ...)
  std::function<void(std::uint32_t)> on_fetch;
  std::map<std::string, std::vector<fake_message>> moved;

 private:
  event_log& log_;
  std::map<std::uint32_t, fake_message> messages_;
  std::uint32_t next_uid_ = 1;
};

// The ledger, keyed as the real one: (source, folder, uidvalidity, uid).
class fake_store : public store::report_store {
 public:
  explicit fake_store(event_log& log) : log_(log) {}

  struct ledger_row {
    store::outcome result;
    std::string error;
    std::optional<std::string> message_id;
    std::vector<std::string> report_ids;
  };
  using ledger_key = std::tuple<std::string, std::string, std::uint32_t, std::uint32_t>;

  std::vector<std::uint32_t> done_uids(const std::string& source, const std::string& folder,
                                       std::uint32_t uidvalidity,
                                       std::span<const std::uint32_t> uids) override {
    std::vector<std::uint32_t> out;
    for (const auto u : uids) {
      if (ledger.count({source, folder, uidvalidity, u})) out.push_back(u);
    }
    return out;
  }

  std::vector<done_message> done_messages(const std::string& source, const std::string& folder,
                                          std::uint32_t uidvalidity,
                                          std::span<const std::uint32_t> uids) override {
    if (!knows_outcomes) return report_store::done_messages(source, folder, uidvalidity, uids);
    std::vector<done_message> out;
    for (const auto u : uids) {
      const auto it = ledger.find({source, folder, uidvalidity, u});
      if (it != ledger.end()) out.push_back({u, it->second.result});
    }
    return out;
  }

  std::vector<store::message_result> write(std::span<const store::message_input> batch) override {
    std::vector<std::uint32_t> uids;
    for (const auto& in : batch) uids.push_back(in.facts.key.uid.value_or(0));
    log_.add("write " + join(uids));
    if (fail_writes || writes_seen++ >= fail_from_write) {
      throw store::error("store: cannot commit: connection lost", "08006", fail_transient);
    }
    std::vector<store::message_result> out;
    for (const auto& in : batch) {
      store::message_result r;
      r.result = in.kind;
      std::vector<std::string> names;
      if (in.kind == store::outcome::stored) {
        bool all_known = true;
        for (const auto& rep : in.reports) {
          names.push_back(rep.parsed.report_id);
          if (!reports.count(rep.parsed.report_id)) {
            all_known = false;
            reports[rep.parsed.report_id] = static_cast<std::int64_t>(reports.size() + 1);
          }
          r.report_ids.push_back(reports[rep.parsed.report_id]);
        }
        if (all_known) r.result = store::outcome::duplicate;
        if (conflicting.count(in.reports.front().parsed.report_id)) {
          r.result = store::outcome::conflict;
          r.detail = "report-id already stored with different content";
        }
      }
      const auto& k = in.facts.key;
      ledger[{k.source, k.folder, k.uidvalidity.value_or(0), k.uid.value_or(0)}] =
          ledger_row{r.result, in.error, in.facts.message_id, names};
      written.push_back(in);
      out.push_back(r);
    }
    return out;
  }

  int record_attempt(const store::message_key& key, const std::string& error) override {
    log_.add("record_attempt " + std::to_string(key.uid.value_or(0)));
    last_attempt_error = error;
    return ++attempts[key.uid.value_or(0)];
  }

  bool try_lock_mailbox(const std::string& source, const std::string& folder) override {
    log_.add("lock " + source + "/" + folder);
    if (held_elsewhere) return false;
    return true;
  }
  void unlock_mailbox(const std::string& source, const std::string& folder) noexcept override {
    log_.add("unlock " + source + "/" + folder);
  }

  const ledger_row* row(std::uint32_t uid, const std::string& source = "test",
                        const std::string& folder = "INBOX", std::uint32_t uidvalidity = 1000) {
    const auto it = ledger.find({source, folder, uidvalidity, uid});
    return it == ledger.end() ? nullptr : &it->second;
  }

  bool knows_outcomes = true;
  bool held_elsewhere = false;        // another collector holds the mailbox lock
  std::set<std::string> conflicting;  // report-ids the store answers `conflict` for
  bool fail_writes = false;
  std::size_t fail_from_write = SIZE_MAX;  // writes from this one on (counted from 0) fail
  std::size_t writes_seen = 0;
  bool fail_transient = true;
  std::map<ledger_key, ledger_row> ledger;
  std::map<std::string, std::int64_t> reports;  // report-id -> row id
  std::map<std::uint32_t, int> attempts;
  std::vector<store::message_input> written;
  std::string last_attempt_error;

 private:
  event_log& log_;
};

// A stand-in for extraction and parsing, driven by the message text:
//   "REPORT <id>[ <id>...]"  -> reports with those report-ids
//   "NOTREPORT"              -> not a report
//   "BROKEN"                 -> rejected with a report error
//   "THROW"                  -> processing throws (a bug, resource exhaustion)
inline collector::message_pipeline fake_pipeline() {
  collector::message_pipeline p;
  p.digest = [](std::string_view raw) { return "sha-" + std::to_string(raw.size()); };
  p.process = [](std::string_view raw, const store::message_key& key,
                 const collector::processing_limits&) {
    store::message_input in;
    in.facts.key = key;
    in.facts.key.sha256 = "sha-" + std::to_string(raw.size());
    in.facts.size = raw.size();
    in.facts.message_id = "msg" + std::to_string(key.uid.value_or(0)) + "@example.net";
    std::istringstream words{std::string(raw)};
    std::string word;
    words >> word;
    if (word == "REPORT") {
      in.kind = store::outcome::stored;
      while (words >> word) {
        store::report_input r;
        r.parsed.report_id = word;
        r.raw_json = "{}";
        in.reports.push_back(std::move(r));
      }
    } else if (word == "NOTREPORT") {
      in.kind = store::outcome::not_a_report;
      in.error = "no report part";
    } else if (word == "BROKEN") {
      in.kind = store::outcome::rejected;
      in.error = "report: policies[1].summary: expected an object";
    } else {
      throw std::runtime_error("processing blew up");
    }
    return in;
  };
  return p;
}

}  // namespace tlsrpt::test
