// SPDX-License-Identifier: Apache-2.0
// One pass over one mailbox folder (issue 6). The order of the steps is the guarantee:
// fetch -> process -> write (commit) -> acknowledge. Nothing is flagged or moved before the
// store's write() has returned.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tlsrpt/collector/collector.hpp"
#include "tlsrpt/collector/detail.hpp"
#include "tlsrpt/logging/log.hpp"
#include "tlsrpt/text/escape.hpp"

namespace tlsrpt::collector {

namespace detail {

std::string_view outcome_name(store::outcome o) noexcept {
  switch (o) {
    case store::outcome::stored:
      return "stored";
    case store::outcome::duplicate:
      return "duplicate";
    case store::outcome::conflict:
      return "conflict";
    case store::outcome::not_a_report:
      return "not_a_report";
    case store::outcome::rejected:
      return "rejected";
    case store::outcome::skipped:
      return "skipped";
  }
  return "unknown";
}

std::shared_ptr<spdlog::logger> logger_or_default(const std::shared_ptr<spdlog::logger>& log) {
  return log ? log : spdlog::default_logger();
}

}  // namespace detail

pass_stats& pass_stats::operator+=(const pass_stats& o) {
  found += o.found;
  stored += o.stored;
  duplicate += o.duplicate;
  conflict += o.conflict;
  not_a_report += o.not_a_report;
  rejected += o.rejected;
  skipped += o.skipped;
  already_done += o.already_done;
  deferred += o.deferred;
  quarantined += o.quarantined;
  batches += o.batches;
  stopped = stopped || o.stopped;
  locked_out = locked_out || o.locked_out;
  duration += o.duration;
  return *this;
}

namespace {

constexpr const char* seen_flag = "\\Seen";

enum class ack_class { success, failure, not_a_report };

ack_class class_of(store::outcome o) {
  switch (o) {
    case store::outcome::stored:
    case store::outcome::duplicate:
    case store::outcome::conflict:
      // A conflict is recorded (both versions kept, the ledger says so): the message has been
      // dealt with, and fetching it again would only conflict again.
      return ack_class::success;
    case store::outcome::not_a_report:
      return ack_class::not_a_report;
    case store::outcome::rejected:
    case store::outcome::skipped:
      break;
  }
  return ack_class::failure;
}

// The UID sets of one batch's acknowledgement: one command per set.
struct ack_sets {
  std::vector<std::uint32_t> success;
  std::vector<std::uint32_t> failure;
  std::vector<std::uint32_t> not_a_report;

  void add(ack_class c, std::uint32_t uid) {
    switch (c) {
      case ack_class::success:
        success.push_back(uid);
        break;
      case ack_class::failure:
        failure.push_back(uid);
        break;
      case ack_class::not_a_report:
        not_a_report.push_back(uid);
        break;
    }
  }
};

void apply(imap::mailbox& mb, std::vector<std::uint32_t>& uids, const disposition& d,
           const std::vector<std::string>& keyword_flags) {
  if (uids.empty()) return;
  std::sort(uids.begin(), uids.end());
  switch (d.how) {
    case action::keyword:
      if (!keyword_flags.empty()) mb.add_flags(uids, keyword_flags);
      break;
    case action::move:
      mb.move(uids, d.folder);
      break;
    case action::leave:
      break;
  }
}

void acknowledge(imap::mailbox& mb, const acknowledgement_plan& plan, ack_sets& acks) {
  // The fetch is BODY.PEEK[] (issue 17): nothing of the read state was touched, so only the
  // acknowledgement of a stored report sets \Seen; ordinary mail keeps exactly its flags.
  apply(mb, acks.success, plan.on_success, plan.success_flags);
  apply(mb, acks.failure, plan.on_failure, plan.failure_flags);
  // Not-a-report mail gets no keyword (issue 6): `keyword` means the same as `leave` here.
  apply(mb, acks.not_a_report, plan.on_not_a_report, {});
}

class pass {
 public:
  pass(imap::mailbox& mb, store::report_store& st, const mailbox_options& opts,
       const std::atomic<bool>& stop, const message_pipeline& pipeline,
       std::shared_ptr<spdlog::logger> log)
      : mb_(mb), store_(st), opts_(opts), stop_(stop), pipeline_(pipeline), log_(std::move(log)) {}

