#include "tlsrpt/imap/curl_mailbox.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "tlsrpt/imap/protocol.hpp"

namespace tlsrpt::imap {

namespace detail {

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

// Folder names go into URL paths percent-encoded; libcurl decodes them and quotes them for
// the SELECT it sends itself. '/' stays: it is Dovecot's (and most servers') hierarchy
// separator and libcurl takes the whole path up to ';' as the mailbox.
std::string url_path(std::string_view folder) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string r;
  r.reserve(folder.size());
  for (const char c : folder) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      r += c;
    } else {
      r += '%';
      r += hex[u >> 4];
      r += hex[u & 0xf];
    }
  }
  return r;
}

bool is_transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_WEIRD_SERVER_REPLY:  // a server going down mid-response, a BYE
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:  // handshake cut off; verification failures are 60
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_AGAIN:
      return true;
    default:
      return false;
  }
}

bool is_certificate_failure(CURLcode rc) {
  return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
         rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
         rc == CURLE_SSL_ISSUER_ERROR;
}

// Long UID sets make unreadable error messages; the start is enough to find the command.
std::string brief(std::string_view set) {
  if (set.size() <= 40) return std::string(set);
  return std::string(set.substr(0, 40)) + "...";
}

}  // namespace detail

namespace {

using namespace std::string_literals;

// Two limits of libcurl shape every command that gets many answer lines:
// - it cuts server lines longer than half its receive buffer (a long `* SEARCH` line);
// - Debian's 7.88 (with the fix for CVE-2023-38039) fails a command whose server lines add up
//   to more than 300 KiB ("Too large response headers", CURLE_RECV_ERROR), and it counts each
//   line as its end offset in the block it was read in, so N lines arriving together cost about
//   N^2/2 line lengths: measured on Dovecot, a FETCH of sizes and flags for 25 messages counts
//   20 KB, 50 count 76 KB, 75 count 169 KB, 100 fail. A single long line counts once.
// Hence: a SEARCH covers 5,000 UIDs (one line of at most 55,000 octets), a FETCH of sizes and
// flags 40 messages (about 50-80 KB counted), a MOVE or EXPUNGE 100 (an EXPUNGE line each).
// Small FETCHes cost a round trip each, a few ms for 10,000 messages on loopback.
constexpr long receive_buffer_bytes = 512L * 1024L;
constexpr std::uint32_t search_uid_step = 5000;
constexpr std::size_t fetch_meta_uids = 40;
constexpr std::size_t expunge_uids = 100;

}  // namespace

library::library() {
  const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    throw error("imap: cannot initialise libcurl: "s + curl_easy_strerror(rc) + " (" +
                    std::to_string(static_cast<int>(rc)) + ")",
                static_cast<int>(rc), false);
}

library::~library() { curl_global_cleanup(); }

struct curl_mailbox::impl {
  connection_options opt;
  detail::easy_handle h;
  std::string base_url;  // scheme://host:port/
  std::string host;
  std::array<char, CURL_ERROR_SIZE> errbuf{};
  std::string response;         // every server line of the current command (the header callback)
  std::string* body = nullptr;  // where fetch() collects the literal
  bool oversized = false;
  std::string_view upload;
  std::size_t upload_pos = 0;
  std::string folder;
  folder_state st;
  std::string folder_url;  // with ;UIDVALIDITY=, so libcurl notices a change on reconnect
  std::optional<std::vector<std::string>> caps;
  std::vector<std::string> known_folders;

  explicit impl(connection_options o) : opt(std::move(o)) {
    parse_url();
    h.reset(curl_easy_init());
    if (!h) throw error("imap: cannot create a curl handle", 0, false);
    configure();
  }

