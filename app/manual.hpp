// SPDX-License-Identifier: Apache-2.0
// The manual page and the shell completions, generated from the command line itself: the
// commands, their options and help texts come from the CLI11 definition in main.cpp, so the
// man page and the completions cannot drift from --help. The prose that --help has no room
// for (exit status, environment, files, examples) is kept in manual.cpp, beside the code.
#pragma once

#include <iosfwd>
#include <string_view>

namespace CLI {
class App;
}

namespace tlsrpt::app {

// tlsrpt-collector(1) in man(7) roff.
void write_manpage(const CLI::App& app, std::ostream& out);

// A completion script for `shell` ("bash" or "zsh"); throws std::invalid_argument otherwise.
void write_completion(const CLI::App& app, std::string_view shell, std::ostream& out);

}  // namespace tlsrpt::app