  void run(mailbox_state* state) {
    const imap::folder_state fs = mb_.select(opts_.folder);
    uidvalidity_ = fs.uidvalidity;
    if (state != nullptr) {
      if (state->uidvalidity && *state->uidvalidity != fs.uidvalidity) {
        // RFC 3501 §2.3.1.1: the old UIDs mean nothing now. The ledger is keyed by UIDVALIDITY,
        // so every message looks new: it is read again, and the report identity makes the
        // rescan store nothing twice.
        log_->warn("mailbox {} folder {}: UIDVALIDITY changed from {} to {}; rescanning",
                   opts_.name, opts_.folder, *state->uidvalidity, fs.uidvalidity);
      }
      state->uidvalidity = fs.uidvalidity;
    }
    plan_ = plan_acknowledgement(opts_, fs);
    if (!plan_.fallback.empty() && (state == nullptr || !state->fallback_logged)) {
      // Once per mailbox and process: every pass would say the same.
      log_->warn("mailbox {} folder {}: {}", opts_.name, opts_.folder, plan_.fallback);
      if (state != nullptr) state->fallback_logged = true;
    }
    refs_ = mb_.search(plan_.search_exclusions);
    stats_.found = refs_.size();
    batch_ = std::max<std::size_t>(1, opts_.batch_size);
    // Flag commands cover a group of whole batches: one batch, or as many as keep the groups
    // of a pass to about opts_.flag_groups.
    const std::size_t batches = (refs_.size() + batch_ - 1) / batch_;
    const std::size_t per_group =
        opts_.flag_groups == 0
            ? 1
            : std::max<std::size_t>(1, (batches + opts_.flag_groups - 1) / opts_.flag_groups);
    group_ = batch_ * per_group;
    try {
      if (opts_.overlap_writes) {
        run_overlapped();
      } else {
        run_sequential();
      }
      flush_acks();
    } catch (...) {
      abandon();
      throw;
    }
  }

  pass_stats& stats() { return stats_; }

 private:
  store::message_key key_for(std::uint32_t uid) const {
    store::message_key k;
    k.source = opts_.name;
    k.folder = opts_.folder;
    k.uidvalidity = uidvalidity_;
    k.uid = uid;
    return k;
  }

  using done_map = std::unordered_map<std::uint32_t, std::optional<store::outcome>>;

  // One batch from its fetch to its acknowledgement.
  struct batch_work {
    std::size_t end = 0;  // index into refs_ after the batch's last message
    std::vector<store::message_input> inputs;
    std::vector<imap::message_ref> refs;  // of inputs, in the same order
    ack_sets acks;
    std::future<std::vector<store::message_result>> written;  // valid while the write runs
    std::size_t bytes = 0;                                    // estimated memory of `inputs`
    std::size_t group_end = 0;                                // of the group the batch belongs to
    // The connection failed mid-batch: what was fetched before is still written and
    // acknowledged, then this is rethrown.
    std::exception_ptr failure;
  };

  void run_sequential() {
    for (std::size_t begin = 0; begin < refs_.size() && !stats_.stopped;) {
      if (begin >= group_end_) lookup_group(begin);
      auto b = fetch_batch(begin);
      start_write(*b);
      finish_write(*b);
      batch_done(*b);
      if (b->failure) std::rethrow_exception(b->failure);
      begin = b->end;
    }
  }

