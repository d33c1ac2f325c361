// SPDX-License-Identifier: Apache-2.0
// GMime's process-wide state. g_mime_init() is not thread-safe and g_mime_shutdown() frees
// caches every parser uses, so both go through one mutex and a reference count.
#include <gmime/gmime.h>

#include <atomic>
#include <mutex>

#include "tlsrpt/mime/detail.hpp"
#include "tlsrpt/mime/extract.hpp"

namespace tlsrpt::mime {
namespace {

std::mutex init_mutex;
int guards = 0;                  // live `library` objects
bool pinned = false;             // initialised by ensure_initialised(): never shut down
std::atomic<bool> ready{false};  // GMime is initialised

}  // namespace

library::library() {
  const std::lock_guard<std::mutex> lock(init_mutex);
  if (guards++ == 0 && !ready.load(std::memory_order_relaxed)) {
    g_mime_init();
    ready.store(true, std::memory_order_release);
  }
}

library::~library() {
  const std::lock_guard<std::mutex> lock(init_mutex);
  if (--guards == 0 && !pinned) {
    g_mime_shutdown();
    ready.store(false, std::memory_order_release);
  }
}

namespace detail {

void ensure_initialised() {
  if (ready.load(std::memory_order_acquire)) return;
  const std::lock_guard<std::mutex> lock(init_mutex);
  if (!ready.load(std::memory_order_relaxed)) {
    g_mime_init();
    pinned = true;
    ready.store(true, std::memory_order_release);
  }
}

}  // namespace detail
}  // namespace tlsrpt::mime
