// SPDX-License-Identifier: Apache-2.0
#include "fake_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace tlsrpt::test {

namespace {

bool wait_readable(int fd, const std::atomic<bool>& stop) {
  while (!stop) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, 50);
    if (r > 0) return true;
    if (r < 0) return false;
  }
  return false;
}

void send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

fake_imap_server::fake_imap_server(std::string greeting, responder respond)
    : greeting_(std::move(greeting)), respond_(std::move(respond)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener_ < 0) throw std::runtime_error("fake IMAP server: cannot create a socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 8) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listener_);
    throw std::runtime_error("fake IMAP server: cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

fake_imap_server::~fake_imap_server() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

std::vector<std::string> fake_imap_server::received() const {
  const std::lock_guard lock(mutex_);
  return received_;
}

void fake_imap_server::serve() {
  while (wait_readable(listener_, stop_)) {
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) continue;
    talk(fd);
    ::close(fd);
  }
}

void fake_imap_server::talk(int fd) {
  if (greeting_.empty()) {  // a hung server: hold the connection, say nothing
    while (wait_readable(fd, stop_)) {
      char buf[512];
      if (::recv(fd, buf, sizeof buf, 0) <= 0) return;
    }
    return;
  }
  send_all(fd, greeting_);
  std::string pending;
  while (wait_readable(fd, stop_)) {
    char buf[4096];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl = 0;
    while ((nl = pending.find("\r\n")) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 2);
      {
        const std::lock_guard lock(mutex_);
        received_.push_back(line);
      }
      auto reply = respond_(line);
      const auto stall_at = reply.find(stall);
      const bool stalls = stall_at != std::string::npos;
      if (stalls) reply.resize(stall_at);
      const std::size_t step = chunk_bytes_ == 0 ? reply.size() : chunk_bytes_.load();
      for (std::size_t off = 0; off < reply.size(); off += step) {
        send_all(fd, reply.substr(off, step));
        if (chunk_pause_.count() > 0) std::this_thread::sleep_for(chunk_pause_);
      }
      if (stalls) {  // hold the connection in silence until the client goes
        while (wait_readable(fd, stop_)) {
          char sink[512];
          if (::recv(fd, sink, sizeof sink, 0) <= 0) return;
        }
        return;
      }
      if (upper(line).find(" LOGOUT") != std::string::npos) return;
    }
  }
}

fake_imap_server::responder fake_imap_server::standard(std::string capabilities) {
  return [caps = std::move(capabilities)](const std::string& line) -> std::string {
    const auto sp = line.find(' ');
    const auto tag = line.substr(0, sp);
    const auto rest = sp == std::string::npos ? std::string{} : upper(line.substr(sp + 1));
    if (rest.starts_with("CAPABILITY"))
      return "* CAPABILITY " + caps + "\r\n" + tag + " OK Capability completed.\r\n";
    if (rest.starts_with("LOGIN") || rest.starts_with("AUTHENTICATE"))
      return tag + " OK Logged in\r\n";
    if (rest.starts_with("SELECT") || rest.starts_with("EXAMINE"))
      return "* FLAGS (\\Seen \\Deleted)\r\n* 1 EXISTS\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n"
             "* OK [UIDNEXT 2] Predicted next UID\r\n" +
             tag + " OK [READ-WRITE] Select completed.\r\n";
    if (rest.starts_with("LOGOUT"))
      return "* BYE Logging out\r\n" + tag + " OK Logout completed.\r\n";
    return tag + " OK Done.\r\n";
  };
}

}  // namespace tlsrpt::test
