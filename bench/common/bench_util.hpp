// SPDX-License-Identifier: Apache-2.0
// Small helpers shared by the benchmark programs: the in-memory corpus, timing, peak RSS and
// the one-line JSON result every program prints (scripts/bench.sh reads it).
#pragma once

#include <sys/resource.h>
#include <unistd.h>

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

// CPU seconds (user + system) this process has used so far.
inline double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

// CPU seconds (user + system) of one /proc/<pid>/stat line; 0 when it cannot be read.
inline double stat_cpu_seconds(const std::string& line) {
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return 0;
  // After ") ": state is field 3; utime and stime are fields 14 and 15.
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int f = 3; f <= 15 && rest >> field; ++f) {
    if (f == 14) utime = std::strtod(field.c_str(), nullptr);
    if (f == 15) stime = std::strtod(field.c_str(), nullptr);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Calls f(dir) with /proc/<pid> of every live process.
template <typename F>
void for_each_process(F&& f) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (!pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos) f(e.path());
  }
}

inline std::string first_line(const std::filesystem::path& file, char delimiter = '\n') {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line, delimiter);
  return line;
}

// CPU seconds (user + system) used so far by the PostgreSQL backends serving database `db`
// (their process title reads "postgres: USER DB HOST(PORT) ..."): the server work of one
// client's queries, without the server's background processes.
inline double backends_cpu_seconds(const std::string& db) {
  double total = 0;
  for_each_process([&](const std::filesystem::path& proc) {
    const std::string title = first_line(proc / "cmdline", '\0');
    if (!title.starts_with("postgres: ")) return;
    std::istringstream words(title.substr(10));
    std::string user, database;
    if ((words >> user >> database) && database == db) {
      total += stat_cpu_seconds(first_line(proc / "stat"));
    }
  });
  return total;
}

// CPU seconds (user + system) used so far by every live process whose command name is `comm`
// ("postgres": the local server, its backends and helpers), from /proc/<pid>/stat. Tells how a
// benchmark's time splits between the client and a server on the same machine.
inline double processes_cpu_seconds(const std::string& comm) {
  double total = 0;
  for_each_process([&](const std::filesystem::path& proc) {
    const std::string line = first_line(proc / "stat");
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return;
    if (line.compare(open + 1, close - open - 1, comm) == 0) total += stat_cpu_seconds(line);
  });
  return total;
}

}  // namespace tlsrpt::bench
