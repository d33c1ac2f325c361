// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/imap/oauth2.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace tlsrpt::imap {

namespace detail {

namespace {

// A strict reader of the one JSON object a token endpoint answers (RFC 8259). The token
// reply is a flat object of strings and numbers; anything nested is skipped, depth-bounded.
// RapidJSON belongs to the report module, and a token reply needs a few dozen lines.
class json_reader {
 public:
  explicit json_reader(std::string_view s) : s_(s) {}

  token_reply read() {
    token_reply r;
    ws();
    expect('{');
    ws();
    if (peek() == '}') {
      ++pos_;
    } else {
      for (;;) {
        ws();
        const std::string key = string();
        ws();
        expect(':');
        ws();
        member(key, r);
        ws();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        break;
      }
    }
    ws();
    if (pos_ != s_.size()) fail("text after the JSON object");
    return r;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::invalid_argument("offset " + std::to_string(pos_) + ": " + why);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  void ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  void member(const std::string& key, token_reply& r) {
    std::string* target = nullptr;
    if (key == "access_token") target = &r.access_token;
    if (key == "token_type") target = &r.token_type;
    if (key == "refresh_token") target = &r.refresh_token;
    if (key == "error") target = &r.error;
    if (key == "error_description") target = &r.error_description;
    if (key == "expires_in") {
      if (peek() == '"') {
        const std::string v = string();  // Azure AD v1.0: "expires_in": "3599"
        r.expires_in = integer(v);
      } else {
        r.expires_in = integer(number());
      }
      return;
    }
    if (target != nullptr && peek() == '"') {
      *target = string();
      return;
    }
    skip(0);
  }

  std::int64_t integer(std::string_view v) const {
    // A fraction is allowed and dropped ("3599.0"); anything else is not a lifetime.
    v = v.substr(0, v.find('.'));
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 0)
      fail("expires_in is not a number of seconds");
    return n;
  }

  std::string_view number() {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    while (pos_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[pos_])) != 0 || s_[pos_] == '.' ||
            s_[pos_] == 'e' || s_[pos_] == 'E' || s_[pos_] == '+' || s_[pos_] == '-'))
      ++pos_;
    if (pos_ == start) fail("expected a value");
    return s_.substr(start, pos_ - start);
  }

  void skip(int depth) {
    if (depth > 32) fail("nested too deeply");
    const char c = peek();
    if (c == '"') {
      (void)string();
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      ws();
      if (peek() == close) {
        ++pos_;
        return;
      }
      for (;;) {
        ws();
        if (c == '{') {
          (void)string();
          ws();
          expect(':');
          ws();
        }
        skip(depth + 1);
        ws();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(close);
        return;
      }
    } else if (s_.substr(pos_, 4) == "true" || s_.substr(pos_, 4) == "null") {
      pos_ += 4;
    } else if (s_.substr(pos_, 5) == "false") {
      pos_ += 5;
    } else {
      (void)number();
    }
  }

  unsigned hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= static_cast<unsigned>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<unsigned>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<unsigned>(h - 'A' + 10);
      } else {
        fail("bad \\u escape");
      }
    }
    return v;
  }

  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated string");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            fail("unpaired surrogate");
          }
          utf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

token_reply parse_token_reply(std::string_view json) { return json_reader(json).read(); }

std::string form_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string r;
  r.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      r += c;
    } else if (c == ' ') {
      r += '+';
    } else {
      r += '%';
      r += hex[u >> 4];
      r += hex[u & 0xf];
    }
  }
  return r;
}

