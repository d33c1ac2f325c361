// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/imap/session.hpp"

#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <utility>

#include "tlsrpt/imap/protocol.hpp"

namespace tlsrpt::imap {

namespace {

using namespace std::string_literals;
using clock = std::chrono::steady_clock;

struct easy_deleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using easy_handle = std::unique_ptr<CURL, easy_deleter>;

struct url_deleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
using url_handle = std::unique_ptr<CURLU, url_deleter>;

struct curl_string_deleter {
  void operator()(char* p) const noexcept { curl_free(p); }
};
using curl_string = std::unique_ptr<char, curl_string_deleter>;

constexpr std::uint64_t default_literal_bytes = 64u * 1024u;
constexpr std::size_t recv_chunk = 256u * 1024u;
constexpr auto poll_slice = std::chrono::milliseconds(100);  // how often a wait looks at `stop`

std::string with_code(const std::string& cause, CURLcode rc) {
  return cause + " (" + std::to_string(static_cast<int>(rc)) + ")";
}

bool is_certificate_failure(CURLcode rc) {
  return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
         rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
         rc == CURLE_SSL_ISSUER_ERROR;
}

}  // namespace

struct session::impl {
  connection_options opt;
  easy_handle h;
  std::string base;
  std::string host_name;
  std::string scheme;
  std::string port;
  std::array<char, CURL_ERROR_SIZE> errbuf{};
  bool open = false;
  unsigned next_tag = 1;
  detail::response_reader reader;
  std::string chunk;
  std::optional<std::vector<std::string>> caps;
  std::uint32_t exists = 0;
  std::optional<clock::time_point> stop_seen;

  // What the connect phase got to (for errors that name the phase).
  std::size_t lines_in = 0;
  std::string first_line;
  std::string last_line;
  bool login_sent = false;
  std::optional<clock::time_point> connected_at;  // TCP up (libcurl's "Connected to")
  curl_socket_t fd = CURL_SOCKET_BAD;             // for the implicit-TLS probe
  bool probe_sent = false;
  bool tls_answer = false;  // the server answered the probe with a TLS record
  // A callback's exception, rethrown after libcurl returns (callbacks are noexcept).
  std::exception_ptr callback_error;

  explicit impl(connection_options o) : opt(std::move(o)) { parse_url(); }

  void parse_url() {
    url_handle u(curl_url());
    if (!u) throw error("imap: cannot parse the server URL: out of memory", 0, false);
    const auto bad = [&](const std::string& why) {
      // Not the URL itself: it may hold a password.
      return error("imap: cannot use the server URL: " + why, 0, false);
    };
    if (const CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, opt.url.c_str(), 0);
        rc != CURLUE_OK)
      throw bad(curl_url_strerror(rc));
    const auto part = [&](CURLUPart p) -> std::string {
      char* out = nullptr;
      if (curl_url_get(u.get(), p, &out, 0) != CURLUE_OK || out == nullptr) return {};
      const curl_string owned(out);
      return owned.get();
    };
    scheme = part(CURLUPART_SCHEME);
    if (scheme != "imap" && scheme != "imaps") throw bad("the scheme must be imap or imaps");
    if (!part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty())
      throw bad("credentials belong in the options, not in the URL");
    host_name = part(CURLUPART_HOST);
    port = part(CURLUPART_PORT);
    base = scheme + "://" + host_name + (port.empty() ? "" : ":" + port) + "/";
    // RFC 8314 §7.3: 993 is implicit TLS. imap:// there waits for a greeting that never comes
    // (the server waits for our TLS hello): say so at once instead of after connect_timeout.
    if (scheme == "imap" && port == "993")
      throw error("imap: cannot connect to " + base +
                      ": port 993 speaks implicit TLS; use imaps://" + host_name +
                      ":993/ (or imap:// on port 143 for STARTTLS)",
                  0, false);
  }

  template <class T>
  void set(CURLoption option, T value) {
    if (const CURLcode rc = curl_easy_setopt(h.get(), option, value); rc != CURLE_OK)
      throw error("imap: cannot configure libcurl: "s + with_code(curl_easy_strerror(rc), rc),
                  static_cast<int>(rc), false);
  }

