// SPDX-License-Identifier: Apache-2.0
// A tiny IMAP server on a loopback socket, for what the real Dovecot of the harness cannot
// show: the exact AUTHENTICATE line of XOAUTH2 (Dovecot here has no OAuth2 passdb), a server
// without MOVE and UIDPLUS, a server that accepts and then never greets.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tlsrpt::test {

class fake_imap_server {
 public:
  // Gets each client line without CRLF, returns what to send back (CRLF-terminated lines).
  using responder = std::function<std::string(const std::string& line)>;

  // An empty greeting: the server accepts connections and never says anything.
  fake_imap_server(std::string greeting, responder respond);
  ~fake_imap_server();
  fake_imap_server(const fake_imap_server&) = delete;
  fake_imap_server& operator=(const fake_imap_server&) = delete;

  // In a reply, `stall` stops the server there: what comes before it is sent, then the
  // connection is held open in silence.
  static constexpr const char* stall = "\x01STALL\x01";
  // Replies go out in pieces of `bytes` octets with `pause` between them (0: whole).
  void chunked(std::size_t bytes, std::chrono::milliseconds pause = {}) {
    chunk_bytes_ = bytes;
    chunk_pause_ = pause;
  }

  int port() const { return port_; }
  std::string url() const { return "imap://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::vector<std::string> received() const;

  // A responder for a server with these capabilities: CAPABILITY, LOGIN, AUTHENTICATE (with
  // SASL-IR), SELECT of any folder (one message, UIDVALIDITY 7), LOGOUT; OK to the rest.
  static responder standard(std::string capabilities);

 private:
  void serve();
  void talk(int fd);

  std::string greeting_;
  responder respond_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> chunk_bytes_{0};
  std::chrono::milliseconds chunk_pause_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> received_;
  std::thread thread_;
};

}  // namespace tlsrpt::test
