// Internals shared by the collector's sources. Not part of the public API.
#pragma once

#include <memory>
#include <string_view>

#include "tlsrpt/store/store.hpp"

namespace spdlog {
class logger;
}

namespace tlsrpt::collector::detail {

// The ledger's word for an outcome. The collector keeps its own copy so that it does not need
// the PostgreSQL store linked in just to write a log line.
std::string_view outcome_name(store::outcome o) noexcept;

std::shared_ptr<spdlog::logger> logger_or_default(const std::shared_ptr<spdlog::logger>& log);

}  // namespace tlsrpt::collector::detail
