// SPDX-License-Identifier: Apache-2.0
// RFC 8460 §3 over HTTP against the real server, intake and PostgreSQL: what each request is
// answered and what the ledger and the report tables hold afterwards.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "http/fixture.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::http;

namespace {

std::string corpus_file(const std::string& rel) { return (corpus_dir() / rel).string(); }

// Writes report N (variant V) into the scratch directory, plain and gzipped.
std::string make_report(const live_server& s, int n, int variant = 0, bool gz = false) {
  const auto path = s.dir / ("r" + std::to_string(n) + "_" + std::to_string(variant) +
                             (gz ? ".json.gz" : ".json"));
  const auto r =
      run("python3 " + quote(client_script()) + " report " + std::to_string(n) + " " +
          std::to_string(variant) + (gz ? " | gzip -c" : "") + " > " + quote(path.string()));
  REQUIRE(r.status == 0);
  return path.string();
}

std::string post(const live_server& s, const std::string& file, const std::string& type) {
  std::string args = "--data-binary @" + quote(file) + " ";
  if (!type.empty()) args += "-H " + quote("Content-Type: " + type) + " ";
  // curl adds a Content-Type for --data-binary; "-" asks for none at all.
  if (type.empty()) args += "-H 'Content-Type:' ";
  return s.curl(args + s.base() + "/tlsrpt").out;
}

}  // namespace

TEST_CASE("a report POSTed as tlsrpt+gzip or tlsrpt+json is stored and answered 200 stored" *
          doctest::test_suite("corpus")) {
  live_server s;
  CHECK(post(s, corpus_file("marcbradshaw__mail-tls-rpt/report.json.gz"),
             "application/tlsrpt+gzip") == "stored 2020-03-02T00:00:00Z_fastmaildmarc.com\n 200");
  CHECK(post(s, corpus_file("kravietz__tlsrpt-rs/rfc8460.json"), "application/tlsrpt+json") ==
        "stored 5065427c-23d3-47ca-b6e0-946ea0e8c4be\n 200");
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.reports") == "2");
  // The ledger: source https, the peer as folder, the body's digest as sha256.
  const auto sha = run("sha256sum " + quote(corpus_file("kravietz__tlsrpt-rs/rfc8460.json")));
  CHECK(s.sql("SELECT source || ' ' || folder || ' ' || outcome || ' ' || sha256 FROM "
              "tlsrpt.messages ORDER BY id DESC LIMIT 1") ==
        "https 127.0.0.1 stored " + sha.out.substr(0, 64));
}

TEST_CASE("mislabelled bodies are sniffed: gzip sent as json, json as gzip, json without a type") {
  live_server s;
  CHECK(post(s, make_report(s, 1, 0, true), "application/tlsrpt+json") == "stored load-1\n 200");
  CHECK(post(s, make_report(s, 2), "application/tlsrpt+gzip") == "stored load-2\n 200");
  CHECK(post(s, make_report(s, 3), "application/json; charset=utf-8") == "stored load-3\n 200");
  CHECK(post(s, make_report(s, 4, 0, true), "application/octet-stream") == "stored load-4\n 200");
  CHECK(post(s, make_report(s, 5), "") == "stored load-5\n 200");
  CHECK(post(s, make_report(s, 6), "Application/TLSRPT+JSON") == "stored load-6\n 200");
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.reports") == "6");
}

TEST_CASE("other content types are 415 and nothing is read or stored") {
  live_server s;
  const std::string f = make_report(s, 1);
  for (const char* t : {"text/html", "multipart/form-data; boundary=x",
                        "application/x-www-form-urlencoded", "image/png"}) {
    const std::string out = post(s, f, t);
    CHECK_MESSAGE(out.ends_with(" 415"), t << ": " << out);
    CHECK(out.starts_with("unsupported media type"));
  }
  const auto br = s.curl("--data-binary @" + quote(f) +
                         " -H 'Content-Type: application/tlsrpt+json' -H 'Content-Encoding: br' " +
                         s.base() + "/tlsrpt");
  CHECK(br.out.ends_with(" 415"));
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.messages") == "0");
}

