// SPDX-License-Identifier: Apache-2.0
// Versioned schema migrations: numbered SQL files applied in order, each in a transaction,
// under an advisory lock, recorded with their SHA-256 in tlsrpt.schema_migrations.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "tlsrpt/store/pg_store.hpp"
#include "tlsrpt/store/pq_detail.hpp"

namespace tlsrpt::store {
namespace {

// pg_advisory_lock key of the migrator: "8460" (the RFC) and "0001" (the migrator).
constexpr long long migration_lock_key = 84600001;

std::optional<std::filesystem::path> executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return exe.parent_path();
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw error("store: cannot read migration " + p.string(), "", false);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has_migrations(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return false;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".sql" && !name.empty() &&
        std::isdigit(static_cast<unsigned char>(name[0])) != 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::filesystem::path> migration_dirs() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("TLSRPT_MIGRATIONS_DIR"); env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
  }
  // Relative to the binary only: an absolute path fixed at configure time would point outside
  // a relocated (or DESTDIR-staged) tree, or at another installation's copy.
  if (const auto exe = executable_dir()) {
    dirs.push_back((*exe / TLSRPT_MIGRATIONS_FROM_BINDIR).lexically_normal());
  }
  dirs.emplace_back(TLSRPT_MIGRATIONS_SOURCE_DIR);
  return dirs;
}

std::filesystem::path find_migrations_dir() {
  std::string tried;
  for (const auto& dir : migration_dirs()) {
    if (has_migrations(dir)) return dir;
    tried += (tried.empty() ? "" : ", ") + dir.string();
  }
  throw error("store: cannot find the schema migrations (looked in " + tried +
                  "; set TLSRPT_MIGRATIONS_DIR)",
              "", false);
}

std::vector<migration> load_migrations(const std::filesystem::path& dir) {
  std::vector<migration> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".sql") continue;
    const std::string name = entry.path().filename().string();
    std::size_t digits = 0;
    while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits])) != 0) {
      ++digits;
    }
    if (digits == 0 || digits > 6 || digits >= name.size() || name[digits] != '_') {
      throw error("store: cannot use migration " + entry.path().string() +
                      ": the name must be NNNN_description.sql",
                  "", false);
    }
    migration m;
    m.version = std::stoi(name.substr(0, digits));
    m.name = name;
    m.path = entry.path();
    m.checksum = sha256_hex(read_bytes(entry.path()));
    out.push_back(std::move(m));
  }
  if (ec)
    throw error("store: cannot list migrations in " + dir.string() + ": " + ec.message(), "",
                false);
  std::sort(out.begin(), out.end(),
            [](const migration& a, const migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw error("store: cannot use migrations " + out[i - 1].name + " and " + out[i].name +
                      ": both have version " + std::to_string(out[i].version),
                  "", false);
    }
  }
  return out;
}

std::vector<migration> migrate(const std::string& url, const migrate_options& options) {
  const auto dir = options.dir ? *options.dir : find_migrations_dir();
  auto files = load_migrations(dir);
  if (options.up_to) {
    std::erase_if(files, [&](const migration& m) { return m.version > *options.up_to; });
  }
  std::vector<migration> applied_now;
  std::string statement = "connect";
  try {
    pqxx::connection c(url);
    {
      pqxx::nontransaction tx(c, "migrate_lock");
      // CREATE ... IF NOT EXISTS says "already exists, skipping" as a NOTICE on every run.
      tx.exec("SET client_min_messages = warning");
      statement = "pg_advisory_lock";
      // Session-level: held across the per-migration transactions, released on disconnect.
      tx.exec("SELECT pg_advisory_lock(" + std::to_string(migration_lock_key) + ")");
    }
    {
      statement = "create schema_migrations";
      pqxx::work tx(c, "migrate_bootstrap");
      tx.exec(
          "CREATE SCHEMA IF NOT EXISTS tlsrpt;"
          "CREATE TABLE IF NOT EXISTS tlsrpt.schema_migrations ("
          "  version    integer PRIMARY KEY,"
          "  name       text NOT NULL,"
          "  checksum   text NOT NULL,"
          "  applied_at timestamptz NOT NULL DEFAULT now())");
      tx.commit();
    }
    std::map<int, std::pair<std::string, std::string>> applied;  // version -> name, checksum
    {
      statement = "read schema_migrations";
      pqxx::read_transaction tx(c, "migrate_read");
      for (const auto& row :
           tx.exec("SELECT version, name, checksum FROM tlsrpt.schema_migrations")) {
        applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
      }
    }
    for (const auto& [version, entry] : applied) {
      const auto it = std::find_if(files.begin(), files.end(),
                                   [&](const migration& m) { return m.version == version; });
      if (it == files.end()) {
        if (options.up_to && version > *options.up_to) continue;
        throw error("store: cannot migrate: the database has migration " + entry.first +
                        " which this program does not have (it is newer than the program; "
                        "looked in " +
                        dir.string() + ")",
                    "", false, "migration " + entry.first);
      }
      if (it->checksum != entry.second) {
        throw error("store: cannot migrate: migration " + it->name +
                        " was changed after it was applied (recorded SHA-256 " + entry.second +
                        ", file " + it->path.string() + " has " + it->checksum +
                        "); restore the file, never edit an applied migration",
                    "", false, "migration " + it->name);
      }
    }
    for (const auto& m : files) {
      if (applied.count(m.version) != 0) continue;
      statement = "migration " + m.name;
      pqxx::work tx(c, "migrate");
      tx.exec(read_bytes(m.path));
      tx.exec_params(
          "INSERT INTO tlsrpt.schema_migrations (version, name, checksum) "
          "VALUES ($1, $2, $3)",
          m.version, m.name, m.checksum);
      tx.commit();
      applied_now.push_back(m);
    }
    pqxx::nontransaction tx(c, "migrate_unlock");
    tx.exec("SELECT pg_advisory_unlock(" + std::to_string(migration_lock_key) + ")");
  } catch (...) {
    detail::rethrow("migrate the schema", statement);
  }
  return applied_now;
}

}  // namespace tlsrpt::store
