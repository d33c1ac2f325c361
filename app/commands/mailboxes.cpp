// SPDX-License-Identifier: Apache-2.0
#include "mailboxes.hpp"

#include <spdlog/spdlog.h>

#include "../app.hpp"
#include "limits.hpp"

namespace tlsrpt::app {

const config::mailbox* find_mailbox(const config::configuration& c, const std::string& name) {
  for (const auto& m : c.mailboxes)
    if (m.name == name) return &m;
  return nullptr;
}

std::string server_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const auto slash = url.find('/', scheme_end + 3);
  return (slash == std::string::npos ? url : url.substr(0, slash)) + "/";
}

#if TLSRPT_HAVE_IMAP
namespace {
std::chrono::seconds whole_seconds(std::chrono::milliseconds d) {
  return std::chrono::ceil<std::chrono::seconds>(d);
}
}  // namespace

imap::connection_options connection_of(const config::mailbox& m, const std::string& file) {
  imap::connection_options o;
  o.url = server_url(m.url);
  o.username = m.username;
  if (m.oauth) {
    // From the token source, per connection.
  } else if (m.auth == config::auth_method::xoauth2) {
    o.oauth2_token = config::resolve_secret(m.secret, file);
  } else {
    o.password = config::resolve_secret(m.secret, file);
  }
  o.allow_plaintext = m.allow_plaintext;
  o.ca_file = m.ca_file.value_or("");
  o.verify = m.tls_verify;
  o.connect_timeout = whole_seconds(m.connect_timeout);
  o.operation_timeout = whole_seconds(m.operation_timeout);
  o.max_message_bytes = static_cast<std::size_t>(m.max_message_size);
  return o;
}

std::shared_ptr<imap::token_source> token_source_of(const config::mailbox& m,
                                                    const std::string& file) {
  if (!m.oauth) return nullptr;
  const auto& a = *m.oauth;
  imap::oauth2_options o;
  o.token_url = a.token_url;
  o.client_id = a.client_id;
  if (a.client_secret.from != config::secret_ref::kind::none)
    o.client_secret = config::resolve_secret(a.client_secret, file);
  o.scope = a.scope;
  if (a.refresh_token_file) o.refresh_token_file = *a.refresh_token_file;
  o.timeout = whole_seconds(m.connect_timeout);
  return std::make_shared<imap::token_source>(std::move(o));
}

std::unique_ptr<imap::curl_mailbox> open_mailbox(const imap::connection_options& o,
                                                 imap::token_source* tokens) {
  if (tokens != nullptr) return imap::connect_with_token(o, *tokens);
  return std::make_unique<imap::curl_mailbox>(o);
}
#endif

std::size_t clear_failure_marks(const config::mailbox& m, const std::string& file,
                                const std::string& folder, std::uint32_t uidvalidity,
                                const std::vector<std::uint32_t>& uids,
                                const std::shared_ptr<spdlog::logger>& log, int& code) {
  if (m.on_failure.what == config::action::kind::leave) return uids.size();
  if (m.on_failure.what == config::action::kind::move) {
    log->warn("{}: rejected messages were moved to {}: move them back to {} to re-process them",
              m.name, m.on_failure.target, folder);
    return 0;
  }
#if TLSRPT_HAVE_IMAP
  try {
    const auto tokens = token_source_of(m, file);
    const auto mbp = open_mailbox(connection_of(m, file), tokens.get());
    auto& mb = *mbp;
    const auto st = mb.select(folder);
    if (st.uidvalidity != uidvalidity) {
      log->warn("{}/{}: UIDVALIDITY changed ({} -> {}): the next pass rescans the folder", m.name,
                folder, uidvalidity, st.uidvalidity);
      return 0;
    }
    mb.remove_flags(uids, {m.on_failure.target});
    return uids.size();
  } catch (const imap::error& e) {
    log->error("{}: {}", m.name, e.what());
    code = e.transient() ? exit_code::temporary : exit_code::unavailable;
    return 0;
  }
#else
  (void)file;
  (void)uidvalidity;
  log->error("{}/{}: cannot clear the failure keyword: this build lacks the imap module", m.name,
             folder);
  code = exit_code::unavailable;
  return 0;
#endif
}

#if TLSRPT_HAVE_COLLECTOR
namespace {
collector::disposition disposition_of(const config::action& a) {
  switch (a.what) {
    case config::action::kind::keyword:
      return {collector::action::keyword, {}};
    case config::action::kind::move:
      return {collector::action::move, a.target};
    case config::action::kind::leave:
      return {collector::action::leave, {}};
  }
  return {collector::action::leave, {}};
}
}  // namespace

collector::mailbox_job job_of(const config::mailbox& m, const config::limits& lim,
                              std::size_t index) {
  collector::mailbox_job j;
  j.config_index = index;
  auto& o = j.options;
  o.name = m.name;
  o.folder = m.folder;
  o.on_success = disposition_of(m.on_success);
  o.on_failure = disposition_of(m.on_failure);
  o.on_not_a_report = disposition_of(m.on_not_a_report);
  if (m.on_success.what == config::action::kind::keyword) o.processed_keyword = m.on_success.target;
  if (m.on_failure.what == config::action::kind::keyword) o.failed_keyword = m.on_failure.target;
  o.batch_size = m.batch_size;
  o.max_message_bytes = m.max_message_size;
  o.max_attempts = m.max_attempts;
  const auto pl = processing_limits_of(lim, m.max_message_size, m.max_report_size);
  o.limits.mime = pl.mime;
  o.limits.report = pl.report;
  return j;
}
#endif

}  // namespace tlsrpt::app
