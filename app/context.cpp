// SPDX-License-Identifier: Apache-2.0
// Configuration loading, logging, signals and the mapping of errors to exit codes.
#include <signal.h>
#include <spdlog/fmt/chrono.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "app.hpp"
#include "json_out.hpp"
#include "tlsrpt/source/source.hpp"
#if TLSRPT_HAVE_STORE
#include "tlsrpt/store/pg_store.hpp"
#endif
#if TLSRPT_HAVE_IMAP
#include "tlsrpt/imap/mailbox.hpp"
#include "tlsrpt/imap/oauth2.hpp"
#endif
#if TLSRPT_HAVE_HTTP
#include "tlsrpt/http/server.hpp"
#endif

namespace tlsrpt::app {

namespace {

constexpr const char* system_config = "/etc/tlsrpt-collector/config.yaml";

std::atomic<bool> stop_flag{false};

extern "C" void on_signal(int) { stop_flag.store(true); }

// One JSON object per line: what journald forwarders and log shippers read without a regex.
class json_sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(msg.time);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time - secs).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line =
        "{\"time\":" +
        json::quote(fmt::format("{:%FT%T}.{:03}Z",
                                fmt::gmtime(std::chrono::system_clock::to_time_t(secs)), ms)) +
        ",\"level\":" + json::quote(std::string_view(level.data(), level.size())) +
        ",\"msg\":" + json::quote(std::string_view(msg.payload.data(), msg.payload.size())) + "}\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

std::shared_ptr<spdlog::logger> make_logger(config::logging::format fmt, const std::string& level) {
  std::shared_ptr<spdlog::logger> log;
  if (fmt == config::logging::format::json) {
    log = std::make_shared<spdlog::logger>("tlsrpt", std::make_shared<json_sink>());
  } else {
    log = std::make_shared<spdlog::logger>("tlsrpt",
                                           std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // journald adds its own timestamp; a terminal user wants one, so keep it short and UTC.
    log->set_pattern("%Y-%m-%dT%H:%M:%SZ %l: %v", spdlog::pattern_time_type::utc);
  }
  log->set_level(spdlog::level::from_str(level));
  log->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(log);
  return log;
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // A second signal kills the process the usual way: a user pressing ^C twice means it.
  sa.sa_flags = static_cast<int>(SA_RESETHAND);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

context::context(globals g) : g_(std::move(g)) {}

const config::configuration& context::cfg() {
  if (cfg_) return *cfg_;
  std::optional<std::string> file = g_.config_file;
  if (!file) {
    const char* env = std::getenv("TLSRPT_CONFIG");
    if (env != nullptr && *env != '\0') {
      file = env;
    } else if (std::filesystem::exists(system_config)) {
      file = system_config;
    }
  }
  cfg_ = file ? config::load_file(*file) : config::defaults();
  return *cfg_;
}

const std::string& context::database_url() {
  const auto& c = cfg();
  if (c.db.url.empty())
    throw failure(exit_code::config,
                  "config: no database: set database.url in the configuration file or the "
                  "TLSRPT_DATABASE_URL environment variable");
  return c.db.url;
}

void context::migrate_if_configured() {
#if TLSRPT_HAVE_STORE
  const auto& c = cfg();
  if (!c.db.migrate_on_start) return;
  store::migrate_options o;
  if (c.db.migrations_dir) o.dir = *c.db.migrations_dir;
  const auto applied = store::migrate(database_url(), o);
  for (const auto& m : applied) log()->info("migration {} applied", m.name);
#endif
}

std::shared_ptr<spdlog::logger> context::log() {
  if (log_) return log_;
  auto fmt = config::logging::format::text;
  std::string level = "info";
  // The logger must work even when the configuration is what failed to load.
  try {
    fmt = cfg().log.fmt;
    level = cfg().log.level;
  } catch (const std::exception&) {
  }
  if (g_.log_format) fmt = *g_.log_format == "json" ? config::logging::format::json : fmt;
  if (g_.log_level) level = *g_.log_level;
  log_ = make_logger(fmt, level);
  return log_;
}

const std::atomic<bool>& context::stop() const { return stop_flag; }

int report_exception(std::exception_ptr e) {
  int code = exit_code::software;
  std::string what;
  try {
    std::rethrow_exception(e);
  } catch (const failure& f) {
    code = f.code();
    what = f.what();
  } catch (const config::error& err) {
    code = exit_code::config;
    what = err.what();
  } catch (const source::error& err) {
    code = exit_code::no_input;
    what = err.what();
#if TLSRPT_HAVE_STORE
  } catch (const store::error& err) {
    code = err.transient() ? exit_code::temporary : exit_code::unavailable;
    what = err.what();
#endif
#if TLSRPT_HAVE_IMAP
  } catch (const imap::oauth2_error& err) {
    code = err.configuration() ? exit_code::config
           : err.transient()   ? exit_code::temporary
                               : exit_code::unavailable;
    what = err.what();
  } catch (const imap::error& err) {
    code = err.transient() ? exit_code::temporary : exit_code::unavailable;
    what = err.what();
#endif
#if TLSRPT_HAVE_HTTP
  } catch (const http::error& err) {
    // A listen address taken or refused: the service cannot run here (EX_UNAVAILABLE).
    code = exit_code::unavailable;
    what = err.what();
#endif
  } catch (const std::exception& err) {
    what = std::string("internal error: ") + err.what();
  }
  std::cerr << "tlsrpt-collector: " << what << "\n";
  return code;
}

}  // namespace tlsrpt::app
