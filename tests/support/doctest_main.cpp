// SPDX-License-Identifier: Apache-2.0
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>

#include "support/support.hpp"

int main(int argc, char** argv) {
  // The Cyrus registrations of a suite (TLSRPT_TEST_IMAP_SERVER=cyrus) on a harness without
  // Cyrus: skipped (ctest's SKIP_RETURN_CODE) on a developer's machine, a failure in CI.
  if (!tlsrpt::test::select_imap_server()) {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::strcmp(ci, "true") == 0 ? 1 : 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