  // The write of batch k runs on its own thread while batch k+1 is fetched and parsed: the
  // commit costs as long as a batch's fetches, and on two cores neither waits for the other.
  // Batch k is acknowledged only once its write has returned, from this thread (the one that
  // owns the IMAP connection), so the guarantee is the one of the sequential pass; the write of
  // batch k+1 starts before that acknowledgement goes out, so the STORE round trip is not on
  // the writer's path. The store is used by one thread at a time (store_mutex_): a group's
  // ledger lookup is made before the write of the batch before it starts. Should the
  // acknowledgement of k fail while k+1 is being written, k+1 may commit unacknowledged: the
  // ledger has it, and the next pass acknowledges it without storing it again.
  void run_overlapped() {
    if (refs_.empty()) return;
    lookup_group(0);
    std::unique_ptr<batch_work> current = fetch_batch(0);
    bool started = false;  // whether current's write is running already
    while (current != nullptr) {
      const std::size_t next_begin = current->end;
      const bool more = more_after(*current);
      if (!started) {
        if (more && next_begin >= group_end_) lookup_group(next_begin);
        start_write(*current);
      }
      std::unique_ptr<batch_work> next;
      if (more) {
        try {
          next = fetch_batch(next_begin);
        } catch (...) {
          // The connection (or the store, for an attempt count) failed in batch k+1; batch k
          // may still commit: it is acknowledged as far as the connection allows (abandon()).
          try {
            finish_write(*current);
            batch_done(*current);
          } catch (const std::exception& e) {
            log_->warn("mailbox {}: cannot finish the batch before the failure: {}", opts_.name,
                       e.what());
          }
          throw;
        }
      }
      finish_write(*current);
      started = false;
      if (next != nullptr) {
        if (more_after(*next) && next->end >= group_end_) lookup_group(next->end);
        start_write(*next);
        started = true;
      }
      batch_done(*current);
      if (current->failure) std::rethrow_exception(current->failure);
      current = std::move(next);
    }
  }

  // Whether the pass goes on after batch `b`.
  bool more_after(const batch_work& b) const {
    return b.end < refs_.size() && !stats_.stopped && !b.failure;
  }

  done_map lookup_done(std::span<const imap::message_ref> chunk) {
    std::vector<std::uint32_t> uids;
    uids.reserve(chunk.size());
    for (const auto& r : chunk) uids.push_back(r.uid);
    done_map done;
    const std::lock_guard lock(store_mutex_);
    for (const auto& d : store_.done_messages(opts_.name, opts_.folder, uidvalidity_, uids)) {
      done.emplace(d.uid, d.result);
    }
    return done;
  }

  // The ledger's answer for the group starting at refs_[begin] (the store only).
  void lookup_group(std::size_t begin) {
    group_begin_ = begin;
    group_end_ = std::min(begin + group_, refs_.size());
    group_done_ =
        lookup_done(std::span<const imap::message_ref>(refs_.data() + begin, group_end_ - begin));
  }

  int record_attempt(const store::message_key& key, const std::string& failure) {
    const std::lock_guard lock(store_mutex_);
    return store_.record_attempt(key, failure);
  }

  // Memory a processed message holds until its batch is written: the JSON as received plus
  // the parsed model, which measures about 2.5 times the JSON (issue 15: 19.6 MB of JSON
  // took ~68 MB in flight).
  static std::size_t input_bytes(const store::message_input& in) {
    std::size_t n = 512 + in.error.size();
    for (const auto& r : in.reports) n += r.raw_json.size() * 7 / 2 + 1024;
    return n;
  }

