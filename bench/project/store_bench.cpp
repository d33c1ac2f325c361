// SPDX-License-Identifier: Apache-2.0
// Store only (issue 9): parsed reports written into PostgreSQL through report_store::write()
// in batches, as the collector does. Extraction and parsing happen before the clock starts.
// The database must be a fresh scratch one: the schema is migrated first (not timed).
//
//   tlsrpt-bench-store --url URL [--count N] [--seed S] [--batch B]
#include <cstdio>
#include <exception>

#include "common/bench_util.hpp"
#include "tlsrpt/mime/extract.hpp"
#include "tlsrpt/report/report.hpp"
#include "tlsrpt/store/pg_store.hpp"

namespace {

// The corpus extracted and parsed into store inputs (not timed), and what it holds.
struct prepared {
  std::vector<tlsrpt::store::message_input> inputs;
  std::size_t reports = 0, policies = 0, details = 0;
};

prepared to_inputs(const tlsrpt::bench::corpus& c, const std::string& source) {
  prepared out;
  auto& inputs = out.inputs;
  inputs.reserve(c.mails.size());
  for (std::size_t i = 0; i < c.mails.size(); ++i) {
    const auto& m = c.mails[i];
    auto x = tlsrpt::mime::extract(m);
    tlsrpt::store::message_input in;
    in.facts.key = {source, "INBOX", 1, static_cast<std::uint32_t>(i + 1),
                    tlsrpt::mime::sha256_hex(m)};
    in.facts.message_id = x.env.message_id;
    in.facts.from = x.env.from;
    in.facts.subject = x.env.subject;
    in.facts.submitter = x.env.tls_report_submitter;
    in.facts.date = x.env.date;
    in.facts.size = m.size();
    if (x.kind == tlsrpt::mime::outcome::reports_found) {
      in.kind = tlsrpt::store::outcome::stored;
      for (auto& f : x.reports) {
        auto r = tlsrpt::report::parse(f.json);
        ++out.reports;
        out.policies += r.policies.size();
        for (const auto& p : r.policies) out.details += p.failure_details.size();
        in.reports.push_back({std::move(r), std::move(f.json)});
      }
    } else {
      in.kind = x.kind == tlsrpt::mime::outcome::not_a_report ? tlsrpt::store::outcome::not_a_report
                                                              : tlsrpt::store::outcome::rejected;
      in.error = x.reason;
    }
    inputs.push_back(std::move(in));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  tlsrpt::bench::corpus_args args;
  std::string url;
  std::size_t batch = 100;
  for (int i = 1; i < argc; ++i) {
    if (tlsrpt::bench::parse_corpus_arg(args, i, argc, argv)) continue;
    const std::string a = argv[i];
    if (a == "--url" && i + 1 < argc) {
      url = argv[++i];
    } else if (a == "--batch" && i + 1 < argc) {
      batch = std::stoull(argv[++i]);
    } else {
      std::cerr << "usage: tlsrpt-bench-store --url URL [--count N] [--seed S] [--batch B]\n";
      return 64;
    }
  }
  if (url.empty() || batch == 0) {
    std::cerr << "tlsrpt-bench-store: --url is required and --batch must be positive\n";
    return 64;
  }
  const prepared corpus = to_inputs(tlsrpt::bench::load_corpus(args), "bench");
  const auto& inputs = corpus.inputs;
  // The warm-up: a first batch of 100 further mails of the same generator stream (distinct
  // reports), before the clock. A fresh connection's first batch costs the server ~25 ms more
  // (catalog caches, statement preparation); the figures are those of a running collector.
  tlsrpt::bench::corpus warm_corpus;
  {
    tlsrpt::bench::gen_options opt;
    opt.seed = args.seed;
    for (std::size_t i = 0; i < 100; ++i) {
      warm_corpus.mails.push_back(tlsrpt::bench::generate(opt, args.count + i).bytes);
    }
  }
  const auto warmup = to_inputs(warm_corpus, "warmup").inputs;

  tlsrpt::store::migrate(url);
  tlsrpt::store::pg_store store(url);
  // Connected and warmed up before the clock, as in a running collector (whose ledger lookup
  // also comes before each write).
  const std::uint32_t probe[] = {0};
  store.done_messages("bench", "INBOX", 1, probe);
  store.write(warmup);
  std::size_t stored = 0;
  const double client0 = tlsrpt::bench::self_cpu_seconds();
  const double server0 = tlsrpt::bench::processes_cpu_seconds("postgres");
  // The database name: the URL's path, without its query.
  std::string_view path(url);
  path = path.substr(0, path.find('?'));
  path.remove_prefix(path.find_last_of('/') + 1);
  const std::string db(path);
  const double backend0 = tlsrpt::bench::backends_cpu_seconds(db);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t at = 0; at < inputs.size(); at += batch) {
    const std::size_t n = std::min(batch, inputs.size() - at);
    for (const auto& r : store.write(std::span(inputs).subspan(at, n)))
      if (r.result == tlsrpt::store::outcome::stored) ++stored;
  }
  const double t = tlsrpt::bench::seconds_since(t0);
  const double client_cpu = tlsrpt::bench::self_cpu_seconds() - client0;
  const double server_cpu = tlsrpt::bench::processes_cpu_seconds("postgres") - server0;
  const double backend_cpu = tlsrpt::bench::backends_cpu_seconds(db) - backend0;
  std::printf(
      "{\"bench\":\"store\",\"messages\":%zu,\"reports\":%zu,\"policies\":%zu,"
      "\"failure_details\":%zu,\"stored\":%zu,\"batch\":%zu,\"seconds\":%.6f,"
      "\"reports_per_s\":%.1f,\"messages_per_s\":%.1f,\"client_cpu_s\":%.3f,\"server_cpu_s\":%.3f,"
      "\"backend_cpu_s\":%.3f,"
      "\"peak_rss_kib\":%ld}\n",
      inputs.size(), corpus.reports, corpus.policies, corpus.details, stored, batch, t,
      static_cast<double>(corpus.reports) / t, static_cast<double>(inputs.size()) / t, client_cpu,
      server_cpu, backend_cpu, tlsrpt::bench::peak_rss_kib());
  return stored == corpus.reports ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "tlsrpt-bench-store: " << e.what() << "\n";
  return 1;
}
