// SPDX-License-Identifier: Apache-2.0
// What the pipeline tells whoever watches it: metrics, logs, alerts. The pipeline calls an
// observer at a few points and knows nothing of what it does with them, so new consumers of
// "what happened" are added without touching the pass or the intake (STYLE.md).
//
// The calls come from whichever thread did the work (a mailbox pass, the daemon, an HTTP
// connection), possibly at the same time: an observer is thread-safe. They are noexcept: an
// observer that fails must not turn a committed message into a failed one.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include "tlsrpt/store/store.hpp"

namespace tlsrpt::collector {

struct pass_stats;

// One message whose outcome has committed (any source).
struct message_event {
  std::string_view source;  // the ledger's source: a mailbox name, "https", "file", "stdin"
  store::outcome result = store::outcome::stored;
  std::size_t reports = 0;  // reports newly stored by this message
};

// One pass over one mailbox ended, well or not.
struct pass_event {
  std::string_view mailbox;
  const pass_stats* stats = nullptr;      // what the pass did before it ended
  std::optional<std::string_view> error;  // set when the pass failed
  std::chrono::milliseconds duration{0};
};

// The store failed as a whole (not one message): connection lost, refused, a statement failed.
struct store_error_event {
  std::string_view kind;      // "unavailable" (transient: connection, shutdown) or "error"
  std::string_view sqlstate;  // "" when there is none (connection refused)
};

class observer {
 public:
  virtual ~observer() = default;
  virtual void on_message(const message_event& e) noexcept { (void)e; }
  virtual void on_pass(const pass_event& e) noexcept { (void)e; }
  virtual void on_store_error(const store_error_event& e) noexcept { (void)e; }
};

// The kind of a store failure, as store_error_event names it.
inline std::string_view store_error_kind(const store::error& e) noexcept {
  return e.transient() ? "unavailable" : "error";
}

}  // namespace tlsrpt::collector