  // Fetches and processes refs_[begin, ...) up to batch_ messages or opts_.batch_bytes of
  // processed input, whichever comes first (a huge report goes alone), in one UID FETCH.
  std::unique_ptr<batch_work> fetch_batch(std::size_t begin) {
    auto work = std::make_unique<batch_work>();
    // Within the group, whose ledger answer is what group_done_ holds.
    const std::size_t end = std::min({begin + batch_, group_end_, refs_.size()});
    work->end = end;
    work->group_end = group_end_;
    ack_sets& acks = work->acks;
    std::vector<std::uint32_t> to_fetch;
    std::unordered_map<std::uint32_t, std::size_t> index_of;
    for (std::size_t i = begin; i < end; ++i) {
      const imap::message_ref& ref = refs_[i];
      if (const auto it = group_done_.find(ref.uid); it != group_done_.end()) {
        acknowledge_done(ref, it->second, acks);
        continue;
      }
      if (ref.size > opts_.max_message_bytes) {
        work->inputs.push_back(oversized(ref, ref.size));
        work->refs.push_back(ref);
        continue;
      }
      index_of.emplace(ref.uid, i);
      to_fetch.push_back(ref.uid);
    }
    if (to_fetch.empty()) return work;
    std::sort(to_fetch.begin(), to_fetch.end());
    // Which of the batch's messages got an answer: a batch cut short ends before the first
    // one that did not.
    std::vector<char> handled(end - begin, 0);
    const auto cut_at_first_unhandled = [&] {
      for (std::size_t i = begin; i < end; ++i) {
        if (handled[i - begin] == 0 && index_of.contains(refs_[i].uid)) {
          work->end = i;
          return;
        }
      }
    };
    bool cut = false;
    try {
      mb_.fetch_many(to_fetch, [&](imap::fetched_message& m) {
        const auto it = index_of.find(m.uid);
        if (it == index_of.end()) return true;  // the mailbox checks this; cheap to hold to it
        const std::size_t i = it->second;
        const imap::message_ref& ref = refs_[i];
        handled[i - begin] = 1;
        std::optional<store::message_input> input;
        if (m.error) {
          input = attempt_failed(ref, key_for(ref.uid), *m.error);
        } else if (m.oversized) {
          input = oversized(ref, m.size);
        } else {
          input = process_fetched(ref, m.raw);
        }
        m.raw = std::string{};  // the message's octets go now, not after the batch
        if (input) {
          work->bytes += input_bytes(*input);
          work->inputs.push_back(std::move(*input));
          work->refs.push_back(ref);
        }
        // The stop flag is honoured between messages: the batch in hand is still written and
        // acknowledged, so a SIGTERM never wastes or half-does work.
        if (stop_.load()) stats_.stopped = true;
        if (stats_.stopped || work->bytes >= opts_.batch_bytes) {
          cut = true;
          return false;
        }
        return true;
      });
    } catch (const imap::error& e) {
      cut_at_first_unhandled();
      if (stop_.load()) {
        // SIGTERM ended a command that was taking too long: not the message's fault.
        stats_.stopped = true;
        return work;
      }
      if (!e.transient()) throw;
      // The connection failed while this message was on its way: it is counted an attempt
      // (a message that keeps breaking the connection is quarantined, not retried forever),
      // once, and the batch in hand is still written before the pass ends (issue 15: the
      // attempts of adjacent failing messages are each counted, never lost with the batch).
      // A server that refuses for now in its own words (RFC 5530 UNAVAILABLE, the throttling
      // answers of Microsoft 365 and Gmail) has told us it is not the message: no attempt.
      if (work->end < end && e.server_status().empty()) {
        const imap::message_ref& ref = refs_[work->end];
        const store::message_key key = key_for(ref.uid);
        const int attempts = record_attempt(key, e.what());
        if (attempts >= opts_.max_attempts) {
          // Quarantined: the pass goes on past it (the next command connects again).
          work->inputs.push_back(quarantine(ref, key, attempts, e.what()));
          work->refs.push_back(ref);
          ++work->end;
          return work;
        }
      }
      work->failure = std::current_exception();
      return work;
    }
    if (cut) cut_at_first_unhandled();
    return work;
  }

  // A batch whose write returned: its acknowledgements join the group's, which go out once
  // the group's last batch is in.
  void batch_done(batch_work& b) {
    for (auto set : {&ack_sets::success, &ack_sets::failure, &ack_sets::not_a_report}) {
      auto& to = pending_.*set;
      const auto& from = b.acks.*set;
      to.insert(to.end(), from.begin(), from.end());
    }
    committed_end_ = b.end;
    if (b.end >= b.group_end || b.end == refs_.size() || b.failure) flush_acks();
  }

