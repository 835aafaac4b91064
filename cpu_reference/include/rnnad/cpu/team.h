// Threads one call of a CPU op may split its work over (the engine's worker pool implements it),
// and the spinning barrier such a split waits on between dependent phases.
#pragma once

#include <atomic>
#include <cstdint>

namespace rnnad::cpu {

/// A set of threads lent to one call. Implemented by the engine (EngineOptions::threads); the
/// CPU ops never start threads themselves.
class Team {
 public:
  virtual ~Team() = default;
  /// Threads a run() may use now, the caller included; 1 = work alone.
  virtual int size() const = 0;
  /// The most size() can ever be (buffers per thread are sized for it).
  virtual int capacity() const = 0;
  /// Runs task(arg, i) for i in [0, n), 1 <= n <= size(), concurrently (i = 0 on the calling
  /// thread); returns when all are done.
  virtual void run(int n, void (*task)(void* arg, int i), void* arg) = 0;
};

/// A reusable barrier for the n threads of one Team::run(), for phases of microseconds: a waiting
/// thread spins briefly (with the CPU's pause hint), then sleeps in the kernel (C++20
/// atomic::wait, a futex on Linux), so a peer that lost its core is not starved by spinners
/// when the machine is oversubscribed. Memory: everything written before wait() by any thread is
/// visible after wait() to all.
class SpinBarrier {
 public:
  /// Pause instructions before sleeping: a few microseconds, more than one step's imbalance.
  static constexpr int kSpins = 256;

  explicit SpinBarrier(int n = 1) : m_n(n) {}
  /// Precondition: no thread is inside wait().
  void reset(int n) {
    m_n = n;
    m_count.store(0, std::memory_order_relaxed);
  }
  void wait() {
    const uint32_t phase = m_phase.load(std::memory_order_acquire);
    if (m_count.fetch_add(1, std::memory_order_acq_rel) + 1 == m_n) {
      m_count.store(0, std::memory_order_relaxed);
      m_phase.store(phase + 1, std::memory_order_release);
      m_phase.notify_all();
      return;
    }
    for (int spins = 0; spins < kSpins; ++spins) {
      if (m_phase.load(std::memory_order_acquire) != phase) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    while (m_phase.load(std::memory_order_acquire) == phase) m_phase.wait(phase, std::memory_order_acquire);
  }

 private:
  int m_n;
  std::atomic<int> m_count{0};
  std::atomic<uint32_t> m_phase{0};
};

}  // namespace rnnad::cpu
