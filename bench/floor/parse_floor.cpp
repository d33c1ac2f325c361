// SPDX-License-Identifier: Apache-2.0
// The parse floor (issue 9): the least work that turns a report mail into a JSON DOM. A cheap
// scan for the report part, base64 decoding, zlib inflate and a RapidJSON DOM parse; no MIME
// parser, no validation, no model. The project's parse-only figure is compared with this.
//
//   tlsrpt-bench-parse-floor [--count N] [--seed S] [--dir DIR] [--runs R]
#include <rapidjson/document.h>
#include <zlib.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "common/bench_util.hpp"

namespace {

using tlsrpt::bench::corpus_args;

// The body of the first part declared as a report (tlsrpt+gzip/json or an octet-stream), and
// whether it is base64. Assumes what the generator writes: lowercase media types.
struct part {
  std::string_view body;
  bool base64 = false;
};

bool find_part(std::string_view m, part& out) {
  std::size_t at = m.find("application/tlsrpt");
  if (at == std::string_view::npos) at = m.find("application/octet-stream");
  if (at == std::string_view::npos) return false;
  std::size_t hdr_end = m.find("\n\n", at);
  std::size_t body = hdr_end == std::string_view::npos ? hdr_end : hdr_end + 2;
  const std::size_t crlf = m.find("\r\n\r\n", at);
  if (crlf != std::string_view::npos && (hdr_end == std::string_view::npos || crlf < hdr_end)) {
    hdr_end = crlf;
    body = crlf + 4;
  }
  if (hdr_end == std::string_view::npos) return false;
  out.base64 = m.substr(at, hdr_end - at).find("base64") != std::string_view::npos;
  std::size_t end = m.find("\n--", body);
  if (end == std::string_view::npos) end = m.size();
  out.body = m.substr(body, end - body);
  return true;
}

constexpr std::array<signed char, 256> make_table() {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = -1;
  const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = static_cast<signed char>(i);
  return t;
}
constexpr auto b64 = make_table();

void base64_decode(std::string_view in, std::string& out) {
  out.clear();
  unsigned acc = 0;
  int bits = 0;
  for (const char c : in) {
    const int v = b64[static_cast<unsigned char>(c)];
    if (v < 0) continue;  // line breaks, padding
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
}

// One inflate stream for the whole run (inflateReset between messages): zlib's 32 KiB window
// is allocated once, as a careful implementation would do.
class inflater {
 public:
  inflater() {
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) throw std::runtime_error("cannot init zlib");
  }
  ~inflater() { inflateEnd(&zs_); }
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  bool gunzip(std::string_view in, std::string& out) {
    inflateReset(&zs_);
    if (out.size() < in.size() * 8 + 1024) out.resize(in.size() * 8 + 1024);
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    std::size_t produced = 0;
    int rc = Z_OK;
    while (rc == Z_OK) {
      if (produced == out.size()) out.resize(out.size() * 2);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
      zs_.avail_out = static_cast<uInt>(out.size() - produced);
      rc = inflate(&zs_, Z_NO_FLUSH);
      produced = out.size() - zs_.avail_out;
    }
    size_ = produced;
    return rc == Z_STREAM_END;
  }
  std::size_t size() const { return size_; }

 private:
  z_stream zs_{};
  std::size_t size_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  corpus_args args;
  for (int i = 1; i < argc; ++i) {
    if (!tlsrpt::bench::parse_corpus_arg(args, i, argc, argv)) {
      std::cerr
          << "usage: tlsrpt-bench-parse-floor [--count N] [--seed S] [--dir DIR] [--runs R]\n";
      return 64;
    }
  }
  const auto c = tlsrpt::bench::load_corpus(args);
  const long rss_corpus = tlsrpt::bench::peak_rss_kib();
  std::vector<double> times;
  std::size_t reports = 0, others = 0;
  std::string decoded, json;
  inflater z;
  std::vector<char> pool_buffer(1u << 20);
  for (int run = 0; run < args.runs; ++run) {
    reports = others = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& m : c.mails) {
      part p;
      if (!find_part(m, p)) {
        ++others;
        continue;
      }
      std::string_view bytes = p.body;
      if (p.base64) {
        base64_decode(p.body, decoded);
        bytes = decoded;
      }
      if (bytes.size() >= 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b') {
        if (!z.gunzip(bytes, json)) {
          ++others;
          continue;
        }
        bytes = std::string_view(json.data(), z.size());
      }
      // The DOM's nodes go to a pool on a reused buffer: no malloc per message.
      rapidjson::MemoryPoolAllocator<> pool(pool_buffer.data(), pool_buffer.size());
      rapidjson::Document doc(&pool);
      doc.Parse(bytes.data(), bytes.size());
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("report-id")) {
        ++others;
        continue;
      }
      ++reports;
    }
    times.push_back(tlsrpt::bench::seconds_since(t0));
  }
  const double t = tlsrpt::bench::median(times);
  const double n = static_cast<double>(c.mails.size());
  std::printf(
      "{\"bench\":\"parse_floor\",\"messages\":%zu,\"bytes\":%llu,\"reports\":%zu,\"other\":%zu,"
      "\"runs\":%d,\"seconds\":%.6f,\"messages_per_s\":%.1f,\"mb_per_s\":%.2f,"
      "\"peak_rss_kib\":%ld,\"corpus_rss_kib\":%ld}\n",
      c.mails.size(), static_cast<unsigned long long>(c.bytes), reports, others, args.runs, t,
      n / t, static_cast<double>(c.bytes) / 1e6 / t, tlsrpt::bench::peak_rss_kib(), rss_corpus);
  return 0;
}