  void parse_url() {
    detail::url_handle u(curl_url());
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
      const detail::curl_string owned(out);
      return owned.get();
    };
    const auto scheme = part(CURLUPART_SCHEME);
    if (scheme != "imap" && scheme != "imaps") throw bad("the scheme must be imap or imaps");
    if (!part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty())
      throw bad("credentials belong in the options, not in the URL");
    host = part(CURLUPART_HOST);
    const auto port = part(CURLUPART_PORT);
    base_url = scheme + "://" + host + (port.empty() ? "" : ":" + port) + "/";
  }

  template <class T>
  void set(CURLoption option, T value) {
    if (const CURLcode rc = curl_easy_setopt(h.get(), option, value); rc != CURLE_OK)
      throw error("imap: cannot configure libcurl: "s + curl_easy_strerror(rc) + " (" +
                      std::to_string(static_cast<int>(rc)) + ")",
                  static_cast<int>(rc), false);
  }

  void configure() {
    set(CURLOPT_ERRORBUFFER, errbuf.data());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_PROTOCOLS_STR, "imap,imaps");
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
    set(CURLOPT_TIMEOUT_MS,
        static_cast<long>(std::chrono::milliseconds(opt.operation_timeout).count()));
    set(CURLOPT_TCP_NODELAY, 1L);  // the default since 7.50.2; one small command at a time
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_BUFFERSIZE, receive_buffer_bytes);
    set(CURLOPT_HEADERFUNCTION, &impl::on_header);
    set(CURLOPT_HEADERDATA, this);
    set(CURLOPT_WRITEFUNCTION, &impl::on_write);
    set(CURLOPT_WRITEDATA, this);
    set(CURLOPT_READFUNCTION, &impl::on_read);
    set(CURLOPT_READDATA, this);
    if (opt.verbose) {
      // Never CURLOPT_VERBOSE alone: libcurl's own trace shows the LOGIN line.
      set(CURLOPT_DEBUGFUNCTION, &impl::on_debug);
      set(CURLOPT_DEBUGDATA, this);
      set(CURLOPT_VERBOSE, 1L);
    }
  }

  // libcurl hands every server line to the header callback (pingpong protocols treat
  // response lines as headers), untagged and tagged, including those of custom requests.
  static size_t on_header(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<impl*>(self_ptr);
    const size_t len = size * n;
    self->response.append(data, len);
    if (self->body != nullptr && len > 4 && data[len - 1] == '\n') {
      // "* 3 FETCH (UID 40 BODY[] {2048}": size the body once instead of growing it.
      const std::string_view line(data, len);
      const auto open = line.rfind('{');
      const auto close = line.rfind('}');
      if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
        std::size_t announced = 0;
        for (auto i = open + 1; i < close; ++i)
          announced = announced * 10 + static_cast<std::size_t>(line[i] - '0');
        if (self->opt.max_message_bytes != 0 && announced > self->opt.max_message_bytes) {
          self->oversized = true;
          return 0;
        }
        self->body->reserve(announced);
      }
    }
    return len;
  }

  static size_t on_write(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<impl*>(self_ptr);
    const size_t len = size * n;
    // Custom requests also write their untagged lines here; on_header already has them.
    if (self->body == nullptr) return len;
    if (self->opt.max_message_bytes != 0 &&
        self->body->size() + len > self->opt.max_message_bytes) {
      self->oversized = true;
      return 0;
    }
    self->body->append(data, len);
    return len;
  }

  static size_t on_read(char* buffer, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<impl*>(self_ptr);
    const size_t len = std::min(size * n, self->upload.size() - self->upload_pos);
    std::copy_n(self->upload.data() + self->upload_pos, len, buffer);
    self->upload_pos += len;
    return len;
  }

  static int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* self_ptr) {
    auto* self = static_cast<impl*>(self_ptr);
    std::string_view text(data, size);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    switch (type) {
      case CURLINFO_TEXT:
        self->emit("* " + std::string(text));
        break;
      case CURLINFO_HEADER_IN:
        self->emit("< " + std::string(text));
        break;
      case CURLINFO_HEADER_OUT:
        self->emit("> " + detail::redact_command(text));
        break;
      case CURLINFO_DATA_IN:
        self->emit("< [" + std::to_string(size) + " octets of message data]");
        break;
      case CURLINFO_DATA_OUT:
        self->emit("> [" + std::to_string(size) + " octets of message data]");
        break;
      default:  // TLS records
        break;
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

  // One command. `custom` null: libcurl's own command for the URL (FETCH, APPEND).
  void run(const std::string& url, const char* custom, const std::string& what) {
    response.clear();
    errbuf[0] = '\0';
    oversized = false;
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_CUSTOMREQUEST, custom);
    const CURLcode rc = curl_easy_perform(h.get());
    if (rc != CURLE_OK) throw failure(what, rc);
  }

  void run(const std::string& url, const std::string& custom, const std::string& what) {
    run(url, custom.c_str(), what);
  }

  error failure(const std::string& what, CURLcode rc) const {
    const std::string buf(errbuf.data());
    const std::string cause = buf.empty() ? curl_easy_strerror(rc) : buf;
    const std::string with_code = cause + " (" + std::to_string(static_cast<int>(rc)) + ")";
    const std::string tagged = detail::last_refusal(response);
    const std::string rcode = detail::response_code(tagged);
    // RFC 5530: the server says itself that the failure is temporary.
    const bool server_transient = rcode == "UNAVAILABLE" || rcode == "INUSE";
    const auto server_said = [&] {
      return tagged.empty() ? std::string{} : "; server said: " + tagged;
    };
    const std::string prefix = "imap: cannot " + what + ": ";
    if (oversized)
      return error(prefix + "the message is larger than the limit of " +
                       std::to_string(opt.max_message_bytes) + " octets",
                   static_cast<int>(rc), false);
    // libcurl reports a NO or BAD to a custom command as CURLE_QUOTE_ERROR with no text, and
    // a failed SELECT of its own as CURLE_LOGIN_DENIED with "Select failed": both are the
    // server refusing a command, for which the interface says code 0.
    if (rc == CURLE_QUOTE_ERROR || (rc == CURLE_LOGIN_DENIED && buf.starts_with("Select failed")))
      return error(prefix + (tagged.empty() ? with_code : tagged), 0, server_transient);
    if (rc == CURLE_LOGIN_DENIED)
      return error(prefix + "login as " + opt.username + " at " + base_url +
                       " failed: " + with_code + server_said(),
                   static_cast<int>(rc), server_transient);
    if (detail::is_certificate_failure(rc))
      return error(prefix + "the TLS certificate of " + host + " is not trusted: " + with_code,
                   static_cast<int>(rc), false);
    if (rc == CURLE_USE_SSL_FAILED)
      return error(prefix + host +
                       " does not offer STARTTLS, and plain IMAP is not allowed "
                       "(use imaps:// or allow plaintext): " +
                       with_code,
                   static_cast<int>(rc), false);
    return error(prefix + with_code + server_said(), static_cast<int>(rc),
                 detail::is_transient(rc) || server_transient);
  }

  void require_selected(const char* verb) const {
    if (folder_url.empty())
      throw error("imap: cannot "s + verb + ": no folder is selected", 0, false);
  }

  const std::vector<std::string>& capabilities() {
    if (!caps) {
      run(base_url, "CAPABILITY", "CAPABILITY at " + base_url);
      caps = detail::parse_capabilities(response);
    }
    return *caps;
  }

  bool has(std::string_view name) {
    const auto& c = capabilities();
    return std::binary_search(c.begin(), c.end(), std::string(name));
  }

  bool exists(const std::string& name) {
    // LIST, not a CREATE that may fail: libcurl closes the connection after any NO, and the
    // next command would log in again.
    run(base_url, "LIST \"\" " + detail::quoted(name), "LIST " + name);
    const auto names = detail::parse_list(response);
    return std::find(names.begin(), names.end(), name) != names.end();
  }

  bool create_folder(const std::string& name) {
    if (exists(name)) return false;
    try {
      run(base_url, "CREATE " + detail::quoted(name), "CREATE " + name);
    } catch (const error& e) {
      // Created by someone else since the LIST (RFC 5530 ALREADYEXISTS).
      if (e.code() == 0 && detail::response_code(detail::last_refusal(response)) == "ALREADYEXISTS")
        return false;
      throw;
    }
    return true;
  }

  void ensure_folder(const std::string& name) {
    if (std::find(known_folders.begin(), known_folders.end(), name) != known_folders.end()) return;
    create_folder(name);
    known_folders.push_back(name);
  }

  void store(std::span<const std::uint32_t> uids, const char* op,
             const std::vector<std::string>& flags) {
    require_selected("UID STORE");
    if (uids.empty() || flags.empty()) return;
    const auto list = detail::flag_list(flags);
    for (const auto& s : detail::uid_sets(uids)) {
      run(folder_url, "UID STORE " + s + " " + op + " " + list,
          "UID STORE " + detail::brief(s) + " " + op + " " + list + " in " + folder);
    }
  }
};

