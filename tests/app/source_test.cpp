// SPDX-License-Identifier: Apache-2.0
// Reading local message sources: mbox splitting, Maildir, directories, limits.
#include <doctest/doctest.h>

#include "cli.hpp"
#include "support/support.hpp"
#include "tlsrpt/source/source.hpp"

using namespace tlsrpt;
using tlsrpt::test::app::scratch_dir;

namespace {
std::vector<source::item> walk(const std::vector<std::string>& in, std::uint64_t max = 1 << 20) {
  std::vector<source::item> out;
  source::options o;
  o.max_size = max;
  source::walk(in, o, [&](source::item&& it) { out.push_back(std::move(it)); });
  return out;
}
}  // namespace

TEST_CASE("an mbox is split on From lines after a blank line and >From is unescaped") {
  const auto m = source::split_mbox(
      "From a@b Thu Jan  1 00:00:00 2026\nSubject: one\n\nbody\n>From me\n>>From you\nFrom "
      "inside a paragraph\n\nFrom c@d Thu Jan  1 00:00:00 2026\nSubject: two\n\nx\n");
  REQUIRE(m.size() == 2);
  CHECK(m[0] == "Subject: one\n\nbody\nFrom me\n>From you\nFrom inside a paragraph\n");
  CHECK(m[1] == "Subject: two\n\nx\n");
  const auto crlf = source::split_mbox("From a\r\nA: 1\r\n\r\nb\r\n\r\nFrom c\r\nB: 2\r\n");
  REQUIRE(crlf.size() == 2);
  CHECK(crlf[0] == "A: 1\r\n\r\nb\r\n");
  CHECK(crlf[1] == "B: 2\r\n");
}

TEST_CASE("a Maildir yields new then cur and skips tmp and index files") {
  const scratch_dir d;
  for (const char* sub : {"cur", "new", "tmp"}) std::filesystem::create_directories(d.path() / sub);
  test::write_file(d.path() / "new" / "b", "new mail");
  test::write_file(d.path() / "cur" / "a", "old mail");
  test::write_file(d.path() / "tmp" / "c", "half written");
  test::write_file(d.path() / "dovecot-uidlist", "index");
  const auto items = walk({d.path().string()});
  REQUIRE(items.size() == 2);
  CHECK(items[0].bytes == "new mail");
  CHECK(items[0].from == source::kind::maildir);
  CHECK(items[1].bytes == "old mail");
}

TEST_CASE("directories are walked recursively in name order, hidden entries skipped") {
  const scratch_dir d;
  std::filesystem::create_directories(d.path() / "z" / "deeper");
  std::filesystem::create_directories(d.path() / ".git");
  test::write_file(d.path() / "b.json", "B");
  test::write_file(d.path() / "a.eml", "A");
  test::write_file(d.path() / "z" / "deeper" / "c.json.gz", "C");
  test::write_file(d.path() / ".git" / "config", "no");
  test::write_file(d.path() / "mail.mbox", "From x\nS: 1\n\nFrom y\nS: 2\n");
  const auto items = walk({d.path().string()});
  REQUIRE(items.size() == 5);
  CHECK(items[0].bytes == "A");
  CHECK(items[1].bytes == "B");
  CHECK(items[2].bytes == "S: 1\n");
  CHECK(items[2].from == source::kind::mbox);
  CHECK(items[2].origin() == (d.path() / "mail.mbox").string() + "#1");
  CHECK(items[3].bytes == "S: 2\n");
  CHECK(items[4].bytes == "C");
}

TEST_CASE("a file over the size limit is reported oversized without its bytes") {
  const scratch_dir d;
  test::write_file(d.path() / "big", std::string(1000, 'x'));
  const auto items = walk({(d.path() / "big").string()}, 999);
  REQUIRE(items.size() == 1);
  CHECK(items[0].oversized);
  CHECK(items[0].bytes.empty());
  CHECK(items[0].size > 999);
  CHECK_FALSE(walk({(d.path() / "big").string()}, 1000)[0].oversized);
}

TEST_CASE("a missing input is an error naming it") {
  CHECK_THROWS_WITH_AS(walk({"/nonexistent/x.eml"}),
                       "source: cannot read /nonexistent/x.eml: No such file or directory",
                       source::error);
}
