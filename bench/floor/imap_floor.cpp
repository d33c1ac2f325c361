// SPDX-License-Identifier: Apache-2.0
// The IMAP floor (issue 9): the cheapest way to download every message of a folder over one
// libcurl connection and throw it away. One `UID STORE 1:* +FLAGS.SILENT (\Seen)` first (so
// the server does not write a \Seen flag per fetch, issue 6), `UID SEARCH` in UID ranges, then one
// `UID FETCH n BODY[]` per message through libcurl's `<folder>/;UID=n` URL form on the same
// handle (libcurl keeps the folder selected between transfers).
//
//   tlsrpt-bench-imap-floor --url imap://127.0.0.1:PORT --user U [--folder INBOX]
//                           [--password-env VAR] [--no-store] [--select-only]
// The password is read from the environment (default TLSRPT_TEST_IMAP_PASSWORD).
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct curl_deleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using curl_ptr = std::unique_ptr<CURL, curl_deleter>;

struct sink {
  std::string text;       // kept for command responses
  std::size_t bytes = 0;  // counted for message bodies
  bool keep = true;
};

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<sink*>(user);
  s->bytes += size * n;
  if (s->keep) s->text.append(data, size * n);
  return size * n;
}

class session {
 public:
  session(std::string base, const std::string& user, const std::string& password)
      : base_(std::move(base)), h_(curl_easy_init()) {
    if (!h_) throw std::runtime_error("imap-floor: cannot create a curl handle");
    curl_easy_setopt(h_.get(), CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(h_.get(), CURLOPT_PASSWORD, password.c_str());
    curl_easy_setopt(h_.get(), CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h_.get(), CURLOPT_WRITEDATA, &sink_);
    curl_easy_setopt(h_.get(), CURLOPT_ERRORBUFFER, err_);
    curl_easy_setopt(h_.get(), CURLOPT_TIMEOUT, 600L);
  }

  // A command on `folder` (libcurl SELECTs it first when it is not the selected one).
  std::string command(const std::string& folder, const std::string& cmd) {
    sink_ = sink{};
    curl_easy_setopt(h_.get(), CURLOPT_URL, (base_ + "/" + folder).c_str());
    curl_easy_setopt(h_.get(), CURLOPT_CUSTOMREQUEST, cmd.c_str());
    perform(cmd);
    curl_easy_setopt(h_.get(), CURLOPT_CUSTOMREQUEST, nullptr);
    return sink_.text;
  }

  std::size_t fetch(const std::string& folder, unsigned long uid) {
    sink_ = sink{};
    sink_.keep = false;
    curl_easy_setopt(h_.get(), CURLOPT_URL,
                     (base_ + "/" + folder + "/;UID=" + std::to_string(uid)).c_str());
    perform("UID FETCH " + std::to_string(uid));
    return sink_.bytes;
  }

 private:
  void perform(const std::string& what) {
    err_[0] = '\0';
    const CURLcode rc = curl_easy_perform(h_.get());
    if (rc != CURLE_OK)
      throw std::runtime_error("imap-floor: cannot " + what + ": " +
                               (err_[0] != '\0' ? std::string(err_) : curl_easy_strerror(rc)) +
                               " (" + std::to_string(static_cast<int>(rc)) + ")");
  }

  std::string base_;
  curl_ptr h_;
  sink sink_;
  char err_[CURL_ERROR_SIZE]{};
};

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) try {
  std::string url, user, folder = "INBOX", password_env = "TLSRPT_TEST_IMAP_PASSWORD";
  bool store = true, select_only = false;
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
    else if (a == "--no-store")
      store = false;
    else if (a == "--select-only")
      select_only = true;
    else
      throw std::runtime_error("unknown argument " + a);
  }
  const char* password = std::getenv(password_env.c_str());
  if (url.empty() || user.empty() || password == nullptr)
    throw std::runtime_error("need --url, --user and the password in $" + password_env);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 0;
  {
    session s(url, user, password);
    const auto t0 = std::chrono::steady_clock::now();
    s.command(folder, "NOOP");  // login + SELECT
    const double t_select = since(t0);
    if (select_only) {
      std::printf("{\"bench\":\"imap_select\",\"seconds\":%.6f}\n", t_select);
    } else {
      const auto t1 = std::chrono::steady_clock::now();
      if (store) s.command(folder, "UID STORE 1:* +FLAGS.SILENT (\\Seen)");
      const double t_store = since(t1);
      const auto t2 = std::chrono::steady_clock::now();
      // libcurl hands a custom command's untagged response over in pieces of at most its
      // buffer size (16 KiB) and drops what does not fit, so one `UID SEARCH ALL` over 10,000
      // messages comes back cut short. Search in UID ranges whose answer fits instead.
      const std::string status = s.command(folder, "STATUS " + folder + " (UIDNEXT)");
      const std::size_t at = status.find("UIDNEXT ");
      if (at == std::string::npos) throw std::runtime_error("imap-floor: no UIDNEXT in " + status);
      const unsigned long uidnext = std::stoul(status.substr(at + 8));
      std::vector<unsigned long> uids;
      constexpr unsigned long chunk = 1500;
      for (unsigned long lo = 1; lo < uidnext; lo += chunk) {
        const std::string found = s.command(
            folder, "UID SEARCH UID " + std::to_string(lo) + ":" + std::to_string(lo + chunk - 1));
        std::istringstream lines(found);
        std::string line;
        while (std::getline(lines, line)) {
          if (line.rfind("* SEARCH", 0) != 0) continue;
          std::istringstream words(line.substr(8));
          unsigned long uid = 0;
          while (words >> uid) uids.push_back(uid);
        }
      }
      const double t_search = since(t2);
      const auto t3 = std::chrono::steady_clock::now();
      std::size_t bytes = 0;
      for (const auto uid : uids) bytes += s.fetch(folder, uid);
      const double t_fetch = since(t3);
      const double total = t_store + t_search + t_fetch;
      const double n = static_cast<double>(uids.size());
      std::printf(
          "{\"bench\":\"imap_floor\",\"messages\":%zu,\"bytes\":%zu,\"select_seconds\":%.6f,"
          "\"store_seconds\":%.6f,\"search_seconds\":%.6f,\"fetch_seconds\":%.6f,"
          "\"seconds\":%.6f,\"messages_per_s\":%.1f,\"mb_per_s\":%.2f}\n",
          uids.size(), bytes, t_select, t_store, t_search, t_fetch, total,
          total > 0 ? n / total : 0.0, total > 0 ? static_cast<double>(bytes) / 1e6 / total : 0.0);
      if (uids.empty()) rc = 1;
    }
  }
  curl_global_cleanup();
  return rc;
} catch (const std::exception& e) {
  std::cerr << e.what() << "\n";
  return 1;
}
