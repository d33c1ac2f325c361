// SPDX-License-Identifier: Apache-2.0
// Internals shared by the mime module's sources. No third-party type here either.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/mime/extract.hpp"

namespace tlsrpt::mime::detail {

// Initialises GMime once for the process when no `library` guard is alive.
void ensure_initialised();

// What the first bytes of decoded content look like (after an optional BOM and whitespace for
// JSON). Senders' declared types are not trusted: the bytes decide (issue 4).
enum class sniffed { gzip, json, zip, other };
sniffed sniff(std::string_view bytes) noexcept;

// gunzip() with the object named in errors ("report part \"x.json.gz\"").
std::string inflate_gzip(std::string_view gz, std::size_t max_bytes, const std::string& object);

// Transfer encodings the extractor undoes itself (with GMime's decoders).
enum class transfer { none, base64, quoted_printable, uuencode };

// Undoes a transfer encoding with GMime's streaming decoders, straight from `raw` into the
// result (GMime's decoders skip what is not base64, so odd line lengths and stray whitespace
// from Google decode as intended).
std::string decode_transfer(std::string_view raw, transfer t);

// The facts of one leaf part that decide whether and how it is a report, whichever MIME parser
// found it. `content` is the raw (still transfer-encoded) body.
struct leaf_part {
  std::string type;  // lowercased "type/subtype"
  std::optional<std::string> filename;
  std::string transfer_encoding;  // lowercased name, "" if none
  transfer decode = transfer::none;
  std::string_view content;
  bool empty = false;  // GMime gave the part no content at all
};

// Decides, for each leaf part in document order, whether it is a report (RFC 8460 §5.3 and the
// quirks of issue 4), and turns the collected facts into one outcome. Both MIME walkers (GMime's
// and the fast one) feed it, so they can only differ in the parts they see.
class report_collector {
 public:
  report_collector(const limits& lim, bool whole_body) : lim_(lim), whole_body_(whole_body) {}

  bool stopped() const noexcept { return broken_.has_value(); }
  void multipart_seen(bool tlsrpt_report) noexcept { tlsrpt_report_seen_ |= tlsrpt_report; }
  void ignore(std::string why) { ignored_.push_back(std::move(why)); }
  // `whole_body` is the top-level part of a message with TLS-Report-Domain.
  void leaf(const leaf_part& p, bool in_report, bool first_in_report, bool whole_body);
  // Sets kind, reports and reason; `top_type` is the top-level part's lowercased type.
  void finish(extraction& x, const std::string& top_type);

  bool whole_body() const noexcept { return whole_body_; }

 private:
  const limits& lim_;
  bool whole_body_;
  std::vector<found_report> reports_;
  std::optional<std::string> broken_;  // the first undecodable declared report part
  std::vector<std::string> ignored_;   // why candidate-looking parts were not reports
  bool tlsrpt_report_seen_ = false;    // a multipart/report; report-type=tlsrpt was met
  int leaf_index_ = 0;
};

// The fast MIME walker: handles the well-formed common case of report mail without building any
// GMime object. Returns false, having touched nothing in `c`'s outcome that matters (the caller
// throws `c` away), whenever the body holds anything it does not fully understand; the caller
// then runs GMime's parser. `content_type` and `transfer_encoding` are the raw top-level header
// values (data() == nullptr when absent). On success `top_type` is the top-level type.
bool fast_walk(std::string_view content_type, std::string_view transfer_encoding,
               std::string_view body, report_collector& c, std::string& top_type);

// A cheap upper bound on how deeply GMime's parser would recurse into `message` (multipart and
// message/* levels), scanning at most until the bound exceeds `limit`. GMime's parser recurses
// once per level, so a message of 100,000 nested multiparts would exhaust the stack.
bool nesting_exceeds(std::string_view message, std::size_t limit);

// The MIME depth GMime is trusted with, and the depth the GMime walker follows.
inline constexpr std::size_t max_mime_depth = 64;

// Which MIME walker extract() uses; tests compare the two.
enum class walker_choice { fast_or_gmime, gmime_only, fast_only };
// extract() with a chosen walker; nullopt only for fast_only when the fast walker gave up.
std::optional<extraction> extract_with(std::string_view message, const limits& lim,
                                       walker_choice choice);

}  // namespace tlsrpt::mime::detail
