// SPDX-License-Identifier: Apache-2.0
// The manual page and the shell completions: generated from the command line definition, so
// these tests compare them with what --help says, through the built program.
#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>

#include "cli.hpp"
#include "support/support.hpp"

using tlsrpt::test::app::cli;
using tlsrpt::test::app::quote;
using tlsrpt::test::app::scratch_dir;

namespace {

// The command names of the "Subcommands:" section of --help.
std::set<std::string> help_commands() {
  const auto r = cli("--help");
  REQUIRE(r.status == 0);
  std::set<std::string> out;
  std::istringstream in(r.out);
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line == "Subcommands:") {
      in_section = true;
      continue;
    }
    if (!in_section) continue;
    // "  name    description": a command starts two spaces in; continuations are indented more.
    if (line.size() > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ') {
      out.insert(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  return out;
}

// The long options of one command's --help.
std::set<std::string> help_options(const std::string& command) {
  const auto r = cli(command + " --help");
  REQUIRE(r.status == 0);
  std::set<std::string> out;
  std::size_t pos = 0;
  while ((pos = r.out.find("--", pos)) != std::string::npos) {
    auto end = pos + 2;
    while (end < r.out.size() &&
           (std::isalnum(static_cast<unsigned char>(r.out[end])) != 0 || r.out[end] == '-')) {
      ++end;
    }
    if (end > pos + 2 && (pos == 0 || r.out[pos - 1] == ' ' || r.out[pos - 1] == ',')) {
      out.insert(r.out.substr(pos, end - pos));
    }
    pos = end;
  }
  return out;
}

std::string manpage() {
  const auto r = cli("manpage");
  REQUIRE(r.status == 0);
  return r.out;
}

// The text of one command's ".SS" section of the manual, with roff's \- turned back into -.
std::string man_section(const std::string& man, const std::string& command) {
  std::string roff_name;
  for (const char c : command) roff_name += c == '-' ? std::string("\\-") : std::string(1, c);
  const auto start = man.find(".SS " + roff_name + "\n");
  REQUIRE_MESSAGE(start != std::string::npos, "no section for " << command);
  const auto end = man.find("\n.S", start + 4);
  std::string s = man.substr(start, end == std::string::npos ? end : end - start);
  std::string plain;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '-') continue;
    plain += s[i];
  }
  return plain;
}

// Runs the generated bash completion for the words of a command line (the last one being
// completed) and returns COMPREPLY, one word a line.
std::string bash_complete(const std::string& words) {
  const scratch_dir d;
  const auto script = d.path() / "completion.bash";
  {
    const auto r = cli("completion bash");
    REQUIRE(r.status == 0);
    tlsrpt::test::write_file(script, r.out);
  }
  const std::string body = "source " + quote(script.string()) + "; COMP_WORDS=(" + words +
                           "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _tlsrpt_collector; "
                           "((${#COMPREPLY[@]})) && printf '%s\\n' \"${COMPREPLY[@]}\"; true";
  const auto r = tlsrpt::test::run("bash -c " + quote(body) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  return r.out;
}

}  // namespace

TEST_CASE("the manual lists exactly the commands that --help lists") {
  const auto commands = help_commands();
  REQUIRE(commands.size() >= 9);
  CHECK(commands.count("run") == 1);
  CHECK(commands.count("manpage") == 0);  // the generators stay internal

  const auto man = manpage();
  std::set<std::string> in_man;
  std::istringstream in(man);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(".SS ", 0) != 0) continue;
    std::string name;
    for (std::size_t i = 4; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '-') continue;
      name += line[i];
    }
    in_man.insert(name);
  }
  CHECK(in_man == commands);
}

TEST_CASE("every option of every command in --help is described in the manual") {
  const auto man = manpage();
  for (const auto& command : help_commands()) {
    const auto section = man_section(man, command);
    for (const auto& option : help_options(command)) {
      if (option == "--help") continue;
      CHECK_MESSAGE(section.find(option) != std::string::npos,
                    command << ": " << option << " is missing from the manual");
    }
  }
}

TEST_CASE("the manual renders without warnings and has the sections a man page needs") {
  const auto man = manpage();
  for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH EXIT STATUS",
                              ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES"}) {
    CHECK_MESSAGE(man.find(section) != std::string::npos, section);
  }
  const scratch_dir d;
  const auto page = d.path() / "tlsrpt-collector.1";
  tlsrpt::test::write_file(page, man);
  const auto r = tlsrpt::test::run("MANWIDTH=80 man --warnings -l " + quote(page.string()) +
                                   " 2>&1 >/dev/null");
  CHECK(r.status == 0);
  CHECK_MESSAGE(r.out.empty(), r.out);
  const auto rendered =
      tlsrpt::test::run("MANWIDTH=80 man -l " + quote(page.string()) + " 2>/dev/null | col -b");
  CHECK(rendered.out.find("tlsrpt-collector [global options] summary") != std::string::npos);
  CHECK(rendered.out.find("TLSRPT_DATABASE_URL") != std::string::npos);
}

TEST_CASE("the bash completion completes commands, options and fixed option values") {
  const auto commands = bash_complete("tlsrpt-collector su");
  CHECK(commands == "summary\n");
  const auto all = bash_complete("tlsrpt-collector ''");
  for (const auto& c : help_commands()) CHECK(all.find(c + "\n") != std::string::npos);
  CHECK(bash_complete("tlsrpt-collector summary --form") == "--format\n");
  CHECK(bash_complete("tlsrpt-collector summary --format ''") == "table\njson\ncsv\n");
  CHECK(bash_complete("tlsrpt-collector --log-format j") == "json\n");
  // An option of another command is not offered.
  CHECK(bash_complete("tlsrpt-collector poll --form").empty());
}

TEST_CASE("the zsh completion is valid zsh and names every command") {
  const auto r = cli("completion zsh");
  REQUIRE(r.status == 0);
  CHECK(r.out.rfind("#compdef tlsrpt-collector\n", 0) == 0);
  for (const auto& c : help_commands()) {
    CHECK_MESSAGE(r.out.find("'" + c + ":") != std::string::npos, c);
  }
  const scratch_dir d;
  const auto script = d.path() / "_tlsrpt-collector";
  tlsrpt::test::write_file(script, r.out);
  const auto check = tlsrpt::test::run("zsh -n " + quote(script.string()) + " 2>&1");
  CHECK_MESSAGE(check.status == 0, check.out);
}

TEST_CASE("an unknown shell for completion is a usage error") {
  const auto r = cli("completion fish");
  CHECK(r.status == 64);
  CHECK(r.err.find("fish") != std::string::npos);
}
