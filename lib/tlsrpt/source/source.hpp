// SPDX-License-Identifier: Apache-2.0
// Local message sources for `ingest` and `parse`: files, directories (recursive), Maildir
// folders, mbox files and stdin. Reads bytes only; what the bytes are is the MIME module's job.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tlsrpt::source {

enum class kind { file, maildir, mbox, stdin_ };
std::string_view to_string(kind k) noexcept;  // "file", "maildir", "mbox", "stdin"

// One message (or one report file) read from a local source.
struct item {
  kind from = kind::file;
  std::string path;            // the file ("-" for stdin)
  std::size_t index = 0;       // 1-based position inside an mbox file, 0 otherwise
  std::string bytes;           // empty when oversized
  std::uint64_t size = 0;      // bytes seen (at least max_size + 1 when oversized)
  bool oversized = false;      // larger than max_size: bytes not kept
  std::string origin() const;  // "path", "path#3" for the third message of an mbox, "stdin"
};

// A source that cannot be read: "source: cannot read <path>: <cause>".
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct options {
  std::uint64_t max_size = 25ull * 1024 * 1024;  // per message; larger ones are `oversized`
  // Told about what is skipped and why (a directory link, a directory seen before); the
  // walk goes on. Default: nothing.
  std::function<void(const std::string&)> warn;
};

// Walks every input in order and calls `sink` once per message, one at a time, so memory
// stays bounded by one message. "-" is stdin (one message). Directories are walked
// recursively in name order; a Maildir (cur/ new/ tmp/) yields new/ then cur/ and skips tmp/
// and the server's index files. A file whose first line starts with "From " is an mbox.
// Inside a directory, links to directories are not followed and no directory is walked twice
// (a link loop would otherwise read the same files again and again): options::warn says so.
// Throws error when an input does not exist or cannot be read.
void walk(const std::vector<std::string>& inputs, const options& opt,
          const std::function<void(item&&)>& sink);

// Splits an mbox (mboxrd or mboxo) held in memory; ">From " lines lose one '>'.
std::vector<std::string> split_mbox(std::string_view mbox);

}  // namespace tlsrpt::source
