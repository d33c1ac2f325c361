// SPDX-License-Identifier: Apache-2.0
// libmicrohttpd stays in this file. One MHD daemon per listen address (each on a socket we
// bind ourselves, so port 0 works and the bound port can be read back), one thread per
// connection: a POST waits for its transaction to commit (the intake's group commit), and a
// blocked connection must not hold up the others.
#include "tlsrpt/http/server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace tlsrpt::http {

namespace {

using clock_type = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// An address as bytes (4 or 16), for CIDR comparisons.
std::optional<std::vector<unsigned char>> address_bytes(std::string_view text) {
  const std::string s(text);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v4);
    return std::vector<unsigned char>(p, p + 4);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v6);
    std::vector<unsigned char> b(p, p + 16);
    // An IPv4-mapped address (::ffff:a.b.c.d) is its IPv4 address.
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(b.begin(), b.begin() + 12, mapped)) return std::vector(b.begin() + 12, b.end());
    return b;
  }
  return std::nullopt;
}

std::string peer_of(MHD_Connection* c) {
  const MHD_ConnectionInfo* ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci == nullptr || ci->client_addr == nullptr) return "-";
  char buf[INET6_ADDRSTRLEN] = {};
  const sockaddr* sa = ci->client_addr;
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &a6->sin6_addr, buf, sizeof buf);
    const std::string s = buf;
    if (s.starts_with("::ffff:") && s.find('.') != std::string::npos) return s.substr(7);
  } else {
    return "-";
  }
  return buf;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string listen_address::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

listen_address parse_listen(std::string_view text) {
  const std::string original(text);
  const std::string bad = "expected host:port (IPv6 as [::1]:8460), got \"" + original + "\"";
  listen_address a;
  std::string_view port;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw std::invalid_argument(bad);
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      throw std::invalid_argument(bad);
    a.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (a.host.empty()) throw std::invalid_argument(bad);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    throw std::invalid_argument(bad + " (the port must be 0-65535)");
  a.port = static_cast<std::uint16_t>(value);
  if (!address_bytes(a.host) && a.host != "localhost")
    throw std::invalid_argument(bad + " (the host must be an IP address or localhost)");
  return a;
}

bool address_in(std::string_view address, std::string_view block) {
  const auto slash = block.find('/');
  const auto net = address_bytes(block.substr(0, slash));
  const auto addr = address_bytes(address);
  if (!net || !addr || net->size() != addr->size()) return false;
  std::size_t bits = net->size() * 8;
  if (slash != std::string_view::npos) {
    const std::string_view len = block.substr(slash + 1);
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
    if (ec != std::errc() || end != len.data() + len.size() || n > bits) return false;
    bits = n;
  }
  for (std::size_t i = 0; i < bits; ++i) {
    const unsigned char mask = static_cast<unsigned char>(0x80u >> (i % 8));
    if (((*net)[i / 8] & mask) != ((*addr)[i / 8] & mask)) return false;
  }
  return true;
}

std::optional<std::string_view> request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

response response::text(int status, std::string line) {
  response r;
  r.status = status;
  r.body = std::move(line);
  r.body += '\n';
  return r;
}

struct server::impl {
  struct route {
    std::string path;
    handler get;
    handler post;
    precheck check;
  };

  // One TCP connection (MHD's socket context). The watchdog cuts it off at `deadline`.
  struct connection {
    int fd = -1;
    clock_type::time_point deadline;
    bool over_limit = false;  // beyond max_connections: answered 503
    bool busy = false;        // a handler is running: let it answer
    bool cut = false;
  };

  // One request (MHD's con_cls).
  struct exchange {
    route* target = nullptr;
    request req;
    std::string method, path, version, peer;
    std::string body;
    bool reading = false;  // a POST whose body is being received
  };

  options opts;
  std::shared_ptr<spdlog::logger> log;
  std::map<std::string, route, std::less<>> routes;
  std::function<void(std::string_view, int)> observe;

  std::vector<listen_address> addresses;
  std::vector<MHD_Daemon*> daemons;

  std::mutex mutex;  // guards `live` and `stopping`
  std::set<connection*> live;
  std::atomic<unsigned> active{0};
  bool stopping = false;
  std::condition_variable watchdog_wake;
  std::thread watchdog;

  // The last exception a callback caught (STYLE.md: C callbacks catch and store). A server
  // has no C call to return from, so it is logged when caught and kept for stop().
  std::mutex error_mutex;
  std::exception_ptr callback_error;

