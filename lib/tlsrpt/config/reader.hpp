// SPDX-License-Identifier: Apache-2.0
// Internal to the config module (includes yaml-cpp): the YAML walker every section reader
// uses, so that a section can live in its own file. Not part of the public interface.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <string>
#include <string_view>

#include "tlsrpt/config/config.hpp"

namespace tlsrpt::config::detail {

inline std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return std::string(s);
}

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

inline const char* node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a scalar";
  }
}

// Walks the YAML tree with the key path and the file name at hand, so that every problem is
// reported as "file:line: key.path: cause".
class reader {
 public:
  explicit reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& n, const std::string& path,
                         const std::string& cause) const {
    throw error(file_, line_of(n), path, cause);
  }

  static int line_of(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return m.line >= 0 ? m.line + 1 : 0;
  }

  // A mapping (or nothing, read as empty) whose keys are all among `allowed`.
  void expect_map(const YAML::Node& n, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const {
    if (n.IsNull()) return;
    if (!n.IsMap()) fail(n, path, std::string("expected a mapping, got ") + node_kind(n));
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string known;
        for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        throw error(file_, line_of(it->first), join(path, key),
                    "unknown key (known keys here: " + known + ")");
      }
    }
  }

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  std::string scalar(const YAML::Node& n, const std::string& path, const char* what) const {
    if (!n.IsScalar()) fail(n, path, std::string("expected ") + what + ", got " + node_kind(n));
    return n.Scalar();
  }

  void read(const YAML::Node& parent, const std::string& path, std::string_view key,
            std::string& out) const {
    const YAML::Node n = parent[std::string(key)];
    if (!n) return;
    out = scalar(n, join(path, key), "a string");
  }
  void read(const YAML::Node& parent, const std::string& path, std::string_view key,
            std::optional<std::string>& out) const {
    const YAML::Node n = parent[std::string(key)];
    if (!n || n.IsNull()) return;
    out = scalar(n, join(path, key), "a string");
  }
  void read(const YAML::Node& parent, const std::string& path, std::string_view key,
            bool& out) const {
    const YAML::Node n = parent[std::string(key)];
    if (!n) return;
    const std::string v = lower(scalar(n, join(path, key), "true or false"));
    if (v == "true" || v == "yes" || v == "on") {
      out = true;
    } else if (v == "false" || v == "no" || v == "off") {
      out = false;
    } else {
      fail(n, join(path, key), "expected true or false, got \"" + n.Scalar() + "\"");
    }
  }
  template <typename Int>
  void read_int(const YAML::Node& parent, const std::string& path, std::string_view key, Int& out,
                Int min) const {
    const YAML::Node n = parent[std::string(key)];
    if (!n) return;
    const std::string v = trim(scalar(n, join(path, key), "an integer"));
    Int value{};
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec != std::errc() || end != v.data() + v.size() || v.empty())
      fail(n, join(path, key), "expected an integer, got \"" + n.Scalar() + "\"");
    if (value < min)
      fail(n, join(path, key), "must be at least " + std::to_string(min) + ", got " + v);
    out = value;
  }
  void read_duration(const YAML::Node& parent, const std::string& path, std::string_view key,
                     std::chrono::milliseconds& out, bool allow_zero = false,
                     std::chrono::milliseconds min = std::chrono::milliseconds(0)) const {
    const YAML::Node n = parent[std::string(key)];
    if (!n) return;
    const std::string v = scalar(n, join(path, key), "a duration such as 30s, 5m or 1h");
    try {
      out = parse_duration(v);
    } catch (const std::invalid_argument& e) {
      fail(n, join(path, key), e.what());
    }
    if (!allow_zero && out.count() == 0) fail(n, join(path, key), "must be greater than zero");
    if (out < min)
      fail(n, join(path, key),
           "must be at least " + format_duration(min) + ", got " + trim(v) +
               " (a shorter wait hammers the servers when they are down)");
  }
  void read_size(const YAML::Node& parent, const std::string& path, std::string_view key,
                 std::uint64_t& out) const {
    const YAML::Node n = parent[std::string(key)];
    if (!n) return;
    const std::string v = scalar(n, join(path, key), "a size such as 512KiB or 25MiB");
    try {
      out = parse_size(v);
    } catch (const std::invalid_argument& e) {
      fail(n, join(path, key), e.what());
    }
    if (out == 0) fail(n, join(path, key), "must be greater than zero");
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

// alerts: (alerts.cpp).
void read_alerts(const reader& r, const YAML::Node& n, alerts& out);
// http: (http.cpp).
http_server read_http(const reader& r, const YAML::Node& n);

}  // namespace tlsrpt::config::detail