std::chrono::steady_clock::time_point renew_at(std::chrono::steady_clock::time_point got,
                                               std::chrono::seconds lifetime) {
  const std::chrono::seconds margin =
      std::min<std::chrono::seconds>(std::chrono::minutes(5), lifetime / 2);
  return got + lifetime - margin;
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (const char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());  // 0600 by POSIX.1-2008
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmpl);
  struct unlink_guard {
    std::string name;
    bool armed = true;
    ~unlink_guard() {
      if (armed) ::unlink(name.c_str());
    }
  } guard{tmpl};
  const auto fail = [&](const std::string& what) {
    const int e = errno;
    ::close(fd);
    throw std::system_error(e, std::generic_category(), what);
  };
  if (::fchmod(fd, 0600) != 0) fail("cannot chmod " + tmpl);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write " + tmpl);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("cannot fsync " + tmpl);
  if (::close(fd) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot close " + tmpl);
  if (::rename(tmpl.c_str(), path.c_str()) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot rename " + tmpl);
  guard.armed = false;
  // The rename itself is durable once the directory is synced.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace detail

namespace {

using namespace std::string_literals;

struct easy_deleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

// A token reply is a few KiB; anything much larger is not one.
constexpr std::size_t max_reply_bytes = 64 * 1024;

bool network_transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// RFC 6749 §5.2: the provider refuses the client or the grant. Only the configuration (or
// the app registration at the provider) can change that.
bool configuration_refusal(std::string_view code) {
  return code == "invalid_client" || code == "invalid_grant" || code == "unauthorized_client" ||
         code == "unsupported_grant_type" || code == "invalid_scope" || code == "invalid_request";
}

std::string read_refresh_token(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the refresh token file " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.empty()) throw std::runtime_error("the refresh token file " + p.string() + " is empty");
  return s;
}

}  // namespace

struct token_source::impl {
  oauth2_options opt;
  std::unique_ptr<CURL, easy_deleter> h;
  std::array<char, CURL_ERROR_SIZE> errbuf{};
  std::string body;
  bool body_too_large = false;
  mutable std::mutex mu;
  std::string token;
  std::chrono::steady_clock::time_point renew{};
  std::uint64_t renewals = 0;
  bool fresh = false;

  explicit impl(oauth2_options o) : opt(std::move(o)) {}

  static std::size_t on_write(char* data, std::size_t size, std::size_t n,
                              void* self_ptr) noexcept {
    auto* self = static_cast<impl*>(self_ptr);
    const std::size_t len = size * n;
    if (self->body.size() + len > max_reply_bytes) {
      self->body_too_large = true;
      return 0;  // CURLE_WRITE_ERROR
    }
    try {
      self->body.append(data, len);
    } catch (...) {
      return 0;
    }
    return len;
  }

  std::string prefix() const {
    return "oauth2: cannot get a token for client " + opt.client_id + " from " + opt.token_url +
           ": ";
  }

  template <class T>
  void set(CURLoption option, T value) {
    if (const CURLcode rc = curl_easy_setopt(h.get(), option, value); rc != CURLE_OK)
      throw oauth2_error(prefix() + "cannot configure libcurl: " + curl_easy_strerror(rc) + " (" +
                             std::to_string(static_cast<int>(rc)) + ")",
                         static_cast<int>(rc), false, false);
  }

  // One POST to the token endpoint: the form holds the grant, the client and its secret.
  std::string request() {
    const bool refresh = !opt.refresh_token_file.empty();
    std::string refresh_token;
    if (refresh) {
      try {
        refresh_token = read_refresh_token(opt.refresh_token_file);
      } catch (const std::exception& e) {
        throw oauth2_error(prefix() + e.what(), 0, false, true);
      }
    }
    std::string form =
        refresh ? "grant_type=refresh_token&refresh_token=" + detail::form_encode(refresh_token)
                : "grant_type=client_credentials"s;
    form += "&client_id=" + detail::form_encode(opt.client_id);
    // RFC 6749 §2.3.1 allows the secret in the body; Microsoft and Google both take it there.
    if (!opt.client_secret.empty())
      form += "&client_secret=" + detail::form_encode(opt.client_secret);
    if (!opt.scope.empty()) form += "&scope=" + detail::form_encode(opt.scope);

    if (!h) {
      h.reset(curl_easy_init());
      if (!h) throw oauth2_error(prefix() + "cannot create a curl handle", 0, false, false);
    }
    curl_easy_reset(h.get());
    body.clear();
    body_too_large = false;
    errbuf[0] = '\0';
    std::unique_ptr<curl_slist, slist_deleter> headers(
        curl_slist_append(nullptr, "Accept: application/json"));
    set(CURLOPT_ERRORBUFFER, errbuf.data());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_URL, opt.token_url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "https,http");
    set(CURLOPT_FOLLOWLOCATION, 0L);  // a redirect would carry the secret elsewhere
    set(CURLOPT_POSTFIELDS, form.c_str());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(form.size()));
    set(CURLOPT_HTTPHEADER, headers.get());
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(std::chrono::milliseconds(opt.timeout).count()));
    set(CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(std::chrono::milliseconds(opt.timeout).count()));
    if (!opt.ca_file.empty()) set(CURLOPT_CAINFO, opt.ca_file.c_str());
    set(CURLOPT_WRITEFUNCTION, &impl::on_write);
    set(CURLOPT_WRITEDATA, this);
    set(CURLOPT_USERAGENT, "tlsrpt-collector");
    const CURLcode rc = curl_easy_perform(h.get());
    // The form holds the secret: do not leave it in memory longer than needed.
    std::fill(form.begin(), form.end(), '\0');
    if (rc != CURLE_OK) {
      if (body_too_large)
        throw oauth2_error(
            prefix() + "the answer is larger than " + std::to_string(max_reply_bytes) + " octets",
            static_cast<int>(rc), false, false);
      const std::string cause = errbuf[0] != '\0' ? errbuf.data() : curl_easy_strerror(rc);
      throw oauth2_error(prefix() + cause + " (" + std::to_string(static_cast<int>(rc)) + ")",
                         static_cast<int>(rc), network_transient(rc), false);
    }
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    detail::token_reply reply;
    std::string parse_error;
    try {
      reply = detail::parse_token_reply(body);
    } catch (const std::invalid_argument& e) {
      parse_error = e.what();
    }
    const std::string http = "HTTP " + std::to_string(status);
    if (status == 429 || status >= 500)
      throw oauth2_error(
          prefix() + http + (reply.error.empty() ? "" : ": " + detail::printable(reply.error)),
          static_cast<int>(status), true, false);
    if (status != 200) {
      if (!parse_error.empty() || reply.error.empty())
        throw oauth2_error(prefix() + http + " without an OAuth2 error", static_cast<int>(status),
                           false, false);
      std::string what = prefix() + detail::printable(reply.error, 64);
      if (!reply.error_description.empty())
        what += ": " + detail::printable(reply.error_description);
      throw oauth2_error(what, static_cast<int>(status), false, configuration_refusal(reply.error));
    }
    if (!parse_error.empty())
      throw oauth2_error(prefix() + "the answer is not a JSON object: " + parse_error,
                         static_cast<int>(status), false, false);
    if (reply.access_token.empty())
      throw oauth2_error(prefix() + "the answer holds no access_token", static_cast<int>(status),
                         false, false);
    // RFC 6749 §5.1: token_type is case-insensitive; XOAUTH2 carries only bearer tokens.
    std::string type = reply.token_type;
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!type.empty() && type != "bearer")
      throw oauth2_error(
          prefix() + "the token type is " + detail::printable(type, 32) + ", not Bearer",
          static_cast<int>(status), false, false);
    // Google and Microsoft rotate refresh tokens at will (RFC 6749 §6: the client must then
    // discard the old one): keep the new one, or the next renewal fails with invalid_grant.
    if (refresh && !reply.refresh_token.empty() && reply.refresh_token != refresh_token) {
      try {
        detail::write_file_atomically(opt.refresh_token_file, reply.refresh_token + "\n");
      } catch (const std::system_error& e) {
        throw oauth2_error(prefix() + "cannot save the rotated refresh token: " + e.what(), 0,
                           false, true);
      }
    }
    // Without expires_in (RFC 6749 §5.1 only recommends it) assume the usual hour.
    const auto lifetime = std::chrono::seconds(reply.expires_in.value_or(3600));
    renew = detail::renew_at(std::chrono::steady_clock::now(), lifetime);
    ++renewals;
    return reply.access_token;
  }
};

