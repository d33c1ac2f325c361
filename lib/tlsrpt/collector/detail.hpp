// SPDX-License-Identifier: Apache-2.0
// Internals shared by the collector's sources. Not part of the public API.
#pragma once

#include <memory>
#include <string_view>

#include "tlsrpt/collector/collector.hpp"
#include "tlsrpt/store/store.hpp"

namespace spdlog {
class logger;
}

namespace tlsrpt::collector::detail {

// The ledger's word for an outcome. The collector keeps its own copy so that it does not need
// the PostgreSQL store linked in just to write a log line.
std::string_view outcome_name(store::outcome o) noexcept;

std::shared_ptr<spdlog::logger> logger_or_default(const std::shared_ptr<spdlog::logger>& log);

// The end of the intake path shared by ingest_message() and the intake class: what the store
// answered for one message, logged once and told to the observer.
ingest_result finish_ingest(const store::message_input& in, const store::message_result& r,
                            spdlog::logger& log, observer* events);

}  // namespace tlsrpt::collector::detail

#include "tlsrpt/collector/collector.hpp"

namespace tlsrpt::collector::detail {

// run_daemon with opts.wait set: one thread per mailbox, IDLE between passes (watch.cpp).
int run_watching(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
                 const open_store_fn& open_store, const daemon_options& opts,
                 const std::atomic<bool>& stop, const message_pipeline& pipeline,
                 const std::shared_ptr<spdlog::logger>& log);

}  // namespace tlsrpt::collector::detail
