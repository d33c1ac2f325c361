// SPDX-License-Identifier: Apache-2.0
// libopendkim behind dns::dkim_verifier. Two things we do ourselves rather than leave to the
// library: the key lookup (through dns::resolver, so DKIM gets the same servers, timeouts and
// DNSSEC status as everything else, and its failures are classified once, here), and the
// service check of the key record, because libopendkim knows only the "email" service and
// would refuse a key published for TLSRPT alone (s=tlsrpt).
#include "tlsrpt/dns/dkim.hpp"

#include <cstring>
#include <exception>
#include <map>
#include <stdexcept>

#include "tlsrpt/dns/records.hpp"

// libopendkim's header is C99 and spells bool `_Bool`, which C++ does not have; the two have
// the same representation in the x86-64 and AArch64 ABIs (one byte, 0 or 1).
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace tlsrpt::dns {

namespace {

struct lib_deleter {
  void operator()(DKIM_LIB* l) const noexcept { dkim_close(l); }
};
struct handle_deleter {
  void operator()(DKIM* d) const noexcept { dkim_free(d); }
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// What the key lookup learnt about one signature; libopendkim's own error codes do not tell
// a DNS timeout from a missing record.
struct key_note {
  bool looked_up = false;
  std::optional<dkim_result> failed;  // temperror or permerror, from the lookup
  std::string detail;
  bool allows_tlsrpt = true;
};

struct lookup_context {
  resolver* dns = nullptr;
  std::size_t max_lookups = 8;
  std::size_t lookups = 0;
  std::map<const DKIM_SIGINFO*, key_note> notes;
  std::exception_ptr failure;  // a bug in the callback, rethrown after libopendkim returns
};

std::string text_of(const unsigned char* p) {
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
}

// The record without its s= tag (RFC 6376 §3.6.1 tag=value list), for libopendkim.
std::string without_service_tag(std::string_view rec) {
  std::string out;
  std::size_t i = 0;
  while (i <= rec.size()) {
    std::size_t semi = rec.find(';', i);
    if (semi == std::string_view::npos) semi = rec.size();
    const std::string_view tag = rec.substr(i, semi - i);
    const auto eq = tag.find('=');
    const bool is_s = eq != std::string_view::npos && lower(trim(tag.substr(0, eq))) == "s";
    if (!is_s && !trim(tag).empty()) {
      if (!out.empty()) out += ';';
      out += tag;
    }
    i = semi + 1;
  }
  return out;
}

extern "C" DKIM_CBSTAT lookup_key(DKIM* d, DKIM_SIGINFO* sig, u_char* buf, size_t buflen) noexcept {
  auto* ctx = static_cast<lookup_context*>(dkim_get_user_context(d));
  if (ctx == nullptr) return DKIM_CBSTAT_ERROR;
  try {
    key_note& note = ctx->notes[sig];
    note.looked_up = true;
    const std::string domain = text_of(dkim_sig_getdomain(sig));
    const std::string selector = text_of(dkim_sig_getselector(sig));
    // RFC 6376 §3.6.2.1: the key lives at selector._domainkey.domain.
    const std::string name = selector + "._domainkey." + domain;
    const auto perm = [&](std::string why) {
      note.failed = dkim_result::permerror;
      note.detail = std::move(why);
      return DKIM_CBSTAT_NOTFOUND;
    };
    // Not DKIM_CBSTAT_TRYAGAIN: libopendkim would abandon the whole message there, and a
    // second signature that verifies would go unseen. The note keeps the temporary nature.
    const auto temp = [&](std::string why) {
      note.failed = dkim_result::temperror;
      note.detail = std::move(why);
      return DKIM_CBSTAT_NOTFOUND;
    };
    if (++ctx->lookups > ctx->max_lookups) return perm("more signatures than are evaluated");
    if (!valid_query_name(name)) return perm("the key name " + name + " is not a DNS name");
    answer a;
    try {
      a = ctx->dns->query(name, rr_type::txt);
    } catch (const error& e) {
      return e.transient() ? temp(e.what()) : perm(e.what());
    }
    if (a.sec == security::bogus) {
      return temp("the key record " + name + " fails DNSSEC validation (bogus" +
                  (a.why_bogus.empty() ? "" : ": " + a.why_bogus) + ")");
    }
    if (a.nxdomain || (a.rcode == 0 && a.rdata.empty())) {
      return perm("no key record at " + name);
    }
    if (a.rcode != 0) {
      return temp("cannot look up the key record " + name + ": rcode " + std::to_string(a.rcode));
    }
    if (a.rdata.size() > 1) return perm("more than one key record at " + name);
    std::string rec;
    try {
      rec = txt_joined(a.rdata.front());
    } catch (const std::invalid_argument& e) {
      return perm("the key record at " + name + " is malformed: " + e.what());
    }
    note.allows_tlsrpt = service_allows_tlsrpt(rec);
    rec = without_service_tag(rec);
    if (rec.size() + 1 > buflen) return perm("the key record at " + name + " is too long");
    std::memcpy(buf, rec.data(), rec.size());
    buf[rec.size()] = '\0';
    return DKIM_CBSTAT_CONTINUE;
  } catch (...) {
    ctx->failure = std::current_exception();
    return DKIM_CBSTAT_ERROR;
  }
}

int rank(dkim_result r) {
  switch (r) {
    case dkim_result::pass:
      return 4;
    case dkim_result::temperror:
      return 3;
    case dkim_result::fail:
      return 2;
    case dkim_result::permerror:
      return 1;
    case dkim_result::none:
      return 0;
  }
  return 0;
}

// A signature as libopendkim left it after dkim_eom(), with what the lookup noted.
dkim_signature classify(DKIM_SIGINFO* sig, const key_note* note,
                        std::optional<std::string_view> submitter) {
  dkim_signature s;
  s.domain = lower(text_of(dkim_sig_getdomain(sig)));
  s.selector = text_of(dkim_sig_getselector(sig));
  s.aligned = submitter && domains_aligned(s.domain, *submitter);
  if (note != nullptr) s.key_allows_tlsrpt = note->allows_tlsrpt;
  if (note != nullptr && note->failed) {
    s.result = *note->failed;
    s.detail = note->detail;
    return s;
  }
  const unsigned flags = dkim_sig_getflags(sig);
  const int bh = dkim_sig_getbh(sig);
  if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH) {
    if (!s.key_allows_tlsrpt) {
      // RFC 6376 §3.6.1: a verifier for a service not listed in s= must ignore the key.
      s.result = dkim_result::permerror;
      s.detail = "the key of d=" + s.domain + " s=" + s.selector +
                 " does not allow the tlsrpt service (its s= tag)";
    } else if (!s.aligned) {
      s.result = dkim_result::fail;
      s.detail = "valid signature of d=" + s.domain + ", which is not the submitter's domain" +
                 (submitter ? " " + std::string(*submitter) : std::string(" (none known)"));
    } else {
      s.result = dkim_result::pass;
    }
    return s;
  }
  const int err = dkim_sig_geterror(sig);
  switch (err) {
    case DKIM_SIGERROR_KEYFAIL:
      s.result = dkim_result::temperror;
      break;
    case DKIM_SIGERROR_BADSIG:
    case DKIM_SIGERROR_EXPIRED:
    case DKIM_SIGERROR_FUTURE:
    case DKIM_SIGERROR_OK:  // processed, no error recorded, but not passed: the body hash
      s.result = dkim_result::fail;
      break;
    default:
      s.result = dkim_result::permerror;
      break;
  }
  if (bh == DKIM_SIGBH_MISMATCH) {
    s.result = dkim_result::fail;
    s.detail = "the body does not match the signature's body hash (altered in transit?)";
  } else if (err == DKIM_SIGERROR_OK) {
    s.detail = "the signature was not verified";
  } else {
    const char* why = dkim_sig_geterrorstr(err);
    s.detail = why != nullptr ? why : "error " + std::to_string(err);
  }
  s.detail = "d=" + s.domain + " s=" + s.selector + ": " + s.detail;
  return s;
}

}  // namespace

std::string_view to_string(dkim_result r) noexcept {
  switch (r) {
    case dkim_result::pass:
      return "pass";
    case dkim_result::fail:
      return "fail";
    case dkim_result::none:
      return "none";
    case dkim_result::temperror:
      return "temperror";
    case dkim_result::permerror:
      return "permerror";
  }
  return "none";
}

bool domains_aligned(std::string_view signing_domain, std::string_view submitter) noexcept {
  if (signing_domain.ends_with('.')) signing_domain.remove_suffix(1);
  if (submitter.ends_with('.')) submitter.remove_suffix(1);
  if (signing_domain.empty() || submitter.empty()) return false;
  const auto eq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto lc = [](char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; };
      if (lc(a[i]) != lc(b[i])) return false;
    }
    return true;
  };
  const auto sub_of = [&](std::string_view child, std::string_view parent) {
    return child.size() > parent.size() + 1 && child[child.size() - parent.size() - 1] == '.' &&
           eq(child.substr(child.size() - parent.size()), parent);
  };
  // A parent must have a dot itself: "com" aligns with nothing.
  const auto has_dot = [](std::string_view d) { return d.find('.') != std::string_view::npos; };
  return eq(signing_domain, submitter) ||
         (has_dot(signing_domain) && sub_of(submitter, signing_domain)) ||
         (has_dot(submitter) && sub_of(signing_domain, submitter));
}

