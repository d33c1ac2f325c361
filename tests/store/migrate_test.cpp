// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "store/fixtures.hpp"
#include "support/support.hpp"

namespace st = tlsrpt::store;
using tlsrpt::test::scratch_database;
using tlsrpt::test::store::count;
using tlsrpt::test::store::query1;

namespace {

std::filesystem::path copy_migrations(const std::string& tag) {
  const auto dir = std::filesystem::temp_directory_path() / ("tlsrpt-migrations-" + tag);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& e :
       std::filesystem::directory_iterator(tlsrpt::test::source_dir() / "migrations")) {
    std::filesystem::copy_file(e.path(), dir / e.path().filename());
  }
  return dir;
}

std::vector<st::migration> shipped() {
  return st::load_migrations(tlsrpt::test::source_dir() / "migrations");
}

// Versions need not be contiguous: numbers are reserved for work that lands later.
int shipped_version() { return shipped().back().version; }
int shipped_count() { return static_cast<int>(shipped().size()); }

}  // namespace

TEST_CASE("migrations apply from an empty database and create the documented schema") {
  scratch_database db;
  const auto applied = st::migrate(db.url());
  REQUIRE(applied.size() >= 3);
  CHECK(applied.front().name == "0001_init.sql");
  CHECK(applied.back().version == shipped_version());
  for (const char* rel :
       {"reports", "policies", "failure_details", "messages", "conflicts", "schema_migrations",
        "daily_domain_stats", "failure_breakdown", "sts_readiness"}) {
    CHECK_MESSAGE(query1(db.url(), std::string("SELECT to_regclass('tlsrpt.") + rel +
                                       "') IS NOT NULL") == "t",
                  rel);
  }
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.schema_migrations") ==
        static_cast<long long>(applied.size()));
  CHECK(query1(db.url(), "SELECT checksum FROM tlsrpt.schema_migrations WHERE version = 1") ==
        applied.front().checksum);
  // The raw JSON is compressed with lz4 (this server has it).
  CHECK(query1(db.url(),
               "SELECT attcompression FROM pg_attribute WHERE attrelid = "
               "'tlsrpt.reports'::regclass AND attname = 'raw_json'") == "l");
  // Policies and failure details leave with their report although no foreign key says so.
  CHECK(query1(db.url(),
               "SELECT count(*) FROM pg_trigger WHERE tgname = "
               "'reports_delete_report_rows'") == "1");
  // The read-only role exists and may read but not write.
  CHECK(query1(db.url(),
               "SELECT has_table_privilege('tlsrpt_reader', 'tlsrpt.reports', "
               "'SELECT')") == "t");
  CHECK(query1(db.url(),
               "SELECT has_table_privilege('tlsrpt_reader', 'tlsrpt.reports', "
               "'INSERT')") == "f");
  CHECK(query1(db.url(),
               "SELECT has_table_privilege('tlsrpt_reader', "
               "'tlsrpt.daily_domain_stats', 'SELECT')") == "t");
}

TEST_CASE("running the migrations again applies nothing") {
  scratch_database db;
  CHECK_FALSE(st::migrate(db.url()).empty());
  CHECK(st::migrate(db.url()).empty());
  CHECK(st::migrate(db.url()).empty());
}

TEST_CASE("migrations apply from each earlier version") {
  const auto all = shipped();
  const int last = all.back().version;
  for (std::size_t i = 0; i + 1 < all.size(); ++i) {
    const int from = all[i].version;
    CAPTURE(from);
    scratch_database db;
    st::migrate_options partial;
    partial.up_to = from;
    const auto first = st::migrate(db.url(), partial);
    REQUIRE(first.size() == i + 1);
    CHECK(count(db.url(), "SELECT max(version) FROM tlsrpt.schema_migrations") == from);
    const auto rest = st::migrate(db.url());
    REQUIRE(rest.size() == all.size() - i - 1);
    CHECK(rest.front().version == all[i + 1].version);
    CHECK(count(db.url(), "SELECT max(version) FROM tlsrpt.schema_migrations") == last);
  }
}

TEST_CASE("a migration changed after it was applied is refused with a clear error") {
  scratch_database db;
  const auto dir = copy_migrations(db.name());
  st::migrate_options o;
  o.dir = dir;
  REQUIRE_FALSE(st::migrate(db.url(), o).empty());
  tlsrpt::test::write_file(dir / "0001_init.sql",
                           tlsrpt::test::read_file(dir / "0001_init.sql") + "\n-- edited\n");
  try {
    st::migrate(db.url(), o);
    FAIL("an edited migration was accepted");
  } catch (const st::error& e) {
    const std::string what = e.what();
    CHECK(what.find("0001_init.sql") != std::string::npos);
    CHECK(what.find("changed after it was applied") != std::string::npos);
    CHECK_FALSE(e.transient());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a database with a migration the program does not have is refused") {
  scratch_database db;
  st::migrate(db.url());
  const auto dir = copy_migrations(db.name());
  std::filesystem::remove(dir / "0003_reader_role.sql");
  st::migrate_options o;
  o.dir = dir;
  CHECK_THROWS_WITH_AS(st::migrate(db.url(), o), doctest::Contains("newer than the program"),
                       st::error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("concurrent migrations queue on the advisory lock and apply each file once") {
  scratch_database db;
  std::atomic<int> applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        applied += static_cast<int>(st::migrate(db.url()).size());
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(applied == shipped_count());
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.schema_migrations") == shipped_count());
}

TEST_CASE("the migrations directory is found through TLSRPT_MIGRATIONS_DIR first") {
  const auto dir = copy_migrations("env");
  ::setenv("TLSRPT_MIGRATIONS_DIR", dir.c_str(), 1);
  CHECK(st::migration_dirs().front() == dir);
  CHECK(st::find_migrations_dir() == dir);
  ::unsetenv("TLSRPT_MIGRATIONS_DIR");
  // Without it, the source tree's copy is found (after the install locations).
  CHECK(std::filesystem::equivalent(st::find_migrations_dir(),
                                    tlsrpt::test::source_dir() / "migrations"));
  std::filesystem::remove_all(dir);
}
