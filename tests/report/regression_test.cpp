// SPDX-License-Identifier: Apache-2.0
// Inputs kept from fuzzing (tests/data/report/fuzz-regressions): each parses, or is rejected
// with a parse_error, and what parses survives a to_json round trip.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "support/support.hpp"
#include "tlsrpt/report/report.hpp"

namespace tlsrpt::report::test {

TEST_CASE("every kept fuzzer input is parsed or rejected cleanly") {
  namespace fs = std::filesystem;
  const fs::path dir = tlsrpt::test::data_dir() / "report" / "fuzz-regressions";
  REQUIRE(fs::is_directory(dir));
  std::size_t inputs = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".md") continue;
    ++inputs;
    CAPTURE(entry.path().filename().string());
    const std::string bytes = tlsrpt::test::read_file(entry.path());
    try {
      report r = parse(bytes);
      r.warnings.clear();
      report again = parse(to_json(r));
      again.warnings.clear();
      CHECK(to_json(again) == to_json(r));
    } catch (const parse_error& e) {
      CHECK(std::string(e.what()).starts_with("report: "));
    }
  }
  CHECK(inputs >= 3);
}

}  // namespace tlsrpt::report::test
