// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/collector/intake.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "tlsrpt/collector/detail.hpp"

namespace tlsrpt::collector {

struct intake::impl {
  struct pending {
    store::message_input in;
    std::promise<store::message_result> done;
  };

  open_store_fn open_store;
  options opts;
  std::shared_ptr<spdlog::logger> log;
  observer* events;

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<pending*> queue;
  bool stopping = false;
  std::thread writer;  // last: started once everything above exists

  impl(open_store_fn o, options op, std::shared_ptr<spdlog::logger> l, observer* ev)
      : open_store(std::move(o)),
        opts(std::move(op)),
        log(detail::logger_or_default(l)),
        events(ev),
        writer([this] { run(); }) {}

  void run() noexcept {
    std::unique_ptr<store::report_store> st;
    std::vector<pending*> group;
    std::vector<store::message_input> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, nothing left
        const std::size_t n = std::min(queue.size(), std::max<std::size_t>(1, opts.max_batch));
        group.assign(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
        queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
      }
      batch.clear();
      for (pending* p : group) batch.push_back(std::move(p->in));
      try {
        if (!st) st = open_store();
        std::vector<store::message_result> results = st->write(batch);
        if (results.size() != batch.size()) {
          throw store::error(fmt::format("store: write returned {} results for {} messages",
                                         results.size(), batch.size()),
                             "", false);
        }
        for (std::size_t i = 0; i < group.size(); ++i) {
          group[i]->in = std::move(batch[i]);
          group[i]->done.set_value(std::move(results[i]));
        }
      } catch (...) {
        const std::exception_ptr e = std::current_exception();
        try {
          throw;
        } catch (const store::error& se) {
          if (events != nullptr) events->on_store_error({store_error_kind(se), se.sqlstate()});
        } catch (...) {
          if (events != nullptr) events->on_store_error({"error", ""});
        }
        st.reset();  // reconnect for the next batch
        for (std::size_t i = 0; i < group.size(); ++i) {
          group[i]->in = std::move(batch[i]);
          group[i]->done.set_exception(e);
        }
      }
    }
  }
};

intake::intake(open_store_fn open_store, options opts, std::shared_ptr<spdlog::logger> log,
               observer* events)
    : impl_(
          std::make_unique<impl>(std::move(open_store), std::move(opts), std::move(log), events)) {}

intake::~intake() {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->writer.join();
}

ingest_result intake::submit(std::string_view raw, store::message_key key) {
  impl::pending p;
  p.in = process_any(raw, std::move(key), impl_->opts.limits);
  std::future<store::message_result> done = p.done.get_future();
  {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) {
      throw store::error("store: cannot write the message: the intake is shutting down", "", true);
    }
    impl_->queue.push_back(&p);
  }
  impl_->wake.notify_one();
  const store::message_result r = done.get();  // rethrows the batch's store::error
  return detail::finish_ingest(p.in, r, *impl_->log, impl_->events);
}

}  // namespace tlsrpt::collector
