// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <string>

#include "helpers.hpp"
#include "tlsrpt/mime/extract.hpp"

namespace mime = tlsrpt::mime;
namespace h = tlsrpt::test::mime;

TEST_CASE("gunzip inflates every member of a multi-member gzip") {
  const std::string gz = h::gzip("hello ") + h::gzip("world") + std::string(4, '\0');
  CHECK(mime::gunzip(gz, 100) == "hello world");
}

TEST_CASE("gunzip accepts output exactly at the cap and rejects one byte more") {
  const std::string data(5000, 'x');
  CHECK(mime::gunzip(h::gzip(data), 5000) == data);
  try {
    (void)mime::gunzip(h::gzip(data), 4999);
    FAIL("no error");
  } catch (const mime::error& e) {
    CHECK(std::string(e.what()) ==
          "mime: cannot inflate gzip data: decompressed size exceeds the limit of 4999 bytes");
    CHECK(e.zlib_code() == 0);
  }
}

TEST_CASE("gunzip reports zlib's code and message") {
  std::string gz = h::gzip("some report");
  gz[gz.size() - 1] = static_cast<char>(gz[gz.size() - 1] ^ 0x40);  // ISIZE
  try {
    (void)mime::gunzip(gz, 100);
    FAIL("no error");
  } catch (const mime::error& e) {
    CHECK(e.zlib_code() == -3);
    CHECK(e.cause() == "incorrect length check (zlib -3)");
  }
  CHECK_THROWS_AS((void)mime::gunzip("not gzip at all", 100), mime::error);
}

TEST_CASE("sha256_hex gives the FIPS 180-2 digest of abc") {
  CHECK(mime::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(mime::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("library guards nest and extraction works inside them") {
  const mime::library outer;
  { const mime::library inner; }
  CHECK(mime::extract("From: a@example.com\n\nhello\n").kind == mime::outcome::not_a_report);
}
