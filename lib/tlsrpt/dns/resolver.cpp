// SPDX-License-Identifier: Apache-2.0
// libunbound behind dns::resolver. libunbound has no per-query timeout (its own retries can
// take a minute against a dead server), so every query is asynchronous: we wait on ub_fd()
// with our deadline and cancel the query when it passes.
#include "tlsrpt/dns/resolver.hpp"

#include <poll.h>
#include <unbound.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace tlsrpt::dns {

namespace {

struct ctx_deleter {
  void operator()(ub_ctx* c) const noexcept { ub_ctx_delete(c); }
};
struct result_deleter {
  void operator()(ub_result* r) const noexcept { ub_resolve_free(r); }
};
using ctx_ptr = std::unique_ptr<ub_ctx, ctx_deleter>;
using result_ptr = std::unique_ptr<ub_result, result_deleter>;

// Where one asynchronous query lands. ub_process() calls the callback on our own thread.
struct pending {
  bool done = false;
  int err = 0;
  result_ptr result;
};

extern "C" void on_result(void* data, int err, ub_result* result) noexcept {
  auto* p = static_cast<pending*>(data);
  p->done = true;
  p->err = err;
  p->result.reset(result);
}

std::string describe(rr_type t) { return std::string(to_string(t)); }

void check(int rc, const std::string& what) {
  if (rc != 0) throw error("dns: cannot " + what + ": " + ub_strerror(rc), false);
}

}  // namespace

std::string_view to_string(security s) noexcept {
  switch (s) {
    case security::secure:
      return "secure";
    case security::insecure:
      return "insecure";
    case security::bogus:
      return "bogus";
  }
  return "insecure";
}

std::string_view to_string(rr_type t) noexcept {
  switch (t) {
    case rr_type::a:
      return "A";
    case rr_type::cname:
      return "CNAME";
    case rr_type::mx:
      return "MX";
    case rr_type::txt:
      return "TXT";
    case rr_type::aaaa:
      return "AAAA";
    case rr_type::ds:
      return "DS";
    case rr_type::dnskey:
      return "DNSKEY";
    case rr_type::tlsa:
      return "TLSA";
  }
  return "?";
}

std::string system_trust_anchor() {
  // dns-root-data's copy is maintained by the package; unbound-anchor's by RFC 5011 updates.
  for (const char* p : {"/usr/share/dns/root.key", "/var/lib/unbound/root.key"}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p;
  }
  return "";
}

std::string forwarder_address(std::string_view hp) {
  std::string host;
  std::string port = "53";
  if (hp.starts_with('[')) {
    const auto close = hp.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unclosed [ in address");
    host = std::string(hp.substr(1, close - 1));
    const auto rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) throw std::invalid_argument("expected :port after ]");
      port = std::string(rest.substr(1));
    }
  } else {
    const auto colon = hp.rfind(':');
    if (colon != std::string_view::npos && hp.find(':') == colon) {
      host = std::string(hp.substr(0, colon));
      port = std::string(hp.substr(colon + 1));
    } else {
      host = std::string(hp);  // a bare IPv6 address or a host without port
    }
  }
  if (host.empty()) throw std::invalid_argument("empty host");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) == 0 ||
      std::stoul(port) > 65535) {
    throw std::invalid_argument("port must be a number from 1 to 65535");
  }
  return host + "@" + port;
}

bool valid_query_name(std::string_view name) noexcept {
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

struct resolver::impl {
  ctx_ptr ctx;
  std::chrono::milliseconds timeout{};
  bool validating = false;
};

resolver::resolver(const options& opts) : impl_(std::make_unique<impl>()) {
  impl_->ctx.reset(ub_ctx_create());
  if (!impl_->ctx) throw error("dns: cannot create a libunbound context: out of memory", false);
  ub_ctx* c = impl_->ctx.get();
  impl_->timeout = opts.timeout;
  // A thread, not a forked process, answers asynchronous queries: nothing to reap, and the
  // context works inside a daemon that handles SIGCHLD its own way.
  check(ub_ctx_async(c, 1), "use a resolver thread");
  if (opts.servers.empty()) {
    check(ub_ctx_resolvconf(c, nullptr), "read /etc/resolv.conf");
  } else {
    // Our servers are named on purpose, loopback ones included (a local unbound, the tests).
    check(ub_ctx_set_option(c, "do-not-query-localhost:", "no"), "allow loopback servers");
    for (const auto& s : opts.servers) {
      std::string addr;
      try {
        addr = forwarder_address(s);
      } catch (const std::invalid_argument& e) {
        throw error("dns: cannot use server \"" + s + "\": " + e.what(), false);
      }
      check(ub_ctx_set_fwd(c, addr.c_str()), "use server " + s);
    }
  }
  const std::string anchor = opts.trust_anchor ? *opts.trust_anchor : system_trust_anchor();
  if (!anchor.empty()) {
    // libunbound reads the file only at the first query; say what is wrong now.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(anchor, ec)) {
      throw error("dns: cannot load the trust anchor " + anchor + ": no such file", false);
    }
    check(ub_ctx_add_ta_file(c, anchor.c_str()), "load the trust anchor " + anchor);
    impl_->validating = true;
  }
}

resolver::~resolver() = default;
resolver::resolver(resolver&&) noexcept = default;
resolver& resolver::operator=(resolver&&) noexcept = default;

bool resolver::validating() const noexcept { return impl_->validating; }

answer resolver::query(std::string_view name, rr_type type) {
  const std::string qname(name);
  const auto what = [&] { return "resolve " + qname + " " + describe(type); };
  if (!valid_query_name(qname)) throw error("dns: cannot " + what() + ": not a host name", false);
  ub_ctx* c = impl_->ctx.get();
  pending p;
  int id = 0;
  const int rc =
      ub_resolve_async(c, qname.c_str(), static_cast<int>(type), 1 /* IN */, &p, on_result, &id);
  if (rc != 0) throw error("dns: cannot " + what() + ": " + ub_strerror(rc), true);

  const auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
  while (!p.done) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ub_cancel(c, id);
      throw error("dns: cannot " + what() + ": no answer within " +
                      std::to_string(impl_->timeout.count()) + " ms",
                  true);
    }
    pollfd pfd{ub_fd(c), POLLIN, 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) {
      ub_cancel(c, id);
      throw error("dns: cannot " + what() + ": poll: " + std::strerror(errno), true);
    }
    if (n > 0) {
      const int prc = ub_process(c);
      if (prc != 0) throw error("dns: cannot " + what() + ": " + ub_strerror(prc), true);
    }
  }
  if (p.err != 0) throw error("dns: cannot " + what() + ": " + ub_strerror(p.err), true);

  answer a;
  a.name = qname;
  a.type = type;
  const ub_result* r = p.result.get();
  if (r == nullptr) throw error("dns: cannot " + what() + ": no result", true);
  a.rcode = r->rcode;
  a.nxdomain = r->nxdomain != 0;
  a.sec = r->bogus ? security::bogus : r->secure ? security::secure : security::insecure;
  if (r->why_bogus != nullptr) a.why_bogus = r->why_bogus;
  if (r->havedata && r->data != nullptr) {
    for (int i = 0; r->data[i] != nullptr; ++i) {
      a.rdata.emplace_back(r->data[i], static_cast<std::size_t>(r->len[i]));
    }
  }
  return a;
}

}  // namespace tlsrpt::dns