curl_mailbox::curl_mailbox(connection_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}
curl_mailbox::~curl_mailbox() = default;

folder_state curl_mailbox::select(const std::string& folder) {
  auto& m = *impl_;
  // On the folder's URL, so libcurl's idea of the selected mailbox (which it uses to decide
  // whether its FETCH needs a SELECT first) always matches the server's. When libcurl thinks
  // another folder is selected it sends its own SELECT first; ours comes last and wins.
  m.run(m.base_url + detail::url_path(folder), "SELECT " + detail::quoted(folder),
        "SELECT " + folder);
  const auto st = detail::parse_select(m.response);
  if (st.uidvalidity == 0)
    throw error("imap: cannot SELECT " + folder + ": the server sent no UIDVALIDITY", 0, false);
  m.folder = folder;
  m.st = st;
  m.folder_url =
      m.base_url + detail::url_path(folder) + ";UIDVALIDITY=" + std::to_string(st.uidvalidity);
  return st;
}

std::vector<message_ref> curl_mailbox::search(const std::vector<std::string>& exclude_keywords) {
  auto& m = *impl_;
  m.require_selected("UID SEARCH");
  std::string criteria;
  for (const auto& k : exclude_keywords) criteria += " NOT KEYWORD " + detail::checked_flag(k);

  // Dovecot adds mail delivered since the last command to the session's view only when a
  // command ends, so a SEARCH alone would miss it: a NOOP first lets it in (RFC 3501 §6.1.2).
  m.run(m.folder_url, "NOOP", "NOOP in " + m.folder);
  if (const auto now = detail::parse_select(m.response); now.exists != 0) m.st.exists = now.exists;

  // In UID ranges, so no single SEARCH answer outgrows libcurl's limits.
  std::vector<std::uint32_t> uids;
  const std::uint32_t last = m.st.uidnext > 1 ? m.st.uidnext - 1 : 0;
  for (std::uint32_t lo = 1;; lo += search_uid_step) {
    const bool final_range = last < search_uid_step || lo > last - search_uid_step;
    const auto range =
        std::to_string(lo) + ":" + (final_range ? "*" : std::to_string(lo + search_uid_step - 1));
    m.run(m.folder_url, "UID SEARCH UID " + range + criteria,
          "UID SEARCH UID " + range + criteria + " in " + m.folder);
    const auto before = uids.size();
    detail::parse_search(m.response, uids);
    // RFC 3501 §6.4.8: "lo:*" with lo above the highest UID still matches the highest UID.
    uids.erase(std::remove_if(uids.begin() + static_cast<std::ptrdiff_t>(before), uids.end(),
                              [lo](std::uint32_t u) { return u < lo; }),
               uids.end());
    if (final_range) break;
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());

  std::vector<message_ref> refs;
  refs.reserve(uids.size());
  for (const auto& s : detail::uid_sets(uids, detail::max_set_chars, fetch_meta_uids)) {
    m.run(m.folder_url, "UID FETCH " + s + " (UID RFC822.SIZE FLAGS)",
          "UID FETCH " + detail::brief(s) + " (RFC822.SIZE FLAGS) from " + m.folder);
    detail::parse_fetch_meta(m.response, refs);
  }
  // Keep what SEARCH found (a message expunged in between has no FETCH line), once, in order.
  std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
  refs.erase(std::unique(refs.begin(), refs.end(),
                         [](const auto& a, const auto& b) { return a.uid == b.uid; }),
             refs.end());
  std::erase_if(refs, [&](const message_ref& r) {
    return !std::binary_search(uids.begin(), uids.end(), r.uid);
  });
  return refs;
}

