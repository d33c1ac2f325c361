// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/http/receiver.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "tlsrpt/collector/intake.hpp"

namespace tlsrpt::http {

std::string media_type(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  std::string out(t);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool report_media_type(std::string_view type) {
  static constexpr std::array<std::string_view, 9> accepted = {"application/tlsrpt+gzip",
                                                               "application/tlsrpt+json",
                                                               "",
                                                               "application/json",
                                                               "application/gzip",
                                                               "application/x-gzip",
                                                               "application/octet-stream",
                                                               "text/plain",
                                                               "text/json"};
  return std::find(accepted.begin(), accepted.end(), type) != accepted.end();
}

std::string one_line(std::string_view text, std::size_t max) {
  std::string out;
  for (const char ch : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    out += c < 0x20 || c == 0x7f ? ' ' : ch;
  }
  return out;
}

void add_report_receiver(server& s, collector::intake& in, const receiver_options& opts) {
  precheck check = [](const request& rq) -> std::optional<response> {
    const std::string type = media_type(rq.header("Content-Type").value_or(""));
    if (!report_media_type(type)) {
      return response::text(
          415, "unsupported media type \"" + one_line(type, 100) +
                   "\": send application/tlsrpt+gzip or application/tlsrpt+json (RFC 8460)");
    }
    // The body is sniffed for gzip anyway; an encoding we cannot undo is refused here.
    const std::string enc = media_type(rq.header("Content-Encoding").value_or(""));
    if (!enc.empty() && enc != "identity" && enc != "gzip" && enc != "x-gzip") {
      return response::text(415, "unsupported content encoding \"" + one_line(enc, 100) + "\"");
    }
    return std::nullopt;
  };
  const auto retry = std::to_string(opts.retry_after.count());
  handler h = [&in, retry](const request& rq) {
    store::message_key key;
    key.source = "https";
    key.folder = std::string(rq.peer);
    collector::ingest_result r;
    try {
      r = in.submit(rq.body, std::move(key));
    } catch (const store::error& e) {
      // Nothing of this report was written: the sender keeps it and retries (RFC 8460 §3).
      response busy = response::text(503, "database unavailable; retry later");
      busy.headers.emplace_back("Retry-After", retry);
      (void)e;
      return busy;
    }
    std::string ids;
    for (const auto& n : r.report_names) ids += " " + one_line(n, 200);
    switch (r.result) {
      case store::outcome::stored:
        return response::text(200, "stored" + ids);
      case store::outcome::duplicate:
        return response::text(200, "duplicate" + ids);
      case store::outcome::conflict:
        return response::text(200, "conflict" + ids);
      case store::outcome::not_a_report:
        return response::text(400, "not a report: " + one_line(r.error));
      case store::outcome::rejected:
        return response::text(400, "rejected: " + one_line(r.error));
      case store::outcome::skipped:
        return response::text(413, "too large: " + one_line(r.error));
    }
    return response::text(500, "internal error");
  };
  s.post(opts.path, std::move(h), std::move(check));
}

}  // namespace tlsrpt::http
