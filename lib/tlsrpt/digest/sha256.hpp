// SPDX-License-Identifier: Apache-2.0
// SHA-256 (FIPS 180-4), the one implementation of the project: message digests (the ledger's
// key for mail without a UID), report digests (raw and canonical), migration checksums.
#pragma once

#include <string>
#include <string_view>

namespace tlsrpt::digest {

// Lowercase hex SHA-256 of some bytes. Throws std::runtime_error only if OpenSSL cannot
// allocate its context.
std::string sha256_hex(std::string_view bytes);

}  // namespace tlsrpt::digest
