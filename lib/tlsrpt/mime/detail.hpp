// Internals shared by the mime module's sources. No third-party type here either.
#pragma once

#include <string>
#include <string_view>

namespace tlsrpt::mime::detail {

// Initialises GMime once for the process when no `library` guard is alive.
void ensure_initialised();

// What the first bytes of decoded content look like (after an optional BOM and whitespace for
// JSON). Senders' declared types are not trusted: the bytes decide (issue 4).
enum class sniffed { gzip, json, zip, other };
sniffed sniff(std::string_view bytes) noexcept;

// gunzip() with the object named in errors ("report part \"x.json.gz\"").
std::string inflate_gzip(std::string_view gz, std::size_t max_bytes, const std::string& object);

}  // namespace tlsrpt::mime::detail
