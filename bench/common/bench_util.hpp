// Small helpers shared by the benchmark programs: the in-memory corpus, timing, peak RSS and
// the one-line JSON result every program prints (scripts/bench.sh reads it).
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "gen/generator.hpp"

namespace tlsrpt::bench {

struct corpus {
  std::vector<std::string> mails;
  std::uint64_t bytes = 0;
};

// --count N [--seed S] generates in memory; --dir D reads every *.eml of a directory (sorted).
struct corpus_args {
  std::size_t count = 1000;
  std::uint64_t seed = 1;
  std::string dir;
  int runs = 5;
};

inline corpus load_corpus(const corpus_args& a) {
  corpus c;
  if (!a.dir.empty()) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(a.dir))
      if (e.path().extension() == ".eml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      c.mails.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      c.bytes += c.mails.back().size();
    }
    return c;
  }
  gen_options opt;
  opt.seed = a.seed;
  c.mails.reserve(a.count);
  for (std::size_t i = 0; i < a.count; ++i) {
    c.mails.push_back(generate(opt, i).bytes);
    c.bytes += c.mails.back().size();
  }
  return c;
}

// Parses the common arguments; returns false for an unknown one (left to the caller).
inline bool parse_corpus_arg(corpus_args& a, int& i, int argc, char** argv) {
  const std::string k = argv[i];
  auto value = [&]() -> std::string {
    if (i + 1 >= argc) {
      std::cerr << k << " needs a value\n";
      std::exit(64);
    }
    return argv[++i];
  };
  if (k == "--count") {
    a.count = std::stoull(value());
  } else if (k == "--seed") {
    a.seed = std::stoull(value());
  } else if (k == "--dir") {
    a.dir = value();
  } else if (k == "--runs") {
    a.runs = std::stoi(value());
  } else {
    return false;
  }
  return true;
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Peak resident set size of this process, in KiB (Linux reports ru_maxrss in KiB).
inline long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace tlsrpt::bench
