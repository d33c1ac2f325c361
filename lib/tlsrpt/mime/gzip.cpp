// SPDX-License-Identifier: Apache-2.0
// Streaming gzip inflation with a hard output cap, and the content sniffer.
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <string>

#include "tlsrpt/mime/detail.hpp"
#include "tlsrpt/mime/extract.hpp"

namespace tlsrpt::mime {

error::error(const std::string& action, std::string cause, int zlib_code)
    : std::runtime_error("mime: cannot " + action + ": " + cause),
      cause_(std::move(cause)),
      zlib_code_(zlib_code) {}

namespace {

struct inflate_end {
  void operator()(z_stream* zs) const noexcept {
    inflateEnd(zs);
    delete zs;
  }
};
using inflater = std::unique_ptr<z_stream, inflate_end>;

// inflateInit2 allocates zlib's state and window; a collector inflates thousands of small
// reports, so each thread keeps one stream and only resets it.
z_stream& thread_inflater() {
  thread_local inflater zs = [] {
    auto owned = std::make_unique<z_stream>();
    // 15 + 16: a 32 KiB window, gzip wrapper only (the bytes were sniffed as gzip).
    if (inflateInit2(owned.get(), 15 + 16) != Z_OK) {
      throw error("initialise zlib", "out of memory", Z_MEM_ERROR);
    }
    return inflater(owned.release());
  }();
  return *zs;
}

std::string zlib_cause(const z_stream& zs, int rc) {
  const char* text = zs.msg != nullptr ? zs.msg : zError(rc);
  return std::string(text) + " (zlib " + std::to_string(rc) + ")";
}

bool is_gzip_member(std::string_view bytes) noexcept {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

}  // namespace

namespace detail {

sniffed sniff(std::string_view bytes) noexcept {
  if (is_gzip_member(bytes)) return sniffed::gzip;
  if (bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
    return sniffed::zip;
  }
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  const auto first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (bytes[first] == '{' || bytes[first] == '[')) {
    return sniffed::json;
  }
  return sniffed::other;
}

std::string inflate_gzip(std::string_view gz, std::size_t max_bytes, const std::string& object) {
  const std::string action = "inflate " + object;
  z_stream& zs = thread_inflater();
  if (inflateReset(&zs) != Z_OK) throw error(action, zlib_cause(zs, Z_STREAM_ERROR));

  // One byte more than the cap tells "exactly at the cap" from "over it".
  const std::size_t hard_cap = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  std::string out;
  out.resize(std::min(hard_cap, std::max<std::size_t>(4096, gz.size() * 8)));
  std::size_t produced = 0;

  auto next_in = reinterpret_cast<const Bytef*>(gz.data());
  std::size_t left = gz.size();
  for (;;) {
    if (produced == out.size()) {
      if (out.size() >= hard_cap) break;
      out.resize(std::min(hard_cap, out.size() * 2));
    }
    // zlib counts in uInt: feed and drain at most UINT_MAX bytes per call.
    const auto in_now = static_cast<uInt>(std::min<std::size_t>(left, UINT_MAX));
    const auto out_now = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, UINT_MAX));
    zs.next_in = const_cast<Bytef*>(next_in);  // zlib's API is not const-correct
    zs.avail_in = in_now;
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = out_now;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    next_in += in_now - zs.avail_in;
    left -= in_now - zs.avail_in;
    produced += out_now - zs.avail_out;

    if (rc == Z_STREAM_END) {
      // RFC 1952 §2.2: a gzip file is a series of members; `gzip -d` inflates them all.
      const std::string_view rest(reinterpret_cast<const char*>(next_in), left);
      if (!is_gzip_member(rest)) break;  // trailing padding is ignored, as gzip(1) does
      if (inflateReset(&zs) != Z_OK) throw error(action, zlib_cause(zs, Z_STREAM_ERROR));
      continue;
    }
    if (rc == Z_BUF_ERROR && left == 0 && produced < out.size()) {
      throw error(action, "unexpected end of compressed data (zlib -5)", Z_BUF_ERROR);
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw error(action, zlib_cause(zs, rc), rc);
  }
  if (produced > max_bytes) {
    throw error(action,
                "decompressed size exceeds the limit of " + std::to_string(max_bytes) + " bytes");
  }
  out.resize(produced);
  return out;
}

}  // namespace detail

std::string gunzip(std::string_view gz, std::size_t max_bytes) {
  return detail::inflate_gzip(gz, max_bytes, "gzip data");
}

}  // namespace tlsrpt::mime
