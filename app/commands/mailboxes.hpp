// SPDX-License-Identifier: Apache-2.0
// From configured mailboxes to the IMAP client's and the collector's options.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tlsrpt/config/config.hpp"
#if TLSRPT_HAVE_IMAP
#include "tlsrpt/imap/curl_mailbox.hpp"
#include "tlsrpt/imap/oauth2.hpp"
#endif
#if TLSRPT_HAVE_COLLECTOR
#include "tlsrpt/collector/collector.hpp"
#endif

namespace spdlog {
class logger;
}

namespace tlsrpt::app {

const config::mailbox* find_mailbox(const config::configuration& c, const std::string& name);

// "imaps://host:port/" from "imaps://host:port/Some/Folder".
std::string server_url(const std::string& url);

#if TLSRPT_HAVE_IMAP
// Resolves the secret now: throws config::error naming the key when it is missing. With
// `oauth2:` the token is left empty: it comes from the mailbox's token_source.
imap::connection_options connection_of(const config::mailbox& m, const std::string& file);
// The token source of a mailbox with `oauth2:` (null without), its client secret resolved now.
std::shared_ptr<imap::token_source> token_source_of(const config::mailbox& m,
                                                    const std::string& file);
// Connected and logged in: with a token from `tokens` when there is one.
std::unique_ptr<imap::curl_mailbox> open_mailbox(const imap::connection_options& o,
                                                 imap::token_source* tokens);
#endif

// Removes the failure keyword from `uids` in `folder` when its UIDVALIDITY still matches.
// Returns how many were cleared; on an IMAP failure logs it and sets `code`.
std::size_t clear_failure_marks(const config::mailbox& m, const std::string& file,
                                const std::string& folder, std::uint32_t uidvalidity,
                                const std::vector<std::uint32_t>& uids,
                                const std::shared_ptr<spdlog::logger>& log, int& code);

#if TLSRPT_HAVE_COLLECTOR
collector::mailbox_job job_of(const config::mailbox& m, const config::limits& lim,
                              std::size_t index);
#endif

}  // namespace tlsrpt::app