bool service_allows_tlsrpt(std::string_view rec) noexcept {
  try {
    std::size_t i = 0;
    while (i <= rec.size()) {
      std::size_t semi = rec.find(';', i);
      if (semi == std::string_view::npos) semi = rec.size();
      const std::string_view tag = rec.substr(i, semi - i);
      const auto eq = tag.find('=');
      if (eq != std::string_view::npos && lower(trim(tag.substr(0, eq))) == "s") {
        std::string_view list = trim(tag.substr(eq + 1));
        std::size_t j = 0;
        while (j <= list.size()) {
          std::size_t colon = list.find(':', j);
          if (colon == std::string_view::npos) colon = list.size();
          const std::string service = lower(trim(list.substr(j, colon - j)));
          if (service == "*" || service == "tlsrpt") return true;
          j = colon + 1;
        }
        return false;
      }
      i = semi + 1;
    }
    return true;  // no s= tag: all services
  } catch (...) {
    return false;
  }
}

struct dkim_verifier::impl {
  resolver* dns = nullptr;
  dkim_options opts;
  std::unique_ptr<DKIM_LIB, lib_deleter> lib;
};

dkim_verifier::dkim_verifier(resolver& dns, dkim_options opts) : impl_(std::make_unique<impl>()) {
  impl_->dns = &dns;
  impl_->opts = opts;
  impl_->lib.reset(dkim_init(nullptr, nullptr));
  if (!impl_->lib) throw std::runtime_error("dkim: cannot initialise libopendkim: out of memory");
  // Files and stdin may have bare LF line ends; IMAP hands over CRLF.
  unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
  if (::dkim_options(impl_->lib.get(), DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) !=
          DKIM_STAT_OK ||
      dkim_set_key_lookup(impl_->lib.get(), lookup_key) != DKIM_STAT_OK) {
    throw std::runtime_error("dkim: cannot configure libopendkim");
  }
}

