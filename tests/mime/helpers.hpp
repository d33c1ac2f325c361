// SPDX-License-Identifier: Apache-2.0
// Building blocks for the mime tests: gzip, base64 and report mail made around a JSON body.
#pragma once

#include <string>
#include <string_view>

namespace tlsrpt::test::mime {

std::string gzip(std::string_view data, int level = 6);
std::string base64(std::string_view data, std::size_t line = 76);
// A multipart/report; report-type=tlsrpt message whose second part carries `body` (already
// transfer-encoded as `cte`) with the given Content-Type line value and filename.
std::string report_mail(std::string_view content_type, std::string_view filename,
                        std::string_view cte, std::string_view body);
// A small valid report (the JSON), with a distinct report-id.
std::string sample_json(std::string_view report_id);

}  // namespace tlsrpt::test::mime

namespace tlsrpt::mime {
struct extraction;
struct limits;
}  // namespace tlsrpt::mime

namespace tlsrpt::test::mime {

// tlsrpt::mime::extract(), after checking that GMime's walker alone gives exactly the same
// extraction (the fast walker must never change a result, only its cost).
tlsrpt::mime::extraction extract(std::string_view message);
tlsrpt::mime::extraction extract(std::string_view message, const tlsrpt::mime::limits& lim);
// Whether the fast walker handled `message` by itself (no GMime fallback).
bool fast_path_taken(std::string_view message);

}  // namespace tlsrpt::test::mime
