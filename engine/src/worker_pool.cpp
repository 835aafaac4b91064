#include "worker_pool.h"

namespace rnnad::detail {

WorkerPool::WorkerPool(int threads) : m_errors(static_cast<std::size_t>(threads < 1 ? 1 : threads)) {
  for (int i = 1; i < threads; ++i) m_workers.emplace_back([this, i] { worker_loop(i); });
  // Wait until every worker runs: what a thread's start allocates (its stack, TLS blocks, the
  // sanitizers' per-thread state) happens here, not in the first call.
  std::unique_lock<std::mutex> lock(m_mutex);
  m_done.wait(lock, [&] { return m_started == threads - 1; });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
  }
  m_start.notify_all();
  for (std::thread& t : m_workers) t.join();
}

void WorkerPool::worker_loop(int index) {
  uint64_t seen = 0;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++m_started;
  }
  m_done.notify_all();
  for (;;) {
    void (*call)(void*, int) = nullptr;
    void* object = nullptr;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_start.wait(lock, [&] { return m_stop || m_generation != seen; });
      if (m_stop) return;
      seen = m_generation;
      if (index >= m_tasks) continue;
      call = m_call;
      object = m_object;
    }
    try {
      call(object, index);
    } catch (...) {
      m_errors[static_cast<std::size_t>(index)] = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    if (--m_pending == 0) m_done.notify_all();
  }
}

void WorkerPool::run_erased(int n, void (*call)(void*, int), void* object) {
  if (n > threads()) n = threads();
  if (n <= 1) {
    call(object, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_call = call;
    m_object = object;
    m_tasks = n;
    m_pending = n - 1;
    ++m_generation;
  }
  m_start.notify_all();
  try {
    call(object, 0);
  } catch (...) {
    m_errors[0] = std::current_exception();
  }
  {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_done.wait(lock, [&] { return m_pending == 0; });
  }
  for (int i = 0; i < n; ++i) {
    if (std::exception_ptr e = m_errors[static_cast<std::size_t>(i)]) {
      for (auto& slot : m_errors) slot = nullptr;
      std::rethrow_exception(e);
    }
  }
}

}  // namespace rnnad::detail
