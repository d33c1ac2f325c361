// SPDX-License-Identifier: Apache-2.0
// tlsrpt-gen: writes a deterministic corpus of TLS report mails (see generator.hpp) as .eml
// files, into a Maildir, or as an mbox, and prints the totals a collector must end up with.
//
//   tlsrpt-gen --count N [--seed S] [--start I] [--not-a-report F] [--broken F]
//              (--eml DIR | --maildir DIR [--owner USER] | --mbox FILE | --expect)
//
// The totals are printed as one JSON line on stdout in every mode.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "gen/generator.hpp"

namespace fs = std::filesystem;
using tlsrpt::bench::gen_options;
using tlsrpt::bench::totals;

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "tlsrpt-gen: " << why << "\n"
            << "usage: tlsrpt-gen --count N [--seed S] [--start I] [--not-a-report F] "
               "[--broken F]\n"
               "                  (--eml DIR | --maildir DIR [--owner USER] | --mbox FILE | "
               "--expect)\n";
  std::exit(64);
}

void write_all(const fs::path& p, std::string_view bytes) {
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (f == nullptr)
    throw std::runtime_error("gen: cannot open " + p.string() + ": " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !ok)
    throw std::runtime_error("gen: cannot write " + p.string() + ": " + std::strerror(errno));
}

struct owner {
  uid_t uid;
  gid_t gid;
};

void give(const fs::path& p, const std::optional<owner>& o) {
  if (o && ::chown(p.c_str(), o->uid, o->gid) != 0)
    throw std::runtime_error("gen: cannot chown " + p.string() + ": " + std::strerror(errno));
}

// mboxrd: every line that starts with ">*From " gets one more ">".
void append_mbox(std::string& out, std::string_view msg) {
  out += "From tlsrpt-gen@localhost Thu Jan  1 00:00:00 1970\n";
  std::size_t pos = 0;
  while (pos < msg.size()) {
    std::size_t end = msg.find('\n', pos);
    end = end == std::string_view::npos ? msg.size() : end + 1;
    const std::string_view line = msg.substr(pos, end - pos);
    std::size_t k = 0;
    while (k < line.size() && line[k] == '>') ++k;
    if (line.substr(k, 5) == "From ") out += '>';
    out += line;
    pos = end;
  }
  if (!msg.empty() && msg.back() != '\n') out += '\n';
  out += '\n';
}

}  // namespace

int main(int argc, char** argv) try {
  gen_options opt;
  std::size_t count = 0;
  std::size_t start = 0;
  bool have_count = false;
  std::string eml, maildir, mbox, owner_name;
  bool expect = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--count") {
      count = std::stoull(value());
      have_count = true;
    } else if (a == "--seed") {
      opt.seed = std::stoull(value());
    } else if (a == "--start") {
      start = std::stoull(value());
    } else if (a == "--not-a-report") {
      opt.not_a_report_fraction = std::stod(value());
    } else if (a == "--broken") {
      opt.broken_fraction = std::stod(value());
    } else if (a == "--eml") {
      eml = value();
    } else if (a == "--maildir") {
      maildir = value();
    } else if (a == "--mbox") {
      mbox = value();
    } else if (a == "--owner") {
      owner_name = value();
    } else if (a == "--expect") {
      expect = true;
    } else if (a == "--help" || a == "-h") {
      usage("help");
    } else {
      usage("unknown argument " + a);
    }
  }
  if (!have_count) usage("--count is required");
  if (static_cast<int>(!eml.empty()) + static_cast<int>(!maildir.empty()) +
          static_cast<int>(!mbox.empty()) + static_cast<int>(expect) !=
      1)
    usage("give exactly one of --eml, --maildir, --mbox, --expect");

  std::optional<owner> own;
  if (!owner_name.empty() && ::geteuid() == 0) {
    const passwd* pw = ::getpwnam(owner_name.c_str());
    if (pw == nullptr) usage("no such user " + owner_name);
    own = owner{pw->pw_uid, pw->pw_gid};
  }
  if (!eml.empty()) fs::create_directories(eml);
  if (!maildir.empty()) {
    for (const char* sub : {"", "cur", "new", "tmp"}) {
      const fs::path d = fs::path(maildir) / sub;
      fs::create_directories(d);
      fs::permissions(d, fs::perms::owner_all);
      give(d, own);
    }
  }
  std::FILE* mbox_file = nullptr;
  if (!mbox.empty()) {
    mbox_file = std::fopen(mbox.c_str(), "wb");
    if (mbox_file == nullptr)
      throw std::runtime_error("gen: cannot open " + mbox + ": " + std::strerror(errno));
  }

  totals t;
  std::string mbox_buf;
  for (std::size_t i = start; i < start + count; ++i) {
    const auto m = tlsrpt::bench::generate(opt, i);
    t.add(m);
    char name[96];
    if (!eml.empty()) {
      std::snprintf(name, sizeof name, "%08zu-%s.eml", i, tlsrpt::bench::to_string(m.kind).data());
      write_all(fs::path(eml) / name, m.bytes);
    } else if (!maildir.empty()) {
      // Maildir delivery: write in tmp/, then rename into new/ (the rename is atomic).
      std::snprintf(name, sizeof name, "%lld.S%lluI%zu.tlsrpt-gen",
                    static_cast<long long>(opt.base_time) + static_cast<long long>(i),
                    static_cast<unsigned long long>(opt.seed), i);
      const fs::path tmp = fs::path(maildir) / "tmp" / name;
      write_all(tmp, m.bytes);
      give(tmp, own);
      fs::rename(tmp, fs::path(maildir) / "new" / name);
    } else if (mbox_file != nullptr) {
      mbox_buf.clear();
      append_mbox(mbox_buf, m.bytes);
      if (std::fwrite(mbox_buf.data(), 1, mbox_buf.size(), mbox_file) != mbox_buf.size())
        throw std::runtime_error("gen: cannot write " + mbox + ": " + std::strerror(errno));
    }
  }
  if (mbox_file != nullptr && std::fclose(mbox_file) != 0)
    throw std::runtime_error("gen: cannot write " + mbox + ": " + std::strerror(errno));
  std::cout << t.to_json() << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "tlsrpt-gen: " << e.what() << "\n";
  return 1;
}
