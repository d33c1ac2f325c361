// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/imap/outbound.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <string_view>

namespace tlsrpt::imap {

namespace {

struct easy_deleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using easy_ptr = std::unique_ptr<CURL, easy_deleter>;
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;

// Appends to an owned list: curl_slist_append returns the head, or null (out of memory) and
// leaves the list as it was.
void append(slist_ptr& list, const std::string& item) {
  curl_slist* head = curl_slist_append(list.get(), item.c_str());
  if (head == nullptr) throw delivery_error("notify: cannot build a request: out of memory", 0);
  static_cast<void>(list.release());
  list.reset(head);
}

// One request: the handle, its error buffer and the options every delivery shares.
class request {
 public:
  request(std::string what, const delivery_limits& lim)
      : what_(std::move(what)), handle_(curl_easy_init()) {
    if (!handle_) throw delivery_error("notify: cannot " + what_ + ": curl_easy_init failed", 0);
    errbuf_[0] = '\0';
    set(CURLOPT_ERRORBUFFER, errbuf_);
    set(CURLOPT_NOSIGNAL, 1L);
    // Bounded whatever the receiver does: a dead or stalled peer costs at most these.
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(lim.connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(lim.timeout.count()));
    set(CURLOPT_PROTOCOLS_STR, "http,https,smtp,smtps");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_USERAGENT, "tlsrpt-collector");
    if (lim.ca_file) set(CURLOPT_CAINFO, lim.ca_file->c_str());
  }

  template <typename T>
  void set(CURLoption opt, T value) {
    const CURLcode rc = curl_easy_setopt(handle_.get(), opt, value);
    if (rc != CURLE_OK) fail(rc);
  }

  void perform() {
    const CURLcode rc = curl_easy_perform(handle_.get());
    if (rc != CURLE_OK) fail(rc);
  }

  long response_code() {
    long status = 0;
    curl_easy_getinfo(handle_.get(), CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

  [[noreturn]] void fail(CURLcode rc) {
    // For SMTP the error buffer holds the server's reply ("RCPT failed: 550"), the cause a
    // reader needs; the CURLcode alone says only "Failed sending data".
    std::string text = errbuf_[0] != '\0' ? errbuf_ : curl_easy_strerror(rc);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    // An SMTP refusal after DATA reads "Weird server reply": the server's code says why.
    const long code = response_code();
    if (code >= 400) text += ", the server answered " + std::to_string(code);
    throw delivery_error("notify: cannot " + what_ + ": " + text + " (" + std::to_string(rc) + ")",
                         rc, code);
  }

  const std::string& what() const noexcept { return what_; }

 private:
  std::string what_;
  easy_ptr handle_;
  char errbuf_[CURL_ERROR_SIZE];
};

// The receiver's answer is read only to show its first bytes in an error.
size_t keep_some(char* data, size_t size, size_t n, void* user) noexcept {
  auto* out = static_cast<std::string*>(user);
  const size_t len = size * n;
  if (out->size() < 200) out->append(data, std::min(len, 200 - out->size()));
  return len;
}

struct upload {
  std::string_view data;
  std::size_t at = 0;
};

size_t read_upload(char* buffer, size_t size, size_t n, void* user) noexcept {
  auto* u = static_cast<upload*>(user);
  const size_t len = std::min(size * n, u->data.size() - u->at);
  std::memcpy(buffer, u->data.data() + u->at, len);
  u->at += len;
  return len;
}

}  // namespace

std::string url_origin(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "(not a URL)";
  const auto end = url.find_first_of("/?#", scheme + 3);
  std::string o = url.substr(0, end);
  // userinfo is a secret too
  if (const auto at = o.find('@', scheme + 3); at != std::string::npos)
    o = o.substr(0, scheme + 3) + o.substr(at + 1);
  return o;
}

void http_post(const std::string& url, const std::string& body, const std::string& content_type,
               const delivery_limits& lim) {
  request r("POST to " + url_origin(url), lim);
  std::string answer;
  slist_ptr headers;
  append(headers, "Content-Type: " + content_type);
  append(headers, "Expect:");  // no 100-continue round trip for a small body
  r.set(CURLOPT_URL, url.c_str());
  r.set(CURLOPT_HTTPHEADER, headers.get());
  r.set(CURLOPT_POSTFIELDS, body.c_str());
  r.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  r.set(CURLOPT_WRITEFUNCTION, keep_some);
  r.set(CURLOPT_WRITEDATA, &answer);
  r.perform();
  const long status = r.response_code();
  if (status < 200 || status > 299) {
    // The receiver's text is shown, but as data: one line of printable ASCII.
    std::string shown;
    for (const char c : answer) {
      const auto u = static_cast<unsigned char>(c);
      shown += (u < 0x20 || u >= 0x7f) ? ' ' : c;
    }
    throw delivery_error("notify: cannot " + r.what() + ": HTTP " + std::to_string(status) +
                             (shown.empty() ? std::string() : ": " + shown),
                         0, status);
  }
}

void smtp_send(const smtp_envelope& env, const std::string& message, const delivery_limits& lim) {
  request r("send mail through " + url_origin(env.url), lim);
  r.set(CURLOPT_URL, env.url.c_str());
  // STARTTLS is required on smtp:// unless the configuration allows plaintext (a local relay);
  // smtps:// is TLS from the first byte either way.
  r.set(CURLOPT_USE_SSL, env.allow_plaintext ? static_cast<long>(CURLUSESSL_TRY)
                                             : static_cast<long>(CURLUSESSL_ALL));
  if (!env.username.empty()) {
    r.set(CURLOPT_USERNAME, env.username.c_str());
    r.set(CURLOPT_PASSWORD, env.password.c_str());
  }
  const std::string from = "<" + env.from + ">";
  r.set(CURLOPT_MAIL_FROM, from.c_str());
  slist_ptr rcpt;
  for (const auto& to : env.to) append(rcpt, "<" + to + ">");
  r.set(CURLOPT_MAIL_RCPT, rcpt.get());
  upload u{message};
  r.set(CURLOPT_READFUNCTION, read_upload);
  r.set(CURLOPT_READDATA, &u);
  r.set(CURLOPT_UPLOAD, 1L);
  r.set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  r.perform();
}

}  // namespace tlsrpt::imap
