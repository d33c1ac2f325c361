// SPDX-License-Identifier: Apache-2.0
// The HTTP side's benchmark (scripts/bench.sh --only http):
//   tlsrpt-bench-http serve-floor        the project's HTTP server answering every POST
//                                        "stored" without storing anything: the floor
//   tlsrpt-bench-http load PORT N CONNS  N distinct reports POSTed over CONNS keep-alive
//                                        connections; prints one JSON line
// The load client is a plain blocking HTTP/1.1 client over sockets: libcurl or Python would
// cost more CPU per request than the server under test on a two-core machine.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tlsrpt/http/server.hpp"

namespace {

std::atomic<bool> stop{false};
extern "C" void on_signal(int) { stop.store(true); }

std::string report(std::size_t i) {
  return "{\"organization-name\":\"bench.example\",\"date-range\":{\"start-datetime\":"
         "\"2026-11-01T00:00:00Z\",\"end-datetime\":\"2026-11-01T23:59:59Z\"},\"contact-info\":"
         "\"tlsrpt@bench.example\",\"report-id\":\"bench-" +
         std::to_string(i) +
         "\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: "
         "STSv1\",\"mode: testing\"],\"policy-domain\":\"d" +
         std::to_string(i % 50) +
         ".example\",\"mx-host\":[\"mx.example\"]},\"summary\":{\"total-successful-session-"
         "count\":" +
         std::to_string(10 + i % 7) + ",\"total-failure-session-count\":" + std::to_string(i % 3) +
         "},\"failure-details\":[{\"result-type\":\"certificate-expired\",\"sending-mta-ip\":"
         "\"192.0.2.1\",\"receiving-mx-hostname\":\"mx.example\",\"failed-session-count\":" +
         std::to_string(i % 3) + "}]}]}";
}

int serve_floor() {
  tlsrpt::http::options o;
  o.listen = {"127.0.0.1:0"};
  o.max_connections = 512;
  tlsrpt::http::server s(o);
  s.post("/tlsrpt", [](const tlsrpt::http::request& rq) {
    return tlsrpt::http::response::text(rq.body.empty() ? 400 : 200, "stored");
  });
  s.start();
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::cout << "port " << s.bound().at(0).port << std::endl;
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

// Reads one response; returns its status, or 0 when the connection failed.
int read_response(int fd, std::string& buf) {
  for (;;) {
    const auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t length = 0;
      const auto cl = buf.find("Content-Length: ");
      if (cl != std::string::npos && cl < end) length = std::stoul(buf.substr(cl + 16));
      if (buf.size() >= end + 4 + length) {
        const int status = std::atoi(buf.c_str() + 9);
        buf.erase(0, end + 4 + length);
        return status;
      }
    }
    char tmp[8192];
    const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int load(int port, std::size_t n, std::size_t conns) {
  std::vector<std::string> requests(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string body = report(i);
    requests[i] =
        "POST /tlsrpt HTTP/1.1\r\nHost: bench\r\nContent-Type: application/tlsrpt+json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  std::mutex mutex;
  std::map<int, std::size_t> statuses;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> reconnects{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < conns; ++k) {
    threads.emplace_back([&] {
      std::map<int, std::size_t> mine;
      int fd = connect_to(port);
      std::string buf;
      for (std::size_t i = next++; i < n; i = next++) {
        int status = 0;
        for (int attempt = 0; attempt < 3 && status == 0; ++attempt) {
          if (fd < 0) {
            fd = connect_to(port);
            ++reconnects;
            buf.clear();
          }
          if (fd >= 0 && ::send(fd, requests[i].data(), requests[i].size(), MSG_NOSIGNAL) ==
                             static_cast<ssize_t>(requests[i].size())) {
            status = read_response(fd, buf);
          }
          if (status == 0 && fd >= 0) {
            ::close(fd);
            fd = -1;
          }
        }
        ++mine[status];
      }
      if (fd >= 0) ::close(fd);
      const std::lock_guard lock(mutex);
      for (const auto& [s, c] : mine) statuses[s] += c;
    });
  }
  for (auto& t : threads) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string st;
  for (const auto& [s, c] : statuses) {
    st +=
        (st.empty() ? "" : ",") + std::string("\"") + std::to_string(s) + "\":" + std::to_string(c);
  }
  std::printf(
      "{\"n\":%zu,\"connections\":%zu,\"seconds\":%.3f,\"per_second\":%.0f,"
      "\"reconnects\":%zu,\"statuses\":{%s}}\n",
      n, conns, secs, static_cast<double>(n) / secs, reconnects.load(), st.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "serve-floor") return serve_floor();
  if (cmd == "load" && argc == 5) {
    return load(std::atoi(argv[2]), std::strtoul(argv[3], nullptr, 10),
                std::strtoul(argv[4], nullptr, 10));
  }
  std::cerr << "usage: tlsrpt-bench-http serve-floor | load PORT N CONNECTIONS\n";
  return 64;
}
