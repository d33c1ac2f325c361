// SPDX-License-Identifier: Apache-2.0
// Logging: one line of text or one JSON object per event, on stderr (journald reads both).
//
// An event has a name and fields (docs/logging.md lists them). In text logs it is the line the
// caller composed, every sender-controlled value in it escaped with value(); in JSON logs it
// is {"ts":...,"level":...,"event":...,<fields>}, valid UTF-8 whatever the fields hold. Lines
// logged without an event become {"event":"log","message":...}. Every line, of either kind, is
// scrubbed of the registered secrets and has its control characters escaped, so nothing a
// sender writes can end a line early or reach the terminal raw.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}

namespace tlsrpt::logging {

enum class format { text, json };
enum class level { debug, info, warn, error, critical };

// The process's logger on stderr, also made spdlog's default. `lvl` is a spdlog level name.
std::shared_ptr<spdlog::logger> make_logger(format f, std::string_view lvl);
// The format a logger writes (text for loggers not made by make_logger).
format format_of(const spdlog::logger& log);

// Values never to appear in a log line (the database password...): replaced by ***.
void add_secrets(const std::vector<std::string>& secrets);
std::string scrub(std::string_view text);

// A sender-controlled value for a text log line: C-escaped (text::escape_c), "-" when empty,
// and in double quotes when it holds a blank, a quote or '=' (so it cannot fake a key=value).
std::string value(std::string_view v);

class event {
 public:
  explicit event(std::string_view name);
  event& str(std::string_view key, std::string_view v);
  event& num(std::string_view key, std::uint64_t v);
  event& list(std::string_view key, const std::vector<std::string>& v);
  const std::string& name() const noexcept { return name_; }
  // `,"key":value` pairs, for the JSON sink.
  const std::string& members() const noexcept { return members_; }

 private:
  std::string name_;
  std::string members_;
};

// Logs `e` at `lvl`: `text` in a text log, the event's fields in a JSON log.
void emit(spdlog::logger& log, level lvl, const event& e, std::string_view text);

// A fatal error on stderr in the given format ("tlsrpt-collector: <what>" or an event
// "fatal" with error and exit_code), for errors that end the program.
void fatal(format f, std::string_view what, int exit_code);

}  // namespace tlsrpt::logging
