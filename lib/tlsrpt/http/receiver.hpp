// SPDX-License-Identifier: Apache-2.0
// RFC 8460 §3: reports POSTed over HTTPS. They go through the same intake as every other
// source (collector::intake: extraction, parsing, store, ledger), recorded with source
// `https`, the client's address as the ledger's folder and the digest of the body as its
// sha256, so a retried POST is a duplicate and never counted twice.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tlsrpt/http/server.hpp"

namespace tlsrpt::collector {
class intake;
}

namespace tlsrpt::http {

// The media type of a Content-Type value: lower-cased, parameters and blanks dropped.
std::string media_type(std::string_view content_type);

// Whether a POST labelled with this media type may carry a report. RFC 8460 §3 names
// application/tlsrpt+gzip and application/tlsrpt+json; senders also label them as plain JSON,
// gzip or octet streams, or not at all. The body decides what it is, whatever the label says
// (the intake sniffs gzip and JSON): only labels that cannot be a report are refused (415).
bool report_media_type(std::string_view media_type);

// One line, safe to send back and to log: control characters replaced, at most `max` bytes.
std::string one_line(std::string_view text, std::size_t max = 300);

struct receiver_options {
  std::string path = "/tlsrpt";
  std::chrono::seconds retry_after{60};  // told to senders when the database is down
};

// Registers POST <path> on the server. `in` must outlive the server.
void add_report_receiver(server& s, collector::intake& in, const receiver_options& opts = {});

}  // namespace tlsrpt::http
