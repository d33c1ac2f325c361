// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/source/source.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <istream>
#include <set>
#include <utility>

namespace tlsrpt::source {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& cause) {
  throw error("source: cannot read " + path + ": " + cause);
}

bool is_blank_line(std::string_view line) { return line == "\n" || line == "\r\n"; }

// Accumulates mbox messages line by line. The separator is a "From " line at the start of
// the file or after a blank line (the blank line belongs to the separator, not the message).
class mbox_splitter {
 public:
  mbox_splitter(std::uint64_t max_size,
                std::function<void(std::string&&, std::uint64_t, bool)> emit)
      : max_size_(max_size), emit_(std::move(emit)) {}

  void line(std::string_view l) {
    if (l.starts_with("From ") && prev_blank_) {
      finish();
      open_ = true;
      prev_blank_ = false;
      return;
    }
    prev_blank_ = is_blank_line(l);
    if (!open_) return;  // text before the first separator is not a message
    // mboxrd: ">From ", ">>From " ... were escaped on write; drop one '>' (mboxo too, where
    // only ">From " occurs and the original was "From ").
    std::size_t quotes = 0;
    while (quotes < l.size() && l[quotes] == '>') ++quotes;
    if (quotes > 0 && l.substr(quotes).starts_with("From ")) l.remove_prefix(1);
    size_ += l.size();
    if (size_ > max_size_) {
      oversized_ = true;
      current_.clear();
      current_.shrink_to_fit();
    } else {
      current_.append(l);
    }
  }

  void finish() {
    if (!open_) return;
    // The blank line before the next "From " (or at the end of the file) is the separator.
    if (!oversized_) {
      if (current_.ends_with("\r\n\r\n")) {
        current_.resize(current_.size() - 2);
        size_ -= 2;
      } else if (current_.ends_with("\n\n")) {
        current_.pop_back();
        --size_;
      }
    }
    emit_(std::move(current_), size_, oversized_);
    current_.clear();
    size_ = 0;
    oversized_ = false;
    open_ = false;
  }

 private:
  std::uint64_t max_size_;
  std::function<void(std::string&&, std::uint64_t, bool)> emit_;
  std::string current_;
  std::uint64_t size_ = 0;
  bool oversized_ = false;
  bool open_ = false;
  bool prev_blank_ = true;
};

void read_lines(std::istream& in, mbox_splitter& s) {
  std::string l;
  while (std::getline(in, l)) {
    if (!in.eof()) l.push_back('\n');
    s.line(l);
  }
  s.finish();
}

bool looks_like_mbox(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char head[5] = {};
  in.read(head, 5);
  return in.gcount() == 5 && std::memcmp(head, "From ", 5) == 0;
}

std::string read_whole(std::istream& in, const std::string& path, std::uint64_t max_size,
                       std::uint64_t& size, bool& oversized) {
  std::string out;
  char buf[65536];
  size = 0;
  oversized = false;
  while (in) {
    in.read(buf, sizeof buf);
    const auto n = static_cast<std::size_t>(in.gcount());
    size += n;
    if (size > max_size) {
      // Keep counting nothing more: the size is known to be over the limit.
      oversized = true;
      out.clear();
      out.shrink_to_fit();
      break;
    }
    out.append(buf, n);
  }
  if (in.bad()) fail(path, std::strerror(errno));
  return out;
}

