// Write throughput of pg_store: N generated reports (1-3 policies, 0-10 failure details each,
// one report per message) in batches, into a freshly migrated database given by URL.
//   store_bench URL [reports=20000] [batch=500]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "store/fixtures.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: store_bench URL [reports] [batch]\n");
    return 64;
  }
  const std::string url = argv[1];
  const int total = argc > 2 ? std::atoi(argv[2]) : 20000;
  const int batch_size = argc > 3 ? std::atoi(argv[3]) : 500;
  namespace st = tlsrpt::store;
  using namespace tlsrpt::test::store;
  st::migrate(url);
  st::pg_store store(url);
  std::mt19937 rng(8460);
  const char* types[] = {"certificate-expired", "certificate-host-mismatch",
                         "starttls-not-supported", "validation-failure",
                         "sts-policy-fetch-error"};
  std::vector<st::message_input> all;
  for (int i = 0; i < total; ++i) {
    std::vector<policy_spec> policies(1 + rng() % 3);
    for (auto& p : policies) {
      p.domain = "d" + std::to_string(rng() % 200) + ".example";
      for (auto d = rng() % 11; d > 0; --d) {
        p.details.push_back({.result = types[rng() % 5],
                             .failed = 1 + static_cast<std::int64_t>(rng() % 5),
                             .mx = "mx" + std::to_string(rng() % 3) + ".example",
                             .receiving_ip = "192.0.2." + std::to_string(rng() % 250),
                             .sending_ip = "198.51.100." + std::to_string(rng() % 250)});
        p.failed += p.details.back().failed;
      }
      p.successful = static_cast<std::int64_t>(rng() % 10000);
    }
    all.push_back(imap_message(static_cast<std::uint32_t>(i + 1),
                               {make_report("Bench Org " + std::to_string(i % 7),
                                            "bench-" + std::to_string(i), 1 + i % 30, policies)},
                               "bench"));
  }
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
  std::printf("%zu reports stored in %.2f s: %.0f reports/s (batch %d)\n", stored, secs,
              static_cast<double>(stored) / secs, batch_size);
  return stored == all.size() ? 0 : 1;
}