  void flush_acks() {
    ack_sets acks = std::move(pending_);
    pending_ = {};
    acknowledge(mb_, plan_, acks);
  }

  // The pass failed. Best effort, as far as the connection allows: the committed batches are
  // acknowledged. Nothing else was touched (the fetch is BODY.PEEK[]), so the rest of the
  // mailbox is as the pass found it.
  void abandon() noexcept {
    try {
      flush_acks();
    } catch (const std::exception& e) {
      log_->warn("mailbox {}: cannot acknowledge the committed messages after the failure: {}",
                 opts_.name, e.what());
    }
  }

  // In the ledger already: a crash came between commit and acknowledgement, or the message
  // is left in the folder by its action (not-a-report mail). Acknowledged the way the first
  // pass would have, with no second write.
  void acknowledge_done(const imap::message_ref& ref, std::optional<store::outcome> result,
                        ack_sets& acks) {
    ++stats_.already_done;
    if (!result) {
      // The store cannot say how it ended: read the message again to classify it (no write).
      std::optional<store::outcome> kind;
      try {
        const std::string raw = mb_.fetch(ref.uid);
        kind = pipeline_.process(raw, key_for(ref.uid), opts_.limits).kind;
      } catch (const imap::error& e) {
        if (e.transient()) throw;
        log_->warn("mailbox {} uid={} outcome=already-done: cannot classify: {}", opts_.name,
                   ref.uid, e.what());
      } catch (const store::error&) {
        throw;
      } catch (const std::exception& e) {
        log_->warn("mailbox {} uid={} outcome=already-done: cannot classify: {}", opts_.name,
                   ref.uid, e.what());
      }
      if (!kind) return;  // left as it is; tried again next pass
      result = kind;
    }
    const ack_class c = class_of(*result);
    log_->debug("mailbox {} uid={} outcome=already-done ({})", opts_.name, ref.uid,
                detail::outcome_name(*result));
    // Without keywords (the plan's fallback) every pass finds the done reports again: one
    // already \Seen needs no second STORE.
    if (c == ack_class::success && !plan_.keywords_kept && ref.seen &&
        plan_.success_flags == std::vector<std::string>{seen_flag})
      return;
    acks.add(c, ref.uid);
  }

  store::message_input oversized(const imap::message_ref& ref, std::uint64_t size) const {
    store::message_input in;
    in.facts.key = key_for(ref.uid);
    in.facts.size = std::max(ref.size, size);
    in.kind = store::outcome::skipped;
    in.error = fmt::format("message of {} bytes is over the limit of {} bytes; not downloaded",
                           in.facts.size, opts_.max_message_bytes);
    return in;
  }

  // Processes one fetched message. nullopt when it is deferred to a later pass.
  std::optional<store::message_input> process_fetched(const imap::message_ref& ref,
                                                      const std::string& raw) {
    store::message_key key = key_for(ref.uid);
    try {
      return pipeline_.process(raw, key, opts_.limits);
    } catch (const store::error&) {
      throw;
    } catch (const std::exception& e) {
      // Processing must not throw for bad input (that is an outcome): this is a bug or
      // resource exhaustion, worth a retry and, if it persists, a quarantine.
      if (key.sha256.empty() && pipeline_.digest) key.sha256 = pipeline_.digest(raw);
      return attempt_failed(ref, key, e.what());
    }
  }

  store::message_input quarantine(const imap::message_ref& ref, const store::message_key& key,
                                  int attempts, const std::string& failure) {
    ++stats_.quarantined;
    store::message_input in;
    in.facts.key = key;
    in.facts.size = ref.size;
    in.kind = store::outcome::rejected;
    in.error = fmt::format("quarantined after {} failed attempts: {}", attempts, failure);
    return in;
  }