  void configure() {
    set(CURLOPT_ERRORBUFFER, errbuf.data());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_PROTOCOLS_STR, "imap,imaps");
    set(CURLOPT_URL, base.c_str());
    set(CURLOPT_CONNECT_ONLY, 1L);
    set(CURLOPT_USERNAME, opt.username.c_str());
    if (!opt.oauth2_token.empty()) {
      set(CURLOPT_XOAUTH2_BEARER, opt.oauth2_token.c_str());
      // Only XOAUTH2: with a token there is no password to fall back to, and a server that
      // also offers OAUTHBEARER (Gmail) would otherwise get that instead.
      set(CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
    } else {
      set(CURLOPT_PASSWORD, opt.password.c_str());
    }
    // imaps:// is TLS from the first byte; for imap://, CURLUSESSL_ALL makes STARTTLS
    // mandatory, so a stripped STARTTLS capability fails instead of falling back.
    set(CURLOPT_USE_SSL, opt.allow_plaintext ? static_cast<long>(CURLUSESSL_NONE)
                                             : static_cast<long>(CURLUSESSL_ALL));
    if (!opt.ca_file.empty()) set(CURLOPT_CAINFO, opt.ca_file.c_str());
    set(CURLOPT_SSL_VERIFYPEER, opt.verify ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, opt.verify ? 2L : 0L);
    set(CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(std::chrono::milliseconds(opt.connect_timeout).count()));
    set(CURLOPT_TCP_NODELAY, 1L);
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_HEADERFUNCTION, &impl::on_header);
    set(CURLOPT_HEADERDATA, this);
    set(CURLOPT_SOCKOPTFUNCTION, &impl::on_socket);
    set(CURLOPT_SOCKOPTDATA, this);
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &impl::on_progress);
    set(CURLOPT_XFERINFODATA, this);
    // Always on during the connect, for the phase of a failure; libcurl's own text never
    // reaches the trace unfiltered (it shows the LOGIN line).
    set(CURLOPT_DEBUGFUNCTION, &impl::on_debug);
    set(CURLOPT_DEBUGDATA, this);
    set(CURLOPT_VERBOSE, 1L);
  }

  // The C callbacks: noexcept, an exception is stored and the call made to fail.
  static size_t on_header(char* data, size_t size, size_t n, void* self_ptr) noexcept {
    auto* self = static_cast<impl*>(self_ptr);
    try {
      std::string_view line(data, size * n);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
      if (self->lines_in++ == 0) self->first_line = std::string(line.substr(0, 200));
      self->last_line = std::string(line.substr(0, 200));
      return size * n;
    } catch (...) {
      self->callback_error = std::current_exception();
      return 0;
    }
  }

  static int on_socket(void* self_ptr, curl_socket_t s, curlsocktype) noexcept {
    static_cast<impl*>(self_ptr)->fd = s;
    return CURL_SOCKOPT_OK;
  }

  static int on_progress(void* self_ptr, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
    auto* self = static_cast<impl*>(self_ptr);
    if (self->opt.stop != nullptr && self->opt.stop->load()) return 1;
    self->probe_implicit_tls();
    return self->tls_answer ? 1 : 0;
  }

  // Issue 14: imap:// on an implicit-TLS port hangs, each side waiting for the other to speak
  // first. After two quiet seconds without a greeting we send empty lines (which an IMAP
  // server that greets late ignores); a TLS server answers them with an alert record
  // (0x15 0x03 ...), which we look at without consuming it.
  void probe_implicit_tls() noexcept {
    if (scheme != "imap" || fd == CURL_SOCKET_BAD || !connected_at || lines_in != 0) return;
    if (!probe_sent) {
      if (clock::now() - *connected_at < std::chrono::seconds(2)) return;
      probe_sent = true;
      (void)::send(fd, "\r\n\r\n\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
      return;
    }
    unsigned char head[3] = {};
    const auto n = ::recv(fd, head, sizeof head, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 2 && (head[0] == 0x15 || head[0] == 0x16) && head[1] == 0x03) tls_answer = true;
  }

  static int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* self_ptr) noexcept {
    auto* self = static_cast<impl*>(self_ptr);
    try {
      std::string_view text(data, size);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
      if (type == CURLINFO_HEADER_OUT) {
        const auto red = detail::redact_command(text);
        if (red.find(" LOGIN ") != std::string::npos ||
            red.find(" AUTHENTICATE ") != std::string::npos)
          self->login_sent = true;
        if (self->opt.verbose) self->emit("> " + red);
      } else if (self->opt.verbose) {
        if (type == CURLINFO_TEXT) self->emit("* " + std::string(text));
        if (type == CURLINFO_HEADER_IN) self->emit("< " + std::string(text));
      }
      if (type == CURLINFO_TEXT && text.starts_with("Connected to ") && !self->connected_at)
        self->connected_at = clock::now();
    } catch (...) {
      // A trace line lost; nothing to fail.
    }
    return 0;
  }

  void emit(const std::string& line) const {
    if (opt.trace) {
      opt.trace(line);
    } else {
      std::fprintf(stderr, "imap: %s\n", line.c_str());
    }
  }

  bool stopping() const { return opt.stop != nullptr && opt.stop->load(); }

  void connect() {
    h.reset(curl_easy_init());
    if (!h) throw error("imap: cannot create a curl handle", 0, false);
    configure();
    lines_in = 0;
    first_line.clear();
    last_line.clear();
    login_sent = false;
    connected_at.reset();
    fd = CURL_SOCKET_BAD;
    probe_sent = false;
    tls_answer = false;
    errbuf[0] = '\0';
    callback_error = nullptr;
    reader = detail::response_reader{};
    caps.reset();
    exists = 0;
    stop_seen.reset();
    const CURLcode rc = curl_easy_perform(h.get());
    if (callback_error) std::rethrow_exception(callback_error);
    if (rc != CURLE_OK) {
      const error e = connect_failure(rc);
      h.reset();
      throw e;
    }
    // Nothing of libcurl's trace after the login.
    curl_easy_setopt(h.get(), CURLOPT_VERBOSE, 0L);
    open = true;
  }

  long info_long(CURLINFO what) const {
    long v = 0;
    curl_easy_getinfo(h.get(), what, &v);
    return v;
  }
  curl_off_t info_time(CURLINFO what) const {
    curl_off_t v = 0;
    curl_easy_getinfo(h.get(), what, &v);
    return v;
  }

  // Issue 14: the error says which phase failed, with a hint for the classic mistakes.
  error connect_failure(CURLcode rc) const {
    const std::string buf(errbuf.data());
    const std::string cause = with_code(buf.empty() ? curl_easy_strerror(rc) : buf, rc);
    const bool tcp_up = connected_at.has_value() || info_time(CURLINFO_CONNECT_TIME_T) > 0;
    const bool tls_up = info_time(CURLINFO_APPCONNECT_TIME_T) > 0;
    const bool transient_rc = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
                              rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
                              rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR;
    const auto make = [&](const std::string& what, const std::string& hint, bool transient) {
      return error("imap: cannot " + what + ": " + cause + hint, static_cast<int>(rc), transient);
    };
    if (tls_answer || (probe_sent && lines_in == 0 && rc != CURLE_OPERATION_TIMEDOUT))
      return error("imap: cannot read the greeting of " + base +
                       ": the server answered in TLS: this port speaks implicit TLS; use imaps://" +
                       host_name + (port.empty() ? "" : ":" + port) + "/",
                   static_cast<int>(rc), false);
    if (rc == CURLE_ABORTED_BY_CALLBACK)
      return error("imap: cannot connect to " + base + ": stopped", static_cast<int>(rc), true);
    if (rc == CURLE_COULDNT_RESOLVE_HOST) return make("resolve " + host_name, "", true);
    if (!tcp_up) return make("connect to " + base, "", transient_rc);
    if (is_certificate_failure(rc))
      return error("imap: cannot complete the TLS handshake with " + base +
                       ": the TLS certificate of " + host_name + " is not trusted: " + cause,
                   static_cast<int>(rc), false);
    if (rc == CURLE_USE_SSL_FAILED)
      return make("start TLS with " + base,
                  ": the server does not offer STARTTLS, and plain IMAP is not allowed "
                  "(use imaps:// or allow plaintext)",
                  false);
    if (scheme == "imaps" && !tls_up) {
      // OpenSSL's "wrong version number": the server answered our TLS hello in plain text,
      // which is what a STARTTLS port (143) does.
      const bool plain_answer = buf.find("wrong version number") != std::string::npos ||
                                buf.find("packet length too long") != std::string::npos;
      return make("complete the TLS handshake with " + base,
                  plain_answer ? "; the server answered in plain text: this port speaks "
                                 "STARTTLS, use imap://" +
                                     host_name + ":143/ (or imaps:// on port 993)"
                               : "",
                  rc != CURLE_SSL_CONNECT_ERROR || !plain_answer ? transient_rc : false);
    }
    if (lines_in == 0) {
      const bool timed_out = rc == CURLE_OPERATION_TIMEDOUT;
      return make("read the greeting of " + base,
                  timed_out && scheme == "imap"
                      ? "; the server said nothing: if this port speaks implicit TLS (993), "
                        "use imaps://"
                      : "",
                  transient_rc);
    }
    if (first_line.rfind("* OK", 0) != 0 && first_line.rfind("* PREAUTH", 0) != 0 && !login_sent) {
      // A TLS record (0x15/0x16 0x03 ...) where a greeting belongs: implicit TLS on imap://.
      const bool tls_record =
          !first_line.empty() && (first_line[0] == '\x15' || first_line[0] == '\x16');
      return make("read the greeting of " + base,
                  tls_record ? "; the server speaks TLS: use imaps://"
                             : "; it sent \"" + detail::redact_command("* " + first_line) + "\"",
                  !tls_record && transient_rc);
    }
    if (rc == CURLE_LOGIN_DENIED || login_sent) {
      const std::string said = last_line.empty() ? std::string{} : "; server said: " + last_line;
      // RFC 5530 UNAVAILABLE/INUSE, or a service's throttling answer (Gmail's "Too many
      // simultaneous connections"): the server says itself that the failure is temporary.
      const bool server_transient = detail::refusal_is_temporary(last_line);
      std::string hint = detail::refusal_hint(last_line);
      // Microsoft 365 (Exchange Online) turned basic authentication off: a password login
      // fails with a bare "NO LOGIN failed." / "NO AUTHENTICATE failed.", which says nothing
      // of why. Its greeting names it: "* OK The Microsoft Exchange IMAP4 service is ready."
      if (hint.empty() && opt.oauth2_token.empty() &&
          first_line.find("Microsoft Exchange") != std::string::npos)
        hint = "; Microsoft 365 accepts only OAuth2 over IMAP: configure oauth2: for this mailbox";
      return error(
          "imap: cannot log in as " + opt.username + " at " + base + ": " + cause + said + hint,
          static_cast<int>(rc), transient_rc || server_transient, last_line);
    }
    return make("connect to " + base, "", transient_rc);
  }

  void close() noexcept {
    open = false;
    h.reset();
  }

  error failed(const std::string& what, const std::string& cause, int code, bool transient) {
    close();
    return error("imap: cannot " + what + ": " + cause, code, transient);
  }

  curl_socket_t socket() const {
    curl_socket_t s = CURL_SOCKET_BAD;
    curl_easy_getinfo(h.get(), CURLINFO_ACTIVESOCKET, &s);
    return s;
  }

  // Waits until the socket is ready or `until` passes; false on timeout. Throws for the stop
  // flag once stop_grace has passed since this session first saw it.
  bool wait_socket(short events, clock::time_point until, const std::string& what) {
    for (;;) {
      const auto now = clock::now();
      if (stopping()) {
        if (!stop_seen) stop_seen = now;
        if (now - *stop_seen >= opt.stop_grace) throw failed(what, "stopped", 0, true);
      }
      if (now >= until) return false;
      auto slice = std::min<clock::duration>(until - now, poll_slice);
      pollfd p{socket(), events, 0};
      const int ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(slice).count());
      const int r = ::poll(&p, 1, ms);
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) throw failed(what, "poll failed", 0, true);
    }
  }

  void send_bytes(std::string_view bytes, const std::string& what) {
    if (!open) throw error("imap: cannot " + what + ": not connected", 0, true);
    std::size_t off = 0;
    const auto until = clock::now() + opt.operation_timeout;
    while (off < bytes.size()) {
      std::size_t n = 0;
      const CURLcode rc = curl_easy_send(h.get(), bytes.data() + off, bytes.size() - off, &n);
      if (rc == CURLE_AGAIN) {
        if (!wait_socket(POLLOUT, until, what))
          throw failed(
              what,
              "the server took no data for " + std::to_string(opt.operation_timeout.count()) + " s",
              static_cast<int>(CURLE_OPERATION_TIMEDOUT), true);
        continue;
      }
      if (rc != CURLE_OK)
        throw failed(what, with_code(curl_easy_strerror(rc), rc), static_cast<int>(rc), true);
      off += n;
    }
  }

  // Reads more octets into the reader. False when `until` passed first (IDLE's deadline);
  // a stall past operation_timeout throws.
  bool receive(const std::string& what, std::optional<clock::time_point> until) {
    chunk.resize(recv_chunk);
    const auto stall_limit = clock::now() + opt.operation_timeout;
    for (;;) {
      std::size_t n = 0;
      const CURLcode rc = curl_easy_recv(h.get(), chunk.data(), chunk.size(), &n);
      if (rc == CURLE_OK) {
        if (n == 0) throw failed(what, "the server closed the connection", 0, true);
        reader.feed(std::string_view(chunk.data(), n));
        return true;
      }
      if (rc != CURLE_AGAIN)
        throw failed(what, with_code(curl_easy_strerror(rc), rc), static_cast<int>(rc), true);
      const auto limit = until ? std::min(*until, stall_limit) : stall_limit;
      if (!wait_socket(POLLIN, limit, what)) {
        if (until && *until <= stall_limit) return false;
        throw failed(
            what,
            "the server sent nothing for " + std::to_string(opt.operation_timeout.count()) + " s",
            static_cast<int>(CURLE_OPERATION_TIMEDOUT), true);
      }
    }
  }

  // The next complete response, or nullopt when `until` passed first.
  std::optional<detail::response> next_response(const handler& hd, const std::string& what,
                                                std::optional<clock::time_point> until) {
    if (!open) throw error("imap: cannot " + what + ": not connected", 0, true);
    try {
      for (;;) {
        switch (reader.next()) {
          case detail::response_reader::event::need_more:
            if (!receive(what, until)) return std::nullopt;
            break;
          case detail::response_reader::event::literal: {
            const auto size = reader.literal_size();
            const bool keep = hd.keep_literal ? hd.keep_literal(reader.text(), size)
                                              : size <= default_literal_bytes;
            if (keep) {
              reader.keep_literal();
            } else {
              reader.skip_literal();
            }
            if (opt.verbose)
              emit("< [" + std::to_string(size) + " octets" + (keep ? "" : ", read past") + "]");
            break;
          }
          case detail::response_reader::event::response:
            return reader.take();
        }
      }
    } catch (const detail::protocol_error&) {
      close();
      throw;
    }
  }

  void trace_in(const detail::response& r) const {
    if (!opt.verbose) return;
    std::string t = r.text.substr(0, 200);
    for (auto& c : t)
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    emit("< " + t + (r.text.size() > 200 ? "..." : ""));
  }

  void note_untagged(const detail::response& r, const std::string& what) {
    const auto ev = detail::classify_untagged(r.text);
    switch (ev.what) {
      case detail::untagged_event::kind::exists:
        exists = ev.number;
        break;
      case detail::untagged_event::kind::expunge:
        if (exists > 0) --exists;
        break;
      case detail::untagged_event::kind::bye:
        throw failed(what, "the server closed the session: BYE " + ev.text, 0, true);
      default:
        break;
    }
  }
};