dkim_verifier::~dkim_verifier() = default;
dkim_verifier::dkim_verifier(dkim_verifier&&) noexcept = default;

dkim_verdict dkim_verifier::verify(std::string_view message,
                                   std::optional<std::string_view> submitter) {
  dkim_verdict v;
  lookup_context ctx;
  ctx.dns = impl_->dns;
  ctx.max_lookups = impl_->opts.max_signatures;
  DKIM_STAT st = DKIM_STAT_OK;
  const std::unique_ptr<DKIM, handle_deleter> d(dkim_verify(
      impl_->lib.get(), reinterpret_cast<const unsigned char*>("tlsrpt"), nullptr, &st));
  if (!d)
    throw std::runtime_error("dkim: cannot start a verification: " +
                             std::string(dkim_getresultstr(st)));
  dkim_set_user_context(d.get(), &ctx);
  // dkim_chunk() reads the buffer only; its prototype predates const.
  auto* bytes = reinterpret_cast<unsigned char*>(const_cast<char*>(message.data()));
  st = dkim_chunk(d.get(), bytes, message.size());
  if (st == DKIM_STAT_OK) st = dkim_chunk(d.get(), nullptr, 0);
  if (st == DKIM_STAT_OK) st = dkim_eom(d.get(), nullptr);
  if (ctx.failure) std::rethrow_exception(ctx.failure);

  DKIM_SIGINFO** sigs = nullptr;
  int nsigs = 0;
  if (dkim_getsiglist(d.get(), &sigs, &nsigs) != DKIM_STAT_OK || nsigs <= 0 || sigs == nullptr) {
    v.result = dkim_result::none;
    v.detail = st == DKIM_STAT_NOSIG || st == DKIM_STAT_OK
                   ? "no DKIM signature"
                   : std::string("no usable DKIM signature: ") + dkim_getresultstr(st);
    return v;
  }
  const dkim_signature* best = nullptr;
  for (int i = 0; i < nsigs; ++i) {
    const auto it = ctx.notes.find(sigs[i]);
    v.signatures.push_back(
        classify(sigs[i], it == ctx.notes.end() ? nullptr : &it->second, submitter));
  }
  for (const auto& s : v.signatures) {
    if (best == nullptr || rank(s.result) > rank(best->result)) best = &s;
  }
  v.result = best->result;
  if (!best->domain.empty()) v.domain = best->domain;
  v.detail = best->result == dkim_result::pass ? "d=" + best->domain + " s=" + best->selector
                                               : best->detail;
  return v;
}

}  // namespace tlsrpt::dns