TEST_CASE("a retried POST is a duplicate, a changed report with the same id a conflict") {
  live_server s;
  const std::string a = make_report(s, 7);
  CHECK(post(s, a, "application/tlsrpt+json") == "stored load-7\n 200");
  CHECK(post(s, a, "application/tlsrpt+json") == "duplicate load-7\n 200");
  // The same report gzipped is other bytes (another ledger row) but the same report.
  CHECK(post(s, make_report(s, 7, 0, true), "application/tlsrpt+gzip") == "duplicate load-7\n 200");
  CHECK(post(s, make_report(s, 7, 1), "application/tlsrpt+json") == "conflict load-7\n 200");
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.reports") == "1");
  CHECK(s.sql("SELECT string_agg(outcome, ',' ORDER BY id) FROM tlsrpt.messages") ==
        "stored,duplicate,conflict");
}

TEST_CASE("a broken report is 400 with its cause on one line and recorded as rejected") {
  live_server s;
  const auto f = s.dir / "broken.json";
  write_file(f, "{\"organization-name\":\"x\",\n\"report-id\":\"b1\"}");
  const std::string out = post(s, f.string(), "application/tlsrpt+json");
  CHECK(out.starts_with("rejected: report: "));
  CHECK(out.ends_with("\n 400"));
  CHECK(out.find('\n') == out.size() - 5);  // one line
  const auto gz = s.dir / "broken.json.gz";
  write_file(gz, std::string("\x1f\x8b\x08\x00garbage", 12));
  const std::string out2 = post(s, gz.string(), "application/tlsrpt+gzip");
  CHECK(out2.starts_with("rejected: mime: "));
  CHECK(out2.ends_with(" 400"));
  CHECK(s.sql("SELECT string_agg(source || ' ' || outcome, ',' ORDER BY id) FROM "
              "tlsrpt.messages") == "https rejected,https rejected");
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.reports") == "0");
}

TEST_CASE("other paths are 404, other methods 405 with Allow, a declared large body 413") {
  live_server s;
  CHECK(s.curl(s.base() + "/nope").out == "not found\n 404");
  CHECK(s.curl("-X POST -d x " + s.base() + "/tlsrpt/extra").out == "not found\n 404");
  const auto g = s.curl("-i " + s.base() + "/tlsrpt");
  CHECK(g.out.find("HTTP/1.1 405") == 0);
  CHECK(g.out.find("Allow: POST") != std::string::npos);
  CHECK(s.curl("-X PUT -d x " + s.base() + "/tlsrpt").out.ends_with(" 405"));
  CHECK(s.curl("-X DELETE " + s.base() + "/metrics").out.ends_with(" 405"));
  const auto big = s.dir / "big.json";
  write_file(big, std::string(2 * 1024 * 1024, ' '));
  const std::string out = post(s, big.string(), "application/tlsrpt+json");
  CHECK(out.starts_with("too large"));
  CHECK(out.ends_with(" 413"));
  CHECK(s.curl(s.base() + "/healthz").out == "ok\n 200");
}

TEST_CASE("behind a trusted proxy the ledger records the X-Forwarded-For client") {
  auto o = live_server::small_options();
  o.trusted_proxies = {"127.0.0.0/8"};
  live_server s(o);
  const std::string f = make_report(s, 11);
  const auto r = s.curl("--data-binary @" + quote(f) +
                        " -H 'Content-Type: application/tlsrpt+json' -H 'X-Forwarded-For: "
                        "198.51.100.7, 127.0.0.5' " +
                        s.base() + "/tlsrpt");
  CHECK(r.out == "stored load-11\n 200");
  CHECK(s.sql("SELECT folder FROM tlsrpt.messages") == "198.51.100.7");
}

TEST_CASE("an untrusted peer's X-Forwarded-For is ignored") {
  live_server s;
  const std::string f = make_report(s, 12);
  const auto r = s.curl("--data-binary @" + quote(f) +
                        " -H 'Content-Type: application/tlsrpt+json' -H 'X-Forwarded-For: "
                        "198.51.100.7' " +
                        s.base() + "/tlsrpt");
  CHECK(r.out == "stored load-12\n 200");
  CHECK(s.sql("SELECT folder FROM tlsrpt.messages") == "127.0.0.1");
}