session::session(connection_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

session::~session() {
  if (!impl_->open) return;
  try {
    // Bounded: a server that does not answer LOGOUT is left after a second.
    impl_->opt.operation_timeout = std::chrono::seconds(1);
    const auto tag = send("LOGOUT");
    finish(tag);
  } catch (...) {
    // The connection goes either way.
  }
  impl_->close();
}

void session::open() {
  if (!impl_->open) impl_->connect();
}

bool session::is_open() const noexcept { return impl_->open; }
void session::close() noexcept { impl_->close(); }

std::string session::send(std::string_view command) {
  auto& m = *impl_;
  if (command.find_first_of("\r\n") != std::string_view::npos)
    throw error("imap: cannot send a command holding CR or LF", 0, false);
  const std::string tag = "T" + std::to_string(m.next_tag++);
  std::string line = tag;
  line += ' ';
  line += command;
  if (m.opt.verbose) m.emit("> " + detail::redact_command(line));
  line += "\r\n";
  m.send_bytes(line, std::string(command.substr(0, command.find(' '))));
  return tag;
}

void session::send_raw(std::string_view bytes) {
  if (impl_->opt.verbose) impl_->emit("> [" + std::to_string(bytes.size()) + " octets]");
  impl_->send_bytes(bytes, "send data");
}

detail::tagged_status session::finish(const std::string& tag, const handler& h) {
  auto& m = *impl_;
  const std::string what = "finish command " + tag;
  // Whatever escapes (a handler's exception included) leaves the stream mid-answer: closed.
  struct close_on_throw {
    impl& m;
    int pending = std::uncaught_exceptions();
    ~close_on_throw() {
      if (std::uncaught_exceptions() > pending) m.close();
    }
  } guard{m};
  for (;;) {
    auto r = m.next_response(h, what, std::nullopt);
    m.trace_in(*r);
    if (auto t = detail::parse_tagged(r->text)) {
      if (t->tag == tag) return *t;
      continue;  // another command's (none are pipelined; a confused server)
    }
    if (r->text.starts_with('+')) {
      if (h.on_continuation) h.on_continuation(std::string_view(r->text).substr(1));
      continue;
    }
    if (h.on_untagged) h.on_untagged(*r);
    m.note_untagged(*r, what);
  }
}

std::optional<detail::response> session::read_one(clock::time_point deadline, const handler& h) {
  auto& m = *impl_;
  struct close_on_throw {
    impl& m;
    int pending = std::uncaught_exceptions();
    ~close_on_throw() {
      if (std::uncaught_exceptions() > pending) m.close();
    }
  } guard{m};
  auto r = m.next_response(h, "read a response", deadline);
  if (!r) return r;
  m.trace_in(*r);
  if (!r->text.starts_with('+') && !detail::parse_tagged(r->text)) {
    if (h.on_untagged) h.on_untagged(*r);
    m.note_untagged(*r, "read a response");
  }
  return r;
}

detail::tagged_status session::run(std::string_view command, const std::string& what,
                                   const handler& h) {
  open();
  const auto tag = send(command);
  auto t = finish(tag, h);
  if (t.status != detail::tagged_status::kind::ok) {
    // RFC 5530 UNAVAILABLE/INUSE, or the throttling answers of Microsoft 365 and Gmail (a BAD
    // from Microsoft 365 too): temporary, so a refused batch FETCH counts against no message.
    const bool transient = detail::refusal_is_temporary(t.text);
    const std::string word = t.status == detail::tagged_status::kind::no ? "NO" : "BAD";
    throw error("imap: cannot " + what + ": " + word + " " + t.text + detail::refusal_hint(t.text),
                0, transient, word + " " + t.text);
  }
  return t;
}

const std::vector<std::string>& session::capabilities() {
  auto& m = *impl_;
  if (!m.caps) {
    std::string lines;
    handler h;
    h.on_untagged = [&](detail::response& r) {
      if (r.text.size() > 13) lines += r.text + "\r\n";
    };
    run("CAPABILITY", "CAPABILITY at " + m.base, h);
    m.caps = detail::parse_capabilities(lines);
  }
  return *m.caps;
}

bool session::has_capability(std::string_view upper_name) {
  const auto& c = capabilities();
  return std::binary_search(c.begin(), c.end(), std::string(upper_name));
}

const std::string& session::greeting() const noexcept { return impl_->first_line; }
std::uint32_t session::exists() const noexcept { return impl_->exists; }
const connection_options& session::options() const noexcept { return impl_->opt; }
const std::string& session::base_url() const noexcept { return impl_->base; }
const std::string& session::host() const noexcept { return impl_->host_name; }

}  // namespace tlsrpt::imap
