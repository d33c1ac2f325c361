// SHA-256 through GLib's GChecksum: GLib is already here for GMime, so no other crypto library.
#include <glib.h>

#include <algorithm>
#include <memory>
#include <string>

#include "tlsrpt/mime/extract.hpp"

namespace tlsrpt::mime {
namespace {

struct checksum_free {
  void operator()(GChecksum* c) const noexcept { g_checksum_free(c); }
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  const std::unique_ptr<GChecksum, checksum_free> sum(g_checksum_new(G_CHECKSUM_SHA256));
  // g_checksum_update takes a gssize: feed very large inputs in pieces.
  constexpr std::size_t chunk = std::size_t{1} << 30;
  do {
    const std::size_t n = std::min(chunk, bytes.size());
    g_checksum_update(sum.get(), reinterpret_cast<const guchar*>(bytes.data()),
                      static_cast<gssize>(n));
    bytes.remove_prefix(n);
  } while (!bytes.empty());
  return g_checksum_get_string(sum.get());
}

}  // namespace tlsrpt::mime
