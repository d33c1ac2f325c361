// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/logging/log.hpp"

#include <spdlog/fmt/chrono.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <shared_mutex>

#include "tlsrpt/text/escape.hpp"

namespace tlsrpt::logging {

namespace {

// JSON loggers carry this name, so emit() knows which form to hand them.
constexpr const char* json_logger_name = "tlsrpt-json";
// An event's JSON members travel through spdlog behind this byte, which no escaped line holds.
constexpr char event_mark = '\x1e';

std::shared_mutex secrets_mutex;
std::vector<std::string> secrets;

std::string timestamp(spdlog::log_clock::time_point t) {
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  return fmt::format("{:%FT%T}.{:03}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(secs)),
                     ms);
}

std::string_view level_name(spdlog::level::level_enum l) {
  const auto v = spdlog::level::to_string_view(l);
  return {v.data(), v.size()};
}

// Control characters and the unsafe code points of a whole line, escaped; backslashes stay
// (the values in it were escaped by value() already, which doubles them).
std::string one_line(std::string_view s) {
  if (text::is_plain(s)) return std::string(s);
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t next = s.find('\\', i);
    const std::string_view part = s.substr(i, next == std::string_view::npos ? s.npos : next - i);
    out += text::escape_c(part);
    if (next == std::string_view::npos) break;
    out += '\\';
    i = next + 1;
  }
  return out;
}

void write_stderr(const std::string& line) { std::fwrite(line.data(), 1, line.size(), stderr); }

class text_sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    // journald adds its own timestamp; a terminal user wants one, so keep it short and UTC.
    const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(msg.time);
    write_stderr(fmt::format("{:%FT%TZ} {}: {}\n",
                             fmt::gmtime(std::chrono::system_clock::to_time_t(secs)),
                             level_name(msg.level), one_line(scrub(payload))));
  }
  void flush_() override { std::fflush(stderr); }
};

// One JSON object per line: what journald forwarders and log shippers read without a regex.
class json_sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string line = "{\"ts\":" + text::json_quote(timestamp(msg.time)) +
                       ",\"level\":" + text::json_quote(level_name(msg.level));
    if (!payload.empty() && payload.front() == event_mark) {
      payload.remove_prefix(1);
      line += scrub(payload);  // members are valid JSON already; *** keeps them valid
    } else {
      line += ",\"event\":\"log\",\"message\":" + text::json_quote(scrub(payload));
    }
    line += "}\n";
    write_stderr(line);
  }
  void flush_() override { std::fflush(stderr); }
};

spdlog::level::level_enum to_spdlog(level l) {
  switch (l) {
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
    case level::critical:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

}  // namespace

std::shared_ptr<spdlog::logger> make_logger(format f, std::string_view lvl) {
  std::shared_ptr<spdlog::logger> log;
  if (f == format::json) {
    log = std::make_shared<spdlog::logger>(json_logger_name, std::make_shared<json_sink>());
  } else {
    log = std::make_shared<spdlog::logger>("tlsrpt", std::make_shared<text_sink>());
  }
  log->set_level(spdlog::level::from_str(std::string(lvl)));
  log->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(log);
  return log;
}

format format_of(const spdlog::logger& log) {
  return log.name() == json_logger_name ? format::json : format::text;
}

void add_secrets(const std::vector<std::string>& s) {
  const std::unique_lock lock(secrets_mutex);
  for (const auto& v : s) {
    if (!v.empty()) secrets.push_back(v);
  }
}

std::string scrub(std::string_view t) {
  std::string out(t);
  const std::shared_lock lock(secrets_mutex);
  for (const auto& s : secrets) {
    for (auto p = out.find(s); p != std::string::npos; p = out.find(s, p + 3))
      out.replace(p, s.size(), "***");
  }
  return out;
}

std::string value(std::string_view v) {
  if (v.empty()) return "-";
  std::string e = text::escape_c(v);
  if (e.find_first_of(" \"=") == std::string::npos) return e;
  std::string q = "\"";
  for (const char c : e) {
    if (c == '"') q += '\\';
    q += c;
  }
  return q + "\"";
}

event::event(std::string_view name) : name_(name) {
  members_ = ",\"event\":" + text::json_quote(name);
}

event& event::str(std::string_view key, std::string_view v) {
  members_ += "," + text::json_quote(key) + ":" + text::json_quote(v);
  return *this;
}

event& event::num(std::string_view key, std::uint64_t v) {
  members_ += "," + text::json_quote(key) + ":" + std::to_string(v);
  return *this;
}

event& event::list(std::string_view key, const std::vector<std::string>& v) {
  members_ += "," + text::json_quote(key) + ":[";
  for (std::size_t i = 0; i < v.size(); ++i) members_ += (i ? "," : "") + text::json_quote(v[i]);
  members_ += "]";
  return *this;
}

void emit(spdlog::logger& log, level lvl, const event& e, std::string_view text) {
  const auto l = to_spdlog(lvl);
  if (!log.should_log(l)) return;
  if (format_of(log) == format::json) {
    log.log(l, "{}{}", event_mark, e.members());
  } else {
    log.log(l, "{}", text);
  }
}

void fatal(format f, std::string_view what, int exit_code) {
  const std::string w = scrub(what);
  if (f == format::json) {
    write_stderr("{\"ts\":" + text::json_quote(timestamp(spdlog::log_clock::now())) +
                 ",\"level\":\"critical\",\"event\":\"fatal\",\"error\":" + text::json_quote(w) +
                 ",\"exit_code\":" + std::to_string(exit_code) + "}\n");
  } else {
    write_stderr("tlsrpt-collector: " + one_line(w) + "\n");
  }
  std::fflush(stderr);
}

}  // namespace tlsrpt::logging
