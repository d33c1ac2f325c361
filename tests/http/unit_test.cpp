// SPDX-License-Identifier: Apache-2.0
// The HTTP side's pure parts: listen addresses, proxy blocks, media types, the config section.
#include <doctest/doctest.h>

#include "tlsrpt/config/config.hpp"
#include "tlsrpt/http/metrics.hpp"
#include "tlsrpt/http/receiver.hpp"
#include "tlsrpt/http/server.hpp"

using namespace tlsrpt;

TEST_CASE("listen addresses are host:port with IPv6 in brackets") {
  CHECK(http::parse_listen("127.0.0.1:8460").text() == "127.0.0.1:8460");
  const auto v6 = http::parse_listen("[::1]:8460");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 8460);
  CHECK(v6.text() == "[::1]:8460");
  CHECK(http::parse_listen("0.0.0.0:0").port == 0);
  for (const char* bad : {"8460", "::1:8460", "[::1]8460", "host:80", "127.0.0.1:70000",
                          "127.0.0.1:", ":8460", "[::1]:x"}) {
    CHECK_THROWS_AS_MESSAGE(http::parse_listen(bad), std::invalid_argument, bad);
  }
}

TEST_CASE("trusted proxy blocks match addresses and their IPv4-mapped forms") {
  CHECK(http::address_in("10.1.2.3", "10.0.0.0/8"));
  CHECK_FALSE(http::address_in("11.1.2.3", "10.0.0.0/8"));
  CHECK(http::address_in("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(http::address_in("127.0.0.2", "127.0.0.1"));
  CHECK(http::address_in("::ffff:10.9.9.9", "10.0.0.0/8"));
  CHECK(http::address_in("fd00::1", "fd00::/8"));
  CHECK_FALSE(http::address_in("fe80::1", "fd00::/8"));
  CHECK_FALSE(http::address_in("garbage", "0.0.0.0/0"));
  CHECK_FALSE(http::address_in("10.0.0.1", "10.0.0.0/33"));
}

TEST_CASE("report media types: the RFC's two, their usual mislabels, nothing else") {
  CHECK(http::media_type(" Application/TLSRPT+Gzip ; charset=x") == "application/tlsrpt+gzip");
  for (const char* ok : {"application/tlsrpt+gzip", "application/tlsrpt+json", "application/json",
                         "application/gzip", "application/octet-stream", ""}) {
    CHECK_MESSAGE(http::report_media_type(ok), ok);
  }
  for (const char* no : {"text/html", "multipart/form-data", "application/xml", "image/png"}) {
    CHECK_MESSAGE(!http::report_media_type(no), no);
  }
}

TEST_CASE("answers are one line: control characters replaced, length bounded") {
  CHECK(http::one_line("a\nb\r\x1b[31mc") == "a b  [31mc");
  CHECK(http::one_line(std::string(1000, 'x'), 10) == "xxxxxxxxxx...");
}

TEST_CASE("label values are escaped for the exposition format") {
  CHECK(http::escape_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("the http section reads every key of the issue's example") {
  const auto c = config::parse(R"(
http:
  listen: ["127.0.0.1:8460", "[::1]:8460"]
  tls_cert: /etc/tlsrpt-collector/tls/fullchain.pem
  tls_key:  /etc/tlsrpt-collector/tls/privkey.pem
  report_path: /tls-rpt
  trusted_proxies: [10.0.0.0/8]
  max_body_size: 25MiB
  max_connections: 256
  request_timeout: 30s
)");
  REQUIRE(c.http);
  CHECK(c.http->listen == std::vector<std::string>{"127.0.0.1:8460", "[::1]:8460"});
  CHECK(c.http->tls_cert == "/etc/tlsrpt-collector/tls/fullchain.pem");
  CHECK(c.http->report_path == "/tls-rpt");
  CHECK(c.http->trusted_proxies == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(c.http->max_body_size == 25u * 1024 * 1024);
  CHECK(c.http->max_connections == 256);
  CHECK(c.http->request_timeout == std::chrono::seconds(30));
  CHECK_FALSE(config::parse("database: {}\n").http);
  const auto d = config::parse("http: {}\n");
  REQUIRE(d.http);
  CHECK(d.http->listen == std::vector<std::string>{"127.0.0.1:8460"});
  CHECK(d.http->report_path == "/tlsrpt");
}

TEST_CASE("a bad http section names its line and key") {
  const auto fails = [](const char* yaml, const char* part) {
    try {
      config::parse(yaml, "c.yaml");
      FAIL("accepted: " << yaml);
    } catch (const config::error& e) {
      CHECK_MESSAGE(std::string(e.what()).find(part) != std::string::npos, e.what());
    }
  };
  fails("http:\n  listen: [\"8460\"]\n", "c.yaml:2: http.listen[0]: expected host:port");
  fails("http:\n  tls_cert: /x\n", "tls_cert and tls_key go together");
  fails("http:\n  report_path: tlsrpt\n", "http.report_path: expected a path");
  fails("http:\n  max_connections: 0\n", "http.max_connections: must be at least 1");
  fails("http:\n  lisen: []\n", "http.lisen: unknown key");
  fails("http:\n  users: alice\n", "http.users: expected a list");
  fails("http:\n  users:\n    - name: a:b\n      password_hash: \"$6$s$h\"\n",
        "c.yaml:3: http.users[0].name: expected a user name without a colon");
  fails("http:\n  users:\n    - name: alice\n      password_hash: secret\n",
        "http.users[0].password_hash: expected a crypt(3) hash");
  fails("http:\n  users:\n    - name: alice\n      password: x\n",
        "http.users[0].password: unknown key");
  fails(
      "http:\n  users:\n    - {name: a, password_hash: \"$6$s$h\"}\n"
      "    - {name: a, password_hash: \"$6$t$h\"}\n",
      "http.users[1].name: \"a\" is listed twice");
}

TEST_CASE("http.users: the dashboard's readers with their crypt(3) hashes") {
  const auto c = config::parse(R"(
http:
  users:
    - name: alice
      password_hash: "$6$saltsalt$abc"
    - name: bob
      password_hash: "$y$j9T$salt$hash"
)");
  REQUIRE(c.http);
  REQUIRE(c.http->users.size() == 2);
  CHECK(c.http->users[0].name == "alice");
  CHECK(c.http->users[0].password_hash == "$6$saltsalt$abc");
  CHECK(c.http->users[1].name == "bob");
  CHECK(c.http->users[1].line == 6);
  CHECK(config::parse("http: {}\n").http->users.empty());
  // The hash is never echoed in an error.
  try {
    config::parse("http:\n  users:\n    - name: a\n      password_hash: hunter2hunter2\n");
    FAIL("accepted a plain password");
  } catch (const config::error& e) {
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
  }
}