  void remember(std::exception_ptr e) noexcept {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      try {
        log->error("http: request handler failed: {}", ex.what());
      } catch (...) {
      }
    } catch (...) {
    }
    const std::lock_guard lock(error_mutex);
    callback_error = e;
  }

  std::string route_label(const exchange* ex) const {
    return ex != nullptr && ex->target != nullptr ? ex->target->path : "other";
  }

  MHD_Result send(MHD_Connection* c, const exchange* ex, const response& r, bool close = false) {
    MHD_Response* resp = MHD_create_response_from_buffer(
        r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
    if (resp == nullptr) return MHD_NO;
    struct owner {
      MHD_Response* p;
      ~owner() { MHD_destroy_response(p); }
    } own{resp};
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
    for (const auto& [k, v] : r.headers) MHD_add_response_header(resp, k.c_str(), v.c_str());
    if (close) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    const MHD_Result rc = MHD_queue_response(c, static_cast<unsigned>(r.status), resp);
    if (rc == MHD_YES && observe) observe(route_label(ex), r.status);
    return rc;
  }

  connection* connection_of(MHD_Connection* c) {
    const MHD_ConnectionInfo* ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != nullptr ? static_cast<connection*>(ci->socket_context) : nullptr;
  }

  void set_busy(connection* conn, bool busy) {
    if (conn == nullptr) return;
    const std::lock_guard lock(mutex);
    conn->busy = busy;
  }

  // X-Forwarded-For from a trusted proxy: the right-most address that is not one of ours.
  std::string client_of(const std::string& peer, const request& rq) const {
    auto trusted = [&](std::string_view a) {
      return std::any_of(opts.trusted_proxies.begin(), opts.trusted_proxies.end(),
                         [&](const std::string& b) { return address_in(a, b); });
    };
    if (!trusted(peer)) return peer;
    const auto xff = rq.header("X-Forwarded-For");
    if (!xff) return peer;
    std::string_view rest = *xff;
    std::string client = peer;
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      const std::string hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      if (!address_bytes(hop)) break;  // garbage: believe nothing further left
      client = hop;
      if (!trusted(hop)) break;
    }
    return client;
  }

  static MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key,
                                   const char* value) noexcept {
    auto* ex = static_cast<exchange*>(cls);
    try {
      ex->req.headers.emplace_back(key != nullptr ? key : "", value != nullptr ? value : "");
    } catch (...) {
      return MHD_NO;
    }
    return MHD_YES;
  }

  static MHD_Result collect_argument(void* cls, MHD_ValueKind, const char* key,
                                     const char* value) noexcept {
    auto* ex = static_cast<exchange*>(cls);
    try {
      ex->req.arguments.emplace_back(key != nullptr ? key : "", value != nullptr ? value : "");
    } catch (...) {
      return MHD_NO;
    }
    return MHD_YES;
  }

  MHD_Result begin(MHD_Connection* c, const char* url, const char* method, const char* version,
                   void** con_cls) {
    auto ex = std::make_unique<exchange>();
    ex->method = method != nullptr ? method : "";
    ex->path = url != nullptr ? url : "";
    ex->version = version != nullptr ? version : "";
    const int count = MHD_get_connection_values(c, MHD_HEADER_KIND, nullptr, nullptr);
    if (count > 0 && static_cast<std::size_t>(count) <= opts.max_headers) {
      MHD_get_connection_values(c, MHD_HEADER_KIND, &impl::collect_header, ex.get());
    }
    // Bounded like the headers: the arguments live in the same per-connection memory.
    const int args = MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, nullptr, nullptr);
    if (args > 0 && static_cast<std::size_t>(args) <= opts.max_headers)
      MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, &impl::collect_argument, ex.get());
    ex->peer = client_of(peer_of(c), ex->req);
    ex->req.method = ex->method;
    ex->req.path = ex->path;
    ex->req.version = ex->version;
    ex->req.peer = ex->peer;
    const auto it = routes.find(ex->path);
    if (it != routes.end()) ex->target = &it->second;
    exchange* e = ex.get();
    *con_cls = ex.release();  // freed in completed()

    connection* conn = connection_of(c);
    if (conn != nullptr && conn->over_limit) {
      response r = response::text(503, "busy: too many connections; retry later");
      r.headers.emplace_back("Retry-After", std::to_string(opts.retry_after.count()));
      return send(c, e, r, true);
    }
    if (count < 0 || static_cast<std::size_t>(count) > opts.max_headers) {
      return send(c, e, response::text(431, "too many header fields"), true);
    }
    if (e->target == nullptr) return send(c, e, response::text(404, "not found"));
    route& rt = *e->target;
    const bool is_get = e->method == "GET" || e->method == "HEAD";
    if (is_get && rt.get) {
      set_busy(conn, true);
      const response r = rt.get(e->req);
      set_busy(conn, false);
      return send(c, e, r);
    }
    if (e->method == "POST" && rt.post) {
      if (const auto cl = e->req.header("Content-Length")) {
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
        if (ec == std::errc::result_out_of_range || (ec == std::errc() && n > opts.max_body_size))
          return send(c, e,
                      response::text(413, "too large: the limit is " +
                                              std::to_string(opts.max_body_size) + " bytes"),
                      true);
      }
      if (rt.check) {
        if (const auto early = rt.check(e->req)) return send(c, e, *early, true);
      }
      e->reading = true;
      return MHD_YES;
    }
    response r = response::text(405, "method not allowed");
    std::string allow = rt.get ? "GET, HEAD" : "";
    if (rt.post) allow += allow.empty() ? "POST" : ", POST";
    r.headers.emplace_back("Allow", allow);
    return send(c, e, r, true);
  }

  MHD_Result handle(MHD_Connection* c, const char* url, const char* method, const char* version,
                    const char* upload_data, std::size_t* upload_size, void** con_cls) {
    if (*con_cls == nullptr) return begin(c, url, method, version, con_cls);
    auto* e = static_cast<exchange*>(*con_cls);
    if (!e->reading) return MHD_NO;  // answered already; MHD should not call again
    if (*upload_size > 0) {
      if (e->body.size() + *upload_size > opts.max_body_size) {
        // No answer can be queued in the middle of an upload (libmicrohttpd): close.
        log->info("http: {} {} from {}: chunked body over {} bytes; connection closed", e->method,
                  e->path, e->peer, opts.max_body_size);
        if (observe) observe(route_label(e), 413);
        return MHD_NO;
      }
      e->body.append(upload_data, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    e->reading = false;
    e->req.body = e->body;
    connection* conn = connection_of(c);
    set_busy(conn, true);
    const response r = e->target->post(e->req);
    set_busy(conn, false);
    return send(c, e, r);
  }

  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                               const char* version, const char* upload_data,
                               std::size_t* upload_size, void** con_cls) noexcept {
    auto* self = static_cast<impl*>(cls);
    try {
      return self->handle(c, url, method, version, upload_data, upload_size, con_cls);
    } catch (...) {
      self->remember(std::current_exception());
      try {
        auto* e = static_cast<exchange*>(*con_cls);
        if (e != nullptr && e->reading && *upload_size > 0) return MHD_NO;
        return self->send(c, e, response::text(500, "internal error"), true);
      } catch (...) {
        return MHD_NO;
      }
    }
  }

  static void on_completed(void* cls, MHD_Connection* c, void** con_cls,
                           MHD_RequestTerminationCode) noexcept {
    auto* self = static_cast<impl*>(cls);
    delete static_cast<exchange*>(*con_cls);
    *con_cls = nullptr;
    // The next request on a kept-alive connection gets a fresh deadline.
    try {
      if (connection* conn = self->connection_of(c)) {
        const std::lock_guard lock(self->mutex);
        conn->deadline = clock_type::now() + self->opts.request_timeout;
      }
    } catch (...) {
    }
  }

  static void on_connection(void* cls, MHD_Connection* c, void** socket_context,
                            MHD_ConnectionNotificationCode code) noexcept {
    auto* self = static_cast<impl*>(cls);
    try {
      if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        auto conn = std::make_unique<connection>();
        const MHD_ConnectionInfo* ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn->fd = ci != nullptr ? ci->connect_fd : -1;
        conn->deadline = clock_type::now() + self->opts.request_timeout;
        conn->over_limit = self->active.fetch_add(1) + 1 > self->opts.max_connections;
        const std::lock_guard lock(self->mutex);
        self->live.insert(conn.get());
        *socket_context = conn.release();
      } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        auto* conn = static_cast<connection*>(*socket_context);
        if (conn == nullptr) return;
        {
          const std::lock_guard lock(self->mutex);
          self->live.erase(conn);
        }
        self->active.fetch_sub(1);
        delete conn;
        *socket_context = nullptr;
      }
    } catch (...) {
      self->remember(std::current_exception());
    }
  }

  static void on_mhd_log(void* cls, const char* fm, va_list ap) noexcept {
    auto* self = static_cast<impl*>(cls);
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fm, ap);
    std::string line = buf;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    try {
      self->log->debug("http: libmicrohttpd: {}", line);
    } catch (...) {
    }
  }

  // Cuts off connections past their deadline. shutdown(), not close(): libmicrohttpd owns the
  // descriptor, sees the end of the stream and cleans up on its own thread. A connection is
  // erased from `live` (under the mutex) before libmicrohttpd closes its descriptor, so a
  // reused descriptor number is never shut down by mistake.
  void watch() noexcept {
    const auto tick = std::clamp<std::chrono::milliseconds>(
        opts.request_timeout / 4, std::chrono::milliseconds(50), std::chrono::seconds(1));
    std::unique_lock lock(mutex);
    while (!stopping) {
      watchdog_wake.wait_for(lock, tick);
      const auto now = clock_type::now();
      for (connection* conn : live) {
        if (conn->busy || conn->cut || conn->fd < 0 || now < conn->deadline) continue;
        conn->cut = true;
        ::shutdown(conn->fd, SHUT_RDWR);
      }
    }
  }

  int bind_socket(listen_address& a) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE | (a.host == "localhost" ? 0 : AI_NUMERICHOST);
    addrinfo* res = nullptr;
    const std::string port = std::to_string(a.port);
    const int gai = getaddrinfo(a.host.c_str(), port.c_str(), &hints, &res);
    if (gai != 0) throw error("http: cannot listen on " + a.text() + ": " + gai_strerror(gai));
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> own(res, freeaddrinfo);
    const int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) throw error("http: cannot listen on " + a.text() + ": " + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (res->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      const int err = errno;
      ::close(fd);
      throw error("http: cannot listen on " + a.text() + ": " + std::strerror(err));
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      a.port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    return fd;
  }

  void start() {
    if (opts.tls_cert_pem.empty() != opts.tls_key_pem.empty())
      throw error("http: cannot start: tls_cert and tls_key go together");
    const bool tls = !opts.tls_cert_pem.empty();
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
      throw error("http: cannot start: this libmicrohttpd has no TLS support");
    for (const std::string& l : opts.listen) {
      try {
        addresses.push_back(parse_listen(l));
      } catch (const std::invalid_argument& e) {
        throw error(std::string("http: cannot listen on ") + l + ": " + e.what());
      }
    }
    // Beyond max_connections, this many more are let in to be answered 503.
    const unsigned hard_limit = opts.max_connections + std::max(16u, opts.max_connections / 4);
    const auto timeout_s =
        static_cast<unsigned>(std::max<long long>(1, (opts.request_timeout.count() + 999) / 1000));
    for (listen_address& a : addresses) {
      const int fd = bind_socket(a);
      unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                       MHD_USE_POLL | MHD_USE_ERROR_LOG;
      if (a.host.find(':') != std::string::npos) flags |= MHD_USE_IPv6;
      if (tls) flags |= MHD_USE_TLS;
      std::vector<MHD_OptionItem> o = {
          {MHD_OPTION_LISTEN_SOCKET, fd, nullptr},
          {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(hard_limit), nullptr},
          {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(timeout_s), nullptr},
          {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(opts.max_header_bytes),
           nullptr},
          {MHD_OPTION_THREAD_STACK_SIZE, static_cast<intptr_t>(1024 * 1024), nullptr},
          {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&impl::on_completed), this},
          {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&impl::on_connection), this},
          {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&impl::on_mhd_log), this},
      };
      if (tls) {
        o.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(opts.tls_cert_pem.c_str())});
        o.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(opts.tls_key_pem.c_str())});
      }
      o.push_back({MHD_OPTION_END, 0, nullptr});
      MHD_Daemon* d = MHD_start_daemon(flags, 0, nullptr, nullptr, &impl::on_request, this,
                                       MHD_OPTION_ARRAY, o.data(), MHD_OPTION_END);
      if (d == nullptr) {
        ::close(fd);
        throw error("http: cannot listen on " + a.text() +
                    (tls ? ": libmicrohttpd refused to start (is the TLS key or certificate "
                           "valid PEM?)"
                         : ": libmicrohttpd refused to start"));
      }
      daemons.push_back(d);
    }
    watchdog = std::thread([this] { watch(); });
  }

  void stop() noexcept {
    {
      const std::lock_guard lock(mutex);
      stopping = true;
    }
    watchdog_wake.notify_all();
    if (watchdog.joinable()) watchdog.join();
    // MHD_stop_daemon closes the listen socket it was given, too.
    for (MHD_Daemon* d : daemons) MHD_stop_daemon(d);
    daemons.clear();
  }
};

server::server(options opts, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
  impl_->log = log ? std::move(log) : spdlog::default_logger();
}

server::~server() { stop(); }

void server::get(std::string path, handler h) {
  auto& r = impl_->routes[path];
  r.path = std::move(path);
  r.get = std::move(h);
}

void server::post(std::string path, handler h, precheck check) {
  auto& r = impl_->routes[path];
  r.path = std::move(path);
  r.post = std::move(h);
  r.check = std::move(check);
}

void server::on_response(std::function<void(std::string_view, int)> f) {
  impl_->observe = std::move(f);
}

void server::start() {
  try {
    impl_->start();
  } catch (...) {
    impl_->stop();
    throw;
  }
}

void server::stop() noexcept { impl_->stop(); }

std::vector<listen_address> server::bound() const { return impl_->addresses; }

}  // namespace tlsrpt::http
