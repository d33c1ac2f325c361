// SPDX-License-Identifier: Apache-2.0
// Hostile and odd requests (tests/http/client.py sends what curl will not): each is answered
// as asserted or cut off, and the server goes on serving.
#include <doctest/doctest.h>

#include "http/fixture.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::http;

namespace {

std::string odd(const live_server& s, const std::string& scenario) {
  const auto r = s.client("odd " + scenario + " " + std::to_string(s.port()));
  REQUIRE_MESSAGE(r.status == 0, scenario << ": " << r.out);
  return r.out;
}

bool has(const std::string& out, const std::string& part) {
  return out.find(part) != std::string::npos;
}

void still_serving(const live_server& s) { CHECK(s.curl(s.base() + "/healthz").out == "ok\n 200"); }

}  // namespace

TEST_CASE("a 1 GiB declared body is answered 413 before its body is read") {
  live_server s;
  const auto out = odd(s, "huge-declared");
  CHECK_MESSAGE(has(out, "\"statuses\": [413]"), out);
  CHECK_MESSAGE(has(out, "\"closed\": true"), out);
  const auto absurd = odd(s, "absurd-length");
  CHECK_MESSAGE(has(absurd, "413"), absurd);
  still_serving(s);
}

TEST_CASE("chunked abuse: a bad chunk size is 400, an endless chunk is cut off at the limit") {
  live_server s;
  const auto bad = odd(s, "chunked-bad-size");
  CHECK_MESSAGE(has(bad, "\"statuses\": [400]"), bad);
  const auto huge = odd(s, "chunked-huge");
  CHECK_MESSAGE(has(huge, "\"closed\": true"), huge);
  // The limit is 1 MiB: the server stops reading long before the client's 64 MiB.
  CHECK_MESSAGE(!has(huge, "\"sent_mib\": 64"), huge);
  const auto ok = odd(s, "chunked-ok");
  CHECK_MESSAGE(has(ok, "\"statuses\": [200]"), ok);
  CHECK_MESSAGE(has(ok, "stored load-1"), ok);
  still_serving(s);
}

TEST_CASE("a gzip bomb is rejected by the capped inflate, never held in memory") {
  live_server s;
  const auto out = odd(s, "gzip-bomb");
  CHECK_MESSAGE(has(out, "\"statuses\": [400]"), out);
  CHECK_MESSAGE(has(out, "decompressed size exceeds the limit"), out);
  CHECK(s.sql("SELECT outcome FROM tlsrpt.messages") == "rejected");
  still_serving(s);
}

TEST_CASE("header floods and oversized headers are 431") {
  live_server s;
  const auto many = odd(s, "header-flood");
  CHECK_MESSAGE(has(many, "\"statuses\": [431]"), many);
  const auto big = odd(s, "header-huge");
  CHECK_MESSAGE(has(big, "431"), big);
  still_serving(s);
}

TEST_CASE("garbage methods are 405, binary garbage is dropped, HTTP/1.0 is served") {
  live_server s;
  const auto m = odd(s, "garbage-method");
  CHECK_MESSAGE(has(m, "\"statuses\": [405]"), m);
  const auto g = odd(s, "binary-garbage");
  CHECK_MESSAGE((has(g, "\"statuses\": []") || has(g, "\"statuses\": [400]")), g);
  const auto h10 = odd(s, "http10");
  CHECK_MESSAGE(has(h10, "\"statuses\": [200]"), h10);
  CHECK_MESSAGE(has(h10, "stored load-1"), h10);
  CHECK_MESSAGE(has(h10, "\"closed\": true"), h10);  // no keep-alive asked for in 1.0
  still_serving(s);
}

TEST_CASE("pipelined requests are answered in order on one connection") {
  live_server s;
  const auto out = odd(s, "pipelining");
  CHECK_MESSAGE(has(out, "\"statuses\": [200, 200, 200]"), out);
  CHECK_MESSAGE(has(out, "stored load-1"), out);
  CHECK_MESSAGE(has(out, "duplicate load-1"), out);
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.reports") == "1");
  still_serving(s);
}

TEST_CASE("slow headers and slow bodies are cut off at the request deadline") {
  live_server s;  // request_timeout 3 s
  const auto h = odd(s, "slow-headers");
  CHECK_MESSAGE(has(h, "\"closed\": true"), h);
  const auto b = odd(s, "slow-body");
  CHECK_MESSAGE(has(b, "\"closed\": true"), b);
  CHECK_MESSAGE(!has(b, "200"), b);
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.messages") == "0");
  still_serving(s);
}

TEST_CASE("beyond max_connections a client is answered 503 with Retry-After") {
  auto o = live_server::small_options();
  o.max_connections = 4;
  live_server s(o);
  const auto out = s.client("hold " + std::to_string(s.port()) + " 4 0");
  CHECK_MESSAGE(has(out.out, "\"statuses\": [503]"), out.out);
  CHECK_MESSAGE(has(out.out, "\"retry_after\": \"5\""), out.out);
  still_serving(s);  // the held connections are gone
}
