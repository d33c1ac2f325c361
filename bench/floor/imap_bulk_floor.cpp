// SPDX-License-Identifier: Apache-2.0
// The bulk IMAP floor (issue 17): the cheapest way to download every message of a folder in
// one command. libcurl connects and logs in (CURLOPT_CONNECT_ONLY), then one
// `UID FETCH 1:* (BODY.PEEK[])` goes over curl_easy_send and its answer is read with
// curl_easy_recv, literals counted and thrown away. No project code, no parsing beyond the
// framing: what the collector's batch fetch cannot beat.
//
//   tlsrpt-bench-imap-bulk-floor --url imap://127.0.0.1:PORT --user U [--folder INBOX]
//                                [--password-env VAR]
#include <curl/curl.h>
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

struct curl_deleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using curl_ptr = std::unique_ptr<CURL, curl_deleter>;

class channel {
 public:
  channel(const std::string& url, const std::string& user, const std::string& password)
      : h_(curl_easy_init()) {
    if (!h_) throw std::runtime_error("imap-bulk-floor: cannot create a curl handle");
    curl_easy_setopt(h_.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h_.get(), CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(h_.get(), CURLOPT_PASSWORD, password.c_str());
    curl_easy_setopt(h_.get(), CURLOPT_CONNECT_ONLY, 1L);
    const CURLcode rc = curl_easy_perform(h_.get());
    if (rc != CURLE_OK)
      throw std::runtime_error(std::string("imap-bulk-floor: cannot log in: ") +
                               curl_easy_strerror(rc));
    curl_easy_getinfo(h_.get(), CURLINFO_ACTIVESOCKET, &fd_);
  }

  void send(const std::string& line) {
    std::size_t off = 0;
    while (off < line.size()) {
      std::size_t n = 0;
      const CURLcode rc = curl_easy_send(h_.get(), line.data() + off, line.size() - off, &n);
      if (rc == CURLE_AGAIN) {
        wait(POLLOUT);
        continue;
      }
      if (rc != CURLE_OK) throw std::runtime_error("imap-bulk-floor: send failed");
      off += n;
    }
  }

  // Reads until the line starting with `tag `; returns the octets of all literals.
  std::size_t until_tagged(const std::string& tag, std::size_t& literals) {
    std::size_t literal_bytes = 0;
    literals = 0;
    for (;;) {
      const auto lf = buf_.find('\n', pos_);
      if (lf == std::string::npos) {
        more();
        continue;
      }
      const std::string_view line(buf_.data() + pos_, lf + 1 - pos_);
      pos_ = lf + 1;
      if (line.starts_with(tag + " ")) {
        if (line.substr(tag.size() + 1, 2) != "OK")
          throw std::runtime_error("imap-bulk-floor: " + std::string(line));
        return literal_bytes;
      }
      auto end = line.size() - 1;
      if (end > 0 && line[end - 1] == '\r') --end;
      if (end > 0 && line[end - 1] == '}') {
        const auto open = line.rfind('{', end);
        std::size_t size = std::stoull(std::string(line.substr(open + 1, end - 1 - open - 1)));
        literal_bytes += size;
        ++literals;
        while (size > 0) {  // skip the literal
          if (pos_ == buf_.size()) more();
          const auto take = std::min(size, buf_.size() - pos_);
          pos_ += take;
          size -= take;
        }
      }
    }
  }

 private:
  void wait(short events) {
    pollfd p{fd_, events, 0};
    if (::poll(&p, 1, 600000) <= 0) throw std::runtime_error("imap-bulk-floor: stalled");
  }
  void more() {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    char chunk[256 * 1024];
    for (;;) {
      std::size_t n = 0;
      const CURLcode rc = curl_easy_recv(h_.get(), chunk, sizeof chunk, &n);
      if (rc == CURLE_AGAIN) {
        wait(POLLIN);
        continue;
      }
      if (rc != CURLE_OK || n == 0) throw std::runtime_error("imap-bulk-floor: recv failed");
      buf_.append(chunk, n);
      return;
    }
  }

  curl_ptr h_;
  curl_socket_t fd_ = CURL_SOCKET_BAD;
  std::string buf_;
  std::size_t pos_ = 0;
};

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) try {
  std::string url, user, folder = "INBOX", password_env = "TLSRPT_TEST_IMAP_PASSWORD";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url")
      url = value();
    else if (a == "--user")
      user = value();
    else if (a == "--folder")
      folder = value();
    else if (a == "--password-env")
      password_env = value();
    else
      throw std::runtime_error("unknown argument " + a);
  }
  const char* password = std::getenv(password_env.c_str());
  if (url.empty() || user.empty() || password == nullptr)
    throw std::runtime_error("need --url, --user and the password in $" + password_env);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 0;
  {
    channel c(url, user, password);
    std::size_t n = 0;
    c.send("s SELECT \"" + folder + "\"\r\n");
    c.until_tagged("s", n);
    const auto t0 = std::chrono::steady_clock::now();
    c.send("f UID FETCH 1:* (BODY.PEEK[])\r\n");
    const std::size_t bytes = c.until_tagged("f", n);
    const double s = since(t0);
    c.send("l LOGOUT\r\n");
    std::printf(
        "{\"bench\":\"imap_bulk_floor\",\"messages\":%zu,\"bytes\":%zu,\"seconds\":%.6f,"
        "\"messages_per_s\":%.1f,\"mb_per_s\":%.2f}\n",
        n, bytes, s, s > 0 ? static_cast<double>(n) / s : 0.0,
        s > 0 ? static_cast<double>(bytes) / 1e6 / s : 0.0);
    if (n == 0) rc = 1;
  }
  curl_global_cleanup();
  return rc;
} catch (const std::exception& e) {
  std::cerr << e.what() << "\n";
  return 1;
}
