// A fixed set of worker threads that run the parts of one call in parallel (internal; used by
// the CPU engine's batch split, models/parallel_runner.cpp). Threads start at construction and
// wait on a condition variable between calls; a call allocates nothing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace rnnad::detail {

class WorkerPool {
 public:
  /// `threads` >= 1 threads of work in all: the calling thread plus threads − 1 workers, running
  /// when the constructor returns.
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(m_workers.size()) + 1; }

  /// Runs task(i) for i in [0, n), 1 <= n <= threads(): i = 0 on the calling thread, the others on
  /// workers; returns when all are done. If tasks throw, rethrows the exception of the lowest i.
  /// One run() at a time (the caller's engine is single-call).
  template <class F>
  void run(int n, F&& task) {
    using Fn = std::remove_reference_t<F>;
    run_erased(n, [](void* f, int i) { (*static_cast<Fn*>(f))(i); }, const_cast<void*>(static_cast<const void*>(&task)));
  }

 private:
  void run_erased(int n, void (*call)(void*, int), void* object);
  void worker_loop(int index);

  std::vector<std::thread> m_workers;
  std::vector<std::exception_ptr> m_errors;  // per task, preallocated
  std::mutex m_mutex;
  std::condition_variable m_start, m_done;
  uint64_t m_generation = 0;
  int m_tasks = 0, m_pending = 0, m_started = 0;
  bool m_stop = false;
  void (*m_call)(void*, int) = nullptr;
  void* m_object = nullptr;
};

}  // namespace rnnad::detail
