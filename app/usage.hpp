// SPDX-License-Identifier: Apache-2.0
// Answers to command-line mistakes: an unknown command with the nearest one, and arguments
// that must be a whole number of days.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace tlsrpt::app {

// The largest number of days any option takes: about 2,700 years, well inside PostgreSQL's
// timestamp range, so `now() - N days` can never overflow (SQLSTATE 22008).
inline constexpr long max_days = 1'000'000;

// A whole number of days, 1 to max_days: "expected a whole number of days >= 1, got "abc"".
CLI::Validator whole_days();

// When the command word on the command line is none of `app`'s commands: the message
// naming it and the nearest command, for exit 64. Nothing when the command is known (or
// there is none: CLI11 says what is missing).
std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv);

}  // namespace tlsrpt::app
