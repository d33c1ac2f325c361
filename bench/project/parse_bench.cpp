// SPDX-License-Identifier: Apache-2.0
// Parse only (issue 9): the project's MIME extraction and report parsing over an in-memory
// corpus, single thread, no I/O. Compare with tlsrpt-bench-parse-floor on the same corpus.
//
//   tlsrpt-bench-parse [--count N] [--seed S] [--dir DIR] [--runs R]
#include <cstdio>
#include <exception>

#include "common/bench_util.hpp"
#include "tlsrpt/mime/extract.hpp"
#include "tlsrpt/report/report.hpp"

int main(int argc, char** argv) {
  tlsrpt::bench::corpus_args args;
  for (int i = 1; i < argc; ++i) {
    if (!tlsrpt::bench::parse_corpus_arg(args, i, argc, argv)) {
      std::cerr << "usage: tlsrpt-bench-parse [--count N] [--seed S] [--dir DIR] [--runs R]\n";
      return 64;
    }
  }
  const auto c = tlsrpt::bench::load_corpus(args);
  const long rss_corpus = tlsrpt::bench::peak_rss_kib();
  std::vector<double> times;
  std::size_t reports = 0, not_reports = 0, broken = 0, policies = 0;
  for (int run = 0; run < args.runs; ++run) {
    reports = not_reports = broken = policies = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& m : c.mails) {
      const auto x = tlsrpt::mime::extract(m);
      if (x.kind == tlsrpt::mime::outcome::not_a_report) {
        ++not_reports;
        continue;
      }
      if (x.kind == tlsrpt::mime::outcome::broken_report) {
        ++broken;
        continue;
      }
      for (const auto& f : x.reports) {
        try {
          const auto r = tlsrpt::report::parse(f.json);
          ++reports;
          policies += r.policies.size();
        } catch (const std::exception&) {
          ++broken;
        }
      }
    }
    times.push_back(tlsrpt::bench::seconds_since(t0));
  }
  const double t = tlsrpt::bench::median(times);
  const double n = static_cast<double>(c.mails.size());
  std::printf(
      "{\"bench\":\"parse\",\"messages\":%zu,\"bytes\":%llu,\"reports\":%zu,\"policies\":%zu,"
      "\"not_a_report\":%zu,\"broken\":%zu,\"runs\":%d,\"seconds\":%.6f,"
      "\"messages_per_s\":%.1f,\"mb_per_s\":%.2f,\"peak_rss_kib\":%ld,\"corpus_rss_kib\":%ld}\n",
      c.mails.size(), static_cast<unsigned long long>(c.bytes), reports, policies, not_reports,
      broken, args.runs, t, n / t, static_cast<double>(c.bytes) / 1e6 / t,
      tlsrpt::bench::peak_rss_kib(), rss_corpus);
  return 0;
}