  // A message that could not be fetched or processed: one attempt counted for it, whatever
  // else failed in the pass; quarantined once it reaches max_attempts.
  std::optional<store::message_input> attempt_failed(const imap::message_ref& ref,
                                                     const store::message_key& key,
                                                     const std::string& failure) {
    const int attempts = record_attempt(key, failure);
    if (attempts >= opts_.max_attempts) return quarantine(ref, key, attempts, failure);
    ++stats_.deferred;
    log_->warn("mailbox {} uid={} outcome=deferred attempt={}/{} error={}", opts_.name, ref.uid,
               attempts, opts_.max_attempts, failure);
    return std::nullopt;
  }

  void start_write(batch_work& b) {
    if (b.inputs.empty()) return;
    // The span points into the vector's buffer, which stays put while `b` is only moved.
    std::span<const store::message_input> in(b.inputs);
    b.written = std::async(std::launch::async, [this, in] {
      const std::lock_guard lock(store_mutex_);
      return store_.write(in);
    });
  }

  // Waits for the write of `b` and sorts its results into its acknowledgement. A failed write
  // is rethrown: nothing of the batch committed, and run() puts the unread state back.
  void finish_write(batch_work& b) {
    if (!b.written.valid()) return;
    const std::vector<store::message_input>& inputs = b.inputs;
    const std::vector<imap::message_ref>& refs = b.refs;
    ack_sets& acks = b.acks;
    const std::vector<store::message_result> results = b.written.get();
    ++stats_.batches;
    if (results.size() != inputs.size()) {
      throw store::error(fmt::format("store: write returned {} results for {} messages",
                                     results.size(), inputs.size()),
                         "", false);
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const store::message_result& r = results[i];
      const ack_class c = class_of(r.result);
      count(r.result);
      log_message(inputs[i], r);
      if (pipeline_.events != nullptr) {
        pipeline_.events->on_message(
            {opts_.name, r.result,
             r.result == store::outcome::stored ? r.report_ids.size() : std::size_t{0}});
      }
      acks.add(c, refs[i].uid);
    }
  }

  void count(store::outcome o) {
    switch (o) {
      case store::outcome::stored:
        ++stats_.stored;
        break;
      case store::outcome::duplicate:
        ++stats_.duplicate;
        break;
      case store::outcome::conflict:
        ++stats_.conflict;
        break;
      case store::outcome::not_a_report:
        ++stats_.not_a_report;
        break;
      case store::outcome::rejected:
        ++stats_.rejected;
        break;
      case store::outcome::skipped:
        ++stats_.skipped;
        break;
    }
  }

  void log_message(const store::message_input& in, const store::message_result& r) {
    std::vector<std::string> names;
    for (const auto& rep : in.reports) names.push_back(rep.parsed.report_id);
    std::vector<std::string> ids;
    for (const auto id : r.report_ids) ids.push_back(std::to_string(id));
    const std::string error = !r.detail.empty() ? r.detail : in.error;
    const auto level =
        class_of(r.result) == ack_class::failure || r.result == store::outcome::conflict
            ? logging::level::warn
            : logging::level::info;
    const std::string_view outcome = detail::outcome_name(r.result);
    logging::event ev("message");
    ev.str("mailbox", opts_.name)
        .str("folder", opts_.folder)
        .num("uid", in.facts.key.uid.value_or(0))
        .str("outcome", outcome)
        .str("message_id", in.facts.message_id.value_or(""))
        .list("report_id", names)
        .list("row_id", ids);
    if (!error.empty()) ev.str("error", error);
    // Every value a sender wrote is escaped (logging::value): none can end the line or fake a
    // key=value of its own. The error comes last and runs to the end of the line.
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : ",") + logging::value(n);
    std::string id_list;
    for (const auto& i : ids) id_list += (id_list.empty() ? "" : ",") + i;
    logging::emit(
        *log_, level, ev,
        fmt::format("mailbox {} uid={} outcome={} message-id={} report-id={} row-id={}{}{}",
                    logging::value(opts_.name), in.facts.key.uid.value_or(0), outcome,
                    logging::value(in.facts.message_id.value_or("")), joined.empty() ? "-" : joined,
                    id_list.empty() ? "-" : id_list,
                    error.empty() ? "" : " error=", error.empty() ? "" : text::escape_c(error)));
  }