void read_file(const fs::path& p, kind k, const options& opt,
               const std::function<void(item&&)>& sink) {
  const std::string path = p.string();
  if (k == kind::file && looks_like_mbox(p)) {
    std::ifstream in(p, std::ios::binary);
    if (!in) fail(path, std::strerror(errno));
    std::size_t index = 0;
    mbox_splitter s(opt.max_size, [&](std::string&& bytes, std::uint64_t size, bool over) {
      item it;
      it.from = kind::mbox;
      it.path = path;
      it.index = ++index;
      it.bytes = std::move(bytes);
      it.size = size;
      it.oversized = over;
      sink(std::move(it));
    });
    read_lines(in, s);
    if (in.bad()) fail(path, std::strerror(errno));
    return;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(path, std::strerror(errno));
  item it;
  it.from = k;
  it.path = path;
  it.bytes = read_whole(in, path, opt.max_size, it.size, it.oversized);
  sink(std::move(it));
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path());
  if (ec) fail(dir.string(), ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

bool is_maildir(const fs::path& dir) {
  return fs::is_directory(dir / "cur") && fs::is_directory(dir / "new");
}

// Directories already walked, by device and inode.
using seen_dirs = std::set<std::pair<std::uintmax_t, std::uintmax_t>>;

void warn(const options& opt, const std::string& what) {
  if (opt.warn) opt.warn(what);
}

void walk_dir(const fs::path& dir, const options& opt, const std::function<void(item&&)>& sink,
              seen_dirs& seen) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 &&
      !seen.emplace(static_cast<std::uintmax_t>(st.st_dev), static_cast<std::uintmax_t>(st.st_ino))
           .second) {
    warn(opt, "source: skipping " + dir.string() + ": walked already (a directory loop)");
    return;
  }
  if (is_maildir(dir)) {
    // New mail first, as a mail client would see it arrive; tmp/ holds half-delivered files.
    for (const char* sub : {"new", "cur"}) {
      for (const auto& p : sorted_entries(dir / sub))
        if (fs::is_regular_file(p)) read_file(p, kind::maildir, opt, sink);
    }
    // Maildir++ subfolders are ".Name" directories that are Maildirs themselves.
    for (const auto& p : sorted_entries(dir)) {
      const std::string name = p.filename().string();
      if (name.size() > 1 && name[0] == '.' && fs::is_directory(p) && is_maildir(p))
        walk_dir(p, opt, sink, seen);
    }
    return;
  }
  for (const auto& p : sorted_entries(dir)) {
    const std::string name = p.filename().string();
    if (name.starts_with(".")) continue;  // hidden files and directories (.git, editors)
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(p, ec)) && fs::is_directory(p, ec)) {
      warn(opt, "source: not following the directory link " + p.string());
      continue;
    }
    if (fs::is_directory(p)) {
      walk_dir(p, opt, sink, seen);
    } else if (fs::is_regular_file(p)) {
      read_file(p, kind::file, opt, sink);
    }
  }
}

}  // namespace

std::string_view to_string(kind k) noexcept {
  switch (k) {
    case kind::file:
      return "file";
    case kind::maildir:
      return "maildir";
    case kind::mbox:
      return "mbox";
    case kind::stdin_:
      return "stdin";
  }
  return "file";
}

std::string item::origin() const {
  if (from == kind::stdin_) return "stdin";
  if (from == kind::mbox) return path + "#" + std::to_string(index);
  return path;
}

void walk(const std::vector<std::string>& inputs, const options& opt,
          const std::function<void(item&&)>& sink) {
  for (const auto& input : inputs) {
    if (input == "-") {
      item it;
      it.from = kind::stdin_;
      it.path = "-";
      it.bytes = read_whole(std::cin, "stdin", opt.max_size, it.size, it.oversized);
      sink(std::move(it));
      continue;
    }
    const fs::path p(input);
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) fail(input, ec ? ec.message() : "no such file or directory");
    if (fs::is_directory(st)) {
      seen_dirs seen;
      walk_dir(p, opt, sink, seen);
    } else {
      read_file(p, kind::file, opt, sink);
    }
  }
}

std::vector<std::string> split_mbox(std::string_view mbox) {
  std::vector<std::string> out;
  mbox_splitter s(UINT64_MAX, [&](std::string&& bytes, std::uint64_t, bool) {
    out.push_back(std::move(bytes));
  });
  while (!mbox.empty()) {
    const auto nl = mbox.find('\n');
    const std::size_t n = nl == std::string_view::npos ? mbox.size() : nl + 1;
    s.line(mbox.substr(0, n));
    mbox.remove_prefix(n);
  }
  s.finish();
  return out;
}

}  // namespace tlsrpt::source
