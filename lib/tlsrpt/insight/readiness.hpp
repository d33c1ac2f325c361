// SPDX-License-Identifier: Apache-2.0
// The readiness verdict in words, for `summary`, the findings and the dashboard alike. The rule
// itself is the database's (tlsrpt.sts_readiness_at(), migration 0005); this only says it.
#pragma once

#include <string>

#include "tlsrpt/store/pg_store.hpp"

namespace tlsrpt::insight {

// "ready for enforce", "not ready: 9 of 14 days of reports in testing mode; ..." or "no data".
std::string verdict_text(const store::sts_readiness& r);

// "9 of 14 days, 2 of 2 reporters": how far the domain is, whatever the verdict.
std::string progress_text(const store::sts_readiness& r);

}  // namespace tlsrpt::insight