token_source::token_source(oauth2_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}
token_source::~token_source() = default;

std::string token_source::token() {
  auto& m = *impl_;
  const std::lock_guard lock(m.mu);
  m.fresh = false;
  if (!m.token.empty() && std::chrono::steady_clock::now() < m.renew) return m.token;
  m.token.clear();
  m.token = m.request();
  m.fresh = true;
  return m.token;
}

void token_source::invalidate() noexcept {
  const std::lock_guard lock(impl_->mu);
  impl_->token.clear();
}

std::uint64_t token_source::renewals() const noexcept {
  const std::lock_guard lock(impl_->mu);
  return impl_->renewals;
}

bool token_source::fresh() const noexcept {
  const std::lock_guard lock(impl_->mu);
  return impl_->fresh;
}

std::unique_ptr<curl_mailbox> connect_with_token(connection_options options, token_source& tokens) {
  for (int attempt = 0;; ++attempt) {
    options.oauth2_token = tokens.token();
    const bool fresh = tokens.fresh();
    auto mb = std::make_unique<curl_mailbox>(options);
    try {
      (void)mb->capabilities();  // the first command logs in
      return mb;
    } catch (const error& e) {
      // A token from memory that the server refuses was revoked or expired early: one more
      // try with a new one. A new token refused is the server's answer.
      if (e.code() != static_cast<int>(CURLE_LOGIN_DENIED) || fresh || attempt > 0) throw;
      tokens.invalidate();
    }
  }
}

}  // namespace tlsrpt::imap
