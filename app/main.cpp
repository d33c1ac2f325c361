// tlsrpt-collector: thin CLI. Parses arguments, loads configuration, wires the modules and
// maps errors to sysexits(3) codes. No parsing and no SQL here.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"tlsrpt-collector: SMTP TLS reports (RFC 8460) from a mailbox into PostgreSQL"};
  app.set_version_flag("--version", std::string("tlsrpt-collector ") + TLSRPT_VERSION);
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 64;  // EX_USAGE
  }
  return 0;
}