std::string curl_mailbox::fetch(std::uint32_t uid) {
  auto& m = *impl_;
  m.require_selected("UID FETCH");
  std::string out;
  m.body = &out;
  struct reset_body {
    impl& m;
    ~reset_body() { m.body = nullptr; }
  } guard{m};
  // RFC 5092 URL form: libcurl sends UID FETCH n BODY[] and hands us the literal.
  const std::string url = m.folder_url + "/;UID=" + std::to_string(uid);
  const std::string what = "UID FETCH " + std::to_string(uid) + " from " + m.folder;
  try {
    m.run(url, nullptr, what);
  } catch (const error& e) {
    // libcurl 7.88 (Debian 12) counts response lines against its 300 KiB header cap per
    // connection rather than per command, so a message with a huge header block can fail
    // once other messages were fetched on the same connection, while it fetches fine on a
    // fresh one. Retry once on a new connection; a second failure is this message's own.
    if (std::string_view(e.what()).find("Too large response headers") == std::string_view::npos) {
      throw;
    }
    out.clear();
    m.set(CURLOPT_FRESH_CONNECT, 1L);
    struct reset_fresh {
      impl& m;
      ~reset_fresh() { curl_easy_setopt(m.h.get(), CURLOPT_FRESH_CONNECT, 0L); }
    } fresh{m};
    try {
      m.run(url, nullptr, what);
    } catch (const error& again) {
      // Not the connection's fault: a non-transient error, so the collector counts an attempt
      // for this message and quarantines it instead of stopping every pass at this UID.
      throw error(again.what(), again.code(), false);
    }
  }
  return out;
}

