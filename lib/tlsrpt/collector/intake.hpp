// SPDX-License-Identifier: Apache-2.0
// The intake for sources with many concurrent senders (the HTTPS receiver): each caller's
// message is extracted and parsed in the caller's thread, and every message that arrives while
// a write is in flight goes into the next one, one transaction for all of them (group commit).
// A commit costs about as much for one message as for hundreds, so this is what lets 64
// clients store thousands of reports a second where one transaction each would wait on the
// disk for every report. The guarantee is ingest_message()'s: submit() returns only once the
// message's ledger row and reports have committed, or throws and nothing of it was written.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "tlsrpt/collector/collector.hpp"

namespace tlsrpt::collector {

class intake {
 public:
  struct options {
    std::size_t max_batch = 256;  // messages per transaction at most
    processing_limits limits;
  };

  // `open_store` is called by the writer thread, again after every failure of the store.
  // `events` (optional) must outlive the intake.
  intake(open_store_fn open_store, options opts, std::shared_ptr<spdlog::logger> log = nullptr,
         observer* events = nullptr);
  ~intake();  // writes what is queued, then stops; later submissions throw store::error
  intake(const intake&) = delete;
  intake& operator=(const intake&) = delete;

  // The message's outcome once committed (the same extraction, parsing, store and ledger
  // rules as ingest_message). Throws store::error when its transaction could not commit (the
  // database is down: the sender should retry later).
  ingest_result submit(std::string_view raw, store::message_key key);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tlsrpt::collector
