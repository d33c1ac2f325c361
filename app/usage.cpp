// SPDX-License-Identifier: Apache-2.0
#include "usage.hpp"

#include <map>
#include <string_view>
#include <vector>

#include "tlsrpt/text/escape.hpp"
#include "tlsrpt/text/nearest.hpp"

namespace tlsrpt::app {

namespace {

// Words people try that are far from the command's name in letters.
const std::map<std::string_view, std::string_view> aliases{
    {"daemon", "run"},     {"serve", "run"},           {"start", "run"},
    {"watch", "run"},      {"import", "ingest"},       {"load", "ingest"},
    {"init", "migrate"},   {"upgrade", "migrate"},     {"stats", "summary"},
    {"status", "summary"}, {"config", "check-config"}, {"validate", "check-config"},
    {"purge", "prune"},    {"retry", "reprocess"}};

std::string shown(std::string_view s) { return text::terminal_cell(s, 40); }

}  // namespace

CLI::Validator whole_days() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        const std::string bad = "expected a whole number of days >= 1, got \"" + shown(s) + "\"";
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return bad;
        // Past max_days (and long before overflow): a usage error, not a database error.
        const auto digits = s.find_first_not_of('0');
        const bool too_many =
            digits != std::string::npos && s.size() - digits > std::to_string(max_days).size();
        long v = 0;
        if (!too_many) v = std::stol(s);
        if (too_many || v > max_days)
          return "expected a whole number of days >= 1 and at most " + std::to_string(max_days) +
                 ", got " + shown(s);
        if (v < 1) return bad;
        return {};
      },
      "DAYS");
}

std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv) {
  // The first word that is neither an option nor the value of a global option.
  std::string word;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-c" || a == "--config" || a == "--log-level" || a == "--log-format") {
      ++i;
      continue;
    }
    if (a.starts_with("-")) continue;
    word = a;
    break;
  }
  if (word.empty()) return std::nullopt;
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return std::nullopt;
    if (!sub->get_group().empty()) names.push_back(sub->get_name());
  }
  std::optional<std::string> hint;
  if (const auto a = aliases.find(word); a != aliases.end()) {
    for (const auto& n : names) {
      if (n == a->second) hint = n;
    }
  }
  if (!hint) hint = text::nearest(word, names);
  std::string msg = "unknown command \"" + shown(word) + "\"";
  if (hint) msg += ": did you mean `" + *hint + "`?";
  return msg + " (`tlsrpt-collector --help` lists the commands)";
}

}  // namespace tlsrpt::app