  imap::mailbox& mb_;
  store::report_store& store_;
  const mailbox_options& opts_;
  const std::atomic<bool>& stop_;
  const message_pipeline& pipeline_;
  std::shared_ptr<spdlog::logger> log_;
  std::uint32_t uidvalidity_ = 0;
  acknowledgement_plan plan_;  // how this folder is acknowledged, from its SELECT
  pass_stats stats_;
  std::vector<imap::message_ref> refs_;  // what the search found, in its order
  std::size_t batch_ = 1;                // messages per write
  std::size_t group_ = 1;                // messages per flag group (a multiple of batch_)
  // The group being fetched: refs_[group_begin_, group_end_), its ledger answer, and the
  // indexes into refs_ of the messages marked read before their fetch (ascending).
  std::size_t group_begin_ = 0;
  std::size_t group_end_ = 0;
  done_map group_done_;
  std::size_t committed_end_ = 0;  // refs_ before this index belong to committed batches
  ack_sets pending_;               // acknowledgements of committed batches not yet sent
  std::mutex store_mutex_;         // the store is used by the writer thread and this one in turn
};

}  // namespace

pass_stats poll_mailbox(imap::mailbox& mb, store::report_store& store, const mailbox_options& opts,
                        const std::atomic<bool>& stop, const message_pipeline& pipeline,
                        const std::shared_ptr<spdlog::logger>& log, mailbox_state* state) {
  const auto log_ = detail::logger_or_default(log);
  const auto start = std::chrono::steady_clock::now();
  pass p(mb, store, opts, stop, pipeline, log_);
  // Two collectors on one folder would both fetch and parse everything (counting stays
  // exact thanks to the ledger and report identity, but the work is doubled and the logs
  // confusing): the second one steps aside for this pass.
  if (!store.try_lock_mailbox(opts.name, opts.folder)) {
    log_->info("mailbox {} folder {}: another collector is polling it; pass skipped", opts.name,
               opts.folder);
    p.stats().locked_out = true;
    return p.stats();
  }
  struct unlock_at_exit {
    store::report_store& st;
    const mailbox_options& o;
    ~unlock_at_exit() { st.unlock_mailbox(o.name, o.folder); }
  } unlock{store, opts};
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  };
  try {
    p.run(state);
  } catch (const std::exception& e) {
    p.stats().duration = elapsed();
    log_->error(
        "mailbox {} folder {}: pass aborted after {} ms ({} stored, {} acknowledged "
        "batches); the rest is left for the next pass: {}",
        opts.name, opts.folder, p.stats().duration.count(), p.stats().stored, p.stats().batches,
        e.what());
    throw;
  }
  pass_stats& s = p.stats();
  s.duration = elapsed();
  logging::event ev("pass");
  ev.str("mailbox", opts.name)
      .str("folder", opts.folder)
      .str("result", s.stopped ? "stopped" : "done")
      .num("duration_ms", static_cast<std::uint64_t>(s.duration.count()))
      .num("found", s.found)
      .num("stored", s.stored)
      .num("duplicate", s.duplicate)
      .num("conflict", s.conflict)
      .num("not_a_report", s.not_a_report)
      .num("rejected", s.rejected)
      .num("skipped", s.skipped)
      .num("already_done", s.already_done)
      .num("deferred", s.deferred)
      .num("quarantined", s.quarantined);
  logging::emit(
      *log_, logging::level::info, ev,
      fmt::format("mailbox {} folder {}: pass {} in {} ms: found {}, stored {}, duplicate {}, "
                  "conflict {}, not_a_report {}, rejected {}, skipped {}, already done {}, "
                  "deferred {}, quarantined {}",
                  logging::value(opts.name), logging::value(opts.folder),
                  s.stopped ? "stopped" : "done", s.duration.count(), s.found, s.stored,
                  s.duplicate, s.conflict, s.not_a_report, s.rejected, s.skipped, s.already_done,
                  s.deferred, s.quarantined));
  return s;
}

}  // namespace tlsrpt::collector