void curl_mailbox::add_flags(std::span<const std::uint32_t> uids,
                             const std::vector<std::string>& flags) {
  impl_->store(uids, "+FLAGS.SILENT", flags);
}

void curl_mailbox::remove_flags(std::span<const std::uint32_t> uids,
                                const std::vector<std::string>& flags) {
  impl_->store(uids, "-FLAGS.SILENT", flags);
}

void curl_mailbox::move(std::span<const std::uint32_t> uids, const std::string& target) {
  auto& m = *impl_;
  m.require_selected("UID MOVE");
  if (uids.empty()) return;
  const auto quoted_target = detail::quoted(target);
  const bool use_move = m.opt.use_move && m.has("MOVE");
  // Without UIDPLUS only a plain EXPUNGE is left, and that also removes mail other clients
  // marked \Deleted: refuse rather than lose someone else's mail.
  if (!use_move && !m.has("UIDPLUS"))
    throw error("imap: cannot move messages from " + m.folder + " to " + target + ": " + m.host +
                    " offers neither MOVE nor UIDPLUS, and a plain EXPUNGE would remove other "
                    "clients' deleted mail",
                0, false);
  m.ensure_folder(target);
  for (const auto& s : detail::uid_sets(uids, detail::max_set_chars, expunge_uids)) {
    const auto where = detail::brief(s) + " to " + target + " from " + m.folder;
    if (use_move) {
      m.run(m.folder_url, "UID MOVE " + s + " " + quoted_target, "UID MOVE " + where);  // RFC 6851
    } else {
      m.run(m.folder_url, "UID COPY " + s + " " + quoted_target, "UID COPY " + where);
      m.run(m.folder_url, "UID STORE " + s + " +FLAGS.SILENT (\\Deleted)",
            "UID STORE " + detail::brief(s) + " +FLAGS.SILENT (\\Deleted) in " + m.folder);
      m.run(m.folder_url, "UID EXPUNGE " + s,  // RFC 4315 §2.1: only these UIDs
            "UID EXPUNGE " + detail::brief(s) + " in " + m.folder);
    }
  }
}

const std::vector<std::string>& curl_mailbox::capabilities() { return impl_->capabilities(); }

bool curl_mailbox::has_capability(std::string_view name) {
  std::string upper(name);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return impl_->has(upper);
}

bool curl_mailbox::create_folder(const std::string& folder) {
  const bool created = impl_->create_folder(folder);
  impl_->known_folders.push_back(folder);
  return created;
}

void curl_mailbox::delete_folder(const std::string& folder) {
  auto& m = *impl_;
  m.run(m.base_url, "DELETE " + detail::quoted(folder), "DELETE " + folder);
  std::erase(m.known_folders, folder);
}

std::uint32_t curl_mailbox::append(const std::string& folder, std::string_view raw,
                                   const std::vector<std::string>& flags) {
  auto& m = *impl_;
  const auto list = detail::flag_list(flags);  // checked before anything is sent
  {
    m.upload = raw;
    m.upload_pos = 0;
    m.set(CURLOPT_UPLOAD, 1L);
    m.set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
    struct reset_upload {
      impl& m;
      ~reset_upload() {
        curl_easy_setopt(m.h.get(), CURLOPT_UPLOAD, 0L);
        m.upload = {};
      }
    } guard{m};
    m.run(m.base_url + detail::url_path(folder), nullptr, "APPEND to " + folder);
  }
  const auto uid = detail::appended_uid(detail::last_tagged(m.response));
  if (flags.size() == 1 && flags.front() == "\\Seen") return uid.value_or(0);
  if (!uid)
    throw error("imap: cannot set the flags of the message appended to " + folder +
                    ": the server did not return its UID (no UIDPLUS)",
                0, false);
  // libcurl (before 8.13) always appends with \Seen; replace the flags with the asked ones.
  // On the folder's URL, so libcurl selects it first and keeps track of the selection.
  m.run(m.base_url + detail::url_path(folder),
        "UID STORE " + std::to_string(*uid) + " FLAGS.SILENT " + list,
        "UID STORE " + std::to_string(*uid) + " FLAGS.SILENT " + list + " in " + folder);
  return *uid;
}

const std::string& curl_mailbox::folder() const noexcept { return impl_->folder; }
const folder_state& curl_mailbox::state() const noexcept { return impl_->st; }

}  // namespace tlsrpt::imap
