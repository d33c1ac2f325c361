// SPDX-License-Identifier: Apache-2.0
// A full poll pass with a leak checker watching: valgrind in a normal build, LeakSanitizer (via
// the instrumented binary itself) in the ASan/UBSan build, where valgrind cannot run.
#include <doctest/doctest.h>

#include "e2e.hpp"
#include "support/support.hpp"

namespace fs = std::filesystem;
using namespace tlsrpt::e2e;

TEST_CASE("a full poll pass of 300 messages, broken and ordinary mail included, leaks nothing") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the client's memory does not depend on the server; run once");
  const services s = services::shared();
  database db(s);
  folder f(s, "t9", "leak");
  scratch_dir tmp("leak");
  gen_options go;
  go.count = 300;
  go.seed = 96;
  go.not_a_report = 0.1;
  go.broken = 0.1;
  const gen_totals t = generate_into(f, go, s.mail_user);
  REQUIRE(t.broken > 0);
  const fs::path cfg = write_config(tmp.path(), s, db, f, "leak", "    batch_size: 50\n");
  // Migrations first, so the checked pass is the pass alone.
  REQUIRE(run_collector({"-c", cfg.string(), "migrate"}).exit_code == 0);

  proc_options o;
  o.under_valgrind = !TLSRPT_E2E_SANITIZED;
  o.timeout = std::chrono::seconds(300);
  const auto r = run_collector({"-c", cfg.string(), "poll"}, o);
  INFO("poll under " << (o.under_valgrind ? "valgrind" : "LeakSanitizer") << ": " << r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("definitely lost") == std::string::npos);
  CHECK(r.err.find("LeakSanitizer") == std::string::npos);
  check_end_state(db.url(), f, "leak", t);
}