TEST_CASE("native TLS: curl checks the certificate and stores over HTTPS") {
  const auto tmp = binary_dir() / "http-test-tmp" / "tls";
  std::filesystem::create_directories(tmp);
  const auto key = tmp / "key.pem";
  const auto cert = tmp / "cert.pem";
  const auto r =
      run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
          "-addext subjectAltName=IP:127.0.0.1 -keyout " +
          quote(key.string()) + " -out " + quote(cert.string()) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  auto o = live_server::small_options();
  o.tls_cert_pem = read_file(cert);
  o.tls_key_pem = read_file(key);
  live_server s(o);
  const std::string base = "https://127.0.0.1:" + std::to_string(s.port());
  const std::string f = make_report(s, 21);
  const auto ok = s.curl("--cacert " + quote(cert.string()) + " --data-binary @" + quote(f) +
                         " -H 'Content-Type: application/tlsrpt+json' " + base + "/tlsrpt");
  CHECK(ok.out == "stored load-21\n 200");
  // Plain HTTP on the TLS port gets no answer that a client could take for one.
  CHECK(s.curl(s.base() + "/healthz").out.find(" 200") == std::string::npos);
  CHECK(s.curl("--cacert " + quote(cert.string()) + " " + base + "/healthz").out == "ok\n 200");
}

TEST_CASE("health: /healthz is ok and /readyz ready while the database answers") {
  live_server s;
  CHECK(s.curl(s.base() + "/healthz").out == "ok\n 200");
  CHECK(s.curl(s.base() + "/readyz").out == "ready\n 200");
  CHECK(s.curl("-I " + s.base() + "/healthz").out.find("HTTP/1.1 200") == 0);
}

TEST_CASE("run with only an http section is a receiver: it stores POSTs and stops on SIGTERM") {
  scratch_database db;
  const auto dir = binary_dir() / "http-test-tmp" / (db.name() + "-run");
  std::filesystem::create_directories(dir);
  write_file(dir / "config.yaml", "database:\n  url: " + db.url() +
                                      "\nhttp:\n  listen: [\"127.0.0.1:0\"]\n  report_path: "
                                      "/tls-rpt\n");
  const std::string exe = (binary_dir() / "app/tlsrpt-collector").string();
  const std::string log = (dir / "run.log").string();
  const auto started = run(quote(exe) + " -c " + quote((dir / "config.yaml").string()) + " run > " +
                           quote(log) + " 2>&1 & echo $!");
  const int pid = std::stoi(started.out);
  std::string port;
  for (int i = 0; i < 400 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string text = read_file(log);
    const auto at = text.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) {
      port = text.substr(at + 30, text.find('/', at + 30) - at - 30);
    }
  }
  REQUIRE_MESSAGE(!port.empty(), read_file(log));
  const std::string body = (data_dir() / "report" / "rfc8460-example.json").string();
  const auto r =
      run("curl -sS -w ' %{http_code}' -H 'Content-Type: application/tlsrpt+json' "
          "--data-binary @" +
          quote(body) + " http://127.0.0.1:" + port + "/tls-rpt");
  CHECK(r.out == "stored 5065427c-23d3-47ca-b6e0-946ea0e8c4be\n 200");
  const auto m = run("curl -sS http://127.0.0.1:" + port + "/metrics");
  CHECK(m.out.find("tlsrpt_collector_messages_total{source=\"https\",outcome=\"stored\"} 1") !=
        std::string::npos);
  ::kill(pid, SIGTERM);
  const auto waited = run("while kill -0 " + std::to_string(pid) +
                          " 2>/dev/null; do sleep 0.05; done; grep -c 'stopped' " + quote(log));
  CHECK(waited.out == "1\n");
  CHECK(read_file(log).find("serving HTTP only") != std::string::npos);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
