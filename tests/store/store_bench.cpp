// SPDX-License-Identifier: Apache-2.0
// Write throughput of pg_store: N generated reports (1-3 policies, one report per message,
// the raw JSON as report::to_json writes it) in batches, into a freshly migrated database
// given by URL. Failure details: "heavy" (the default) gives each policy 0-10 of them (about
// 10 per report); "typical" gives each report 0-10 in all (about 5), as the benchmark issue
// describes a typical report.
//   store_bench URL [reports=20000] [batch=500] [heavy|typical]
// Besides wall time it prints the CPU time of this process and of the server backend serving
// it (read from /proc, so only when the server runs on this machine): on a loaded machine wall
// time says little, while client + server CPU per report is what bounds the rate.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <string>

#include "store/fixtures.hpp"

namespace {

double self_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// utime + stime of a local process, from /proc/<pid>/stat (fields 14 and 15).
std::optional<double> process_cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The backend serving the store: the other client connection to this (fresh) database.
std::optional<long> store_backend_pid(const std::string& url) {
  pqxx::connection c(url);
  pqxx::read_transaction tx(c);
  const auto r = tx.exec(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
      " AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
  if (r.size() != 1) return std::nullopt;
  return r[0][0].as<long>();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: store_bench URL [reports] [batch]\n");
    return 64;
  }
  const std::string url = argv[1];
  const int total = argc > 2 ? std::atoi(argv[2]) : 20000;
  const int batch_size = argc > 3 ? std::atoi(argv[3]) : 500;
  const std::string mode = argc > 4 ? argv[4] : "heavy";
  if (total < 0 || batch_size <= 0 || (mode != "heavy" && mode != "typical")) {
    std::fprintf(stderr, "usage: store_bench URL [reports] [batch] [heavy|typical]\n");
    return 64;
  }
  namespace st = tlsrpt::store;
  using namespace tlsrpt::test::store;
  st::migrate(url);
  st::pg_store store(url);
  std::mt19937 rng(8460);
  const char* types[] = {"certificate-expired", "certificate-host-mismatch",
                         "starttls-not-supported", "validation-failure", "sts-policy-fetch-error"};
  std::vector<st::message_input> all;
  std::size_t policies_total = 0, details_total = 0, json_bytes = 0;
  for (int i = 0; i < total; ++i) {
    std::vector<policy_spec> policies(1 + rng() % 3);
    std::size_t report_details = mode == "typical" ? rng() % 11 : 0;
    for (std::size_t pi = 0; pi < policies.size(); ++pi) {
      policy_spec& p = policies[pi];
      p.domain = "d" + std::to_string(rng() % 200) + ".example";
      // typical: the report's details spread over its policies, the last takes the rest.
      const std::size_t share =
          pi + 1 == policies.size() ? report_details : report_details / policies.size();
      report_details -= mode == "typical" ? share : 0;
      for (auto d = mode == "typical" ? share : rng() % 11; d > 0; --d) {
        p.details.push_back({.result = types[rng() % 5],
                             .failed = 1 + static_cast<std::int64_t>(rng() % 5),
                             .mx = "mx" + std::to_string(rng() % 3) + ".example",
                             .receiving_ip = "192.0.2." + std::to_string(rng() % 250),
                             .sending_ip = "198.51.100." + std::to_string(rng() % 250)});
        p.failed += p.details.back().failed;
      }
      p.successful = static_cast<std::int64_t>(rng() % 10000);
      policies_total += 1;
      details_total += p.details.size();
    }
    auto m = imap_message(static_cast<std::uint32_t>(i + 1),
                          {make_report("Bench Org " + std::to_string(i % 7),
                                       "bench-" + std::to_string(i), 1 + i % 30, policies)},
                          "bench");
    // A full report as raw JSON, so the jsonb conversion costs what it costs in production.
    for (auto& r : m.reports) {
      r.raw_json = tlsrpt::report::to_json(r.parsed);
      json_bytes += r.raw_json.size();
    }
    all.push_back(std::move(m));
  }
  // Connect before the clock starts (the store connects on first use).
  const std::uint32_t probe[] = {0};
  (void)store.done_uids("bench", "INBOX", 1, probe);
  const auto backend = store_backend_pid(url);
  const auto server_before = backend ? process_cpu_seconds(*backend) : std::nullopt;
  const double client_before = self_cpu_seconds();

  const auto start = std::chrono::steady_clock::now();
  std::size_t stored = 0;
  for (std::size_t off = 0; off < all.size(); off += static_cast<std::size_t>(batch_size)) {
    const std::size_t n = std::min(all.size() - off, static_cast<std::size_t>(batch_size));
    for (const auto& r : store.write(std::span(all).subspan(off, n))) {
      stored += r.result == st::outcome::stored ? 1u : 0u;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double client_cpu = self_cpu_seconds() - client_before;
  const auto server_after = backend ? process_cpu_seconds(*backend) : std::nullopt;

  std::printf(
      "%zu reports (%zu policies, %zu failure details, %.1f MB JSON) stored in %.2f s: "
      "%.0f reports/s (batch %d, %s)\n",
      stored, policies_total, details_total, static_cast<double>(json_bytes) / 1e6, secs,
      static_cast<double>(stored) / secs, batch_size, mode.c_str());
  if (stored > 0) {
    const double k = static_cast<double>(stored) / 1000.0;
    std::printf("cpu per 1000 reports: client %.1f ms", client_cpu * 1000.0 / k);
    if (server_before && server_after) {
      const double server_cpu = *server_after - *server_before;
      std::printf(", server backend %.1f ms; cpu-bound rate %.0f reports/s",
                  server_cpu * 1000.0 / k, static_cast<double>(stored) / (client_cpu + server_cpu));
    }
    std::printf("\n");
  }
  return stored == all.size() ? 0 : 1;
}
