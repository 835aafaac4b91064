// Internal state of the harness's execution engine, shared by runtime.cpp (fibers, scheduler,
// barriers), shared_memory.cpp (shared arrays, race detector) and warp.cpp (warp collectives).
// Not a public header: tests use rnnad_sim/runtime.h.
#pragma once

#include <ucontext.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <source_location>
#include <string>
#include <vector>

#include "rnnad_sim/runtime.h"

namespace rnnad::sim {

namespace detail {

struct AccessRec {
  std::int32_t thread = -1;  // group-local thread index; -1: no access recorded
  std::int32_t block = -1;   // group-local block index
  std::int32_t warp = -1;    // block-local warp index
  std::uint32_t group_epoch = 0, block_epoch = 0, warp_epoch = 0;
  bool atomic = false;
};

struct Shadow {
  AccessRec write, read1, read2;
};

struct SharedAlloc {
  const SharedSite* site = nullptr;
  std::size_t count = 0, elem_size = 0;
  bool dynamic = false;
  int owner_block = 0;                    // group-local block index
  std::unique_ptr<unsigned char[]> data;  // exactly count * elem_size bytes (ASan sees one past the end)
  std::vector<Shadow> shadow;             // empty when race detection is off
};

}  // namespace detail

namespace internal {

using detail::AccessKind;
using detail::AccessRec;
using detail::SharedAlloc;
using detail::SharedSite;
using detail::WarpOp;

constexpr std::size_t kStaticSharedLimit = 48 * 1024;  // without cudaFuncSetAttribute opt-in
constexpr std::size_t kSharedLimit = 227 * 1024;       // per block, sm_90
constexpr std::size_t kMaxGroupThreads = 16384;        // harness limit on concurrent fibers
constexpr unsigned kMaxClusterBlocks = 8;              // portable cluster size

// ---- Fiber stacks: mmap'd, guard page below, pooled across launches ----
struct Stack {
  unsigned char* map = nullptr;
  std::size_t map_size = 0;
  unsigned char* lo = nullptr;
  std::size_t size = 0;
};

// ---- Launch state ----
enum class State : std::uint8_t { Ready, Running, Waiting, Done };
enum class WaitKind : std::uint8_t { None, Barrier, Warp, Group };

struct Thread {
  uint3 tid{0, 0, 0};
  int block = 0;  // group-local block index
  int gtid = 0;   // group-local thread index
  int warp = 0;   // block-local warp index
  unsigned lane = 0;
  State state = State::Ready;
  WaitKind wait = WaitKind::None;
  const char* wait_what = "";
  std::source_location wait_loc;
  std::uint64_t sync_count = 0;
  const char* last_sync_what = nullptr;
  std::source_location last_sync_loc;
  ucontext_t ctx{};
  Stack stack;
  void* fake_stack = nullptr;
  bool started = false;
  std::uint64_t collective_result = 0;
};

struct Collective {
  WarpOp op = WarpOp::SyncWarp;
  unsigned mask = 0, arrived = 0;
  bool is_signed = false;
  int width = 32;
  std::source_location loc;
  std::array<std::uint64_t, 32> value{};
  std::array<int, 32> arg{};
};

struct Warp {
  int first_thread = 0;  // group-local index of lane 0
  unsigned lanes_mask = 0;
  std::uint32_t epoch = 0;          // completed full-mask __syncwarp()
  std::vector<Collective> pending;  // disjoint masks
};

struct Block {
  uint3 idx{0, 0, 0};
  unsigned cluster_rank = 0;
  uint3 cluster_idx{0, 0, 0};
  int first_thread = 0, nthreads = 0, done = 0;
  std::uint32_t epoch = 0;  // completed __syncthreads()
  int arrived = 0, pred_acc = 0, last_result = 0;
  std::source_location bar_loc;
  std::vector<Warp> warps;
  std::vector<std::unique_ptr<SharedAlloc>> shared;
  std::size_t static_bytes = 0, dynamic_bytes = 0;
  bool uninit_pending = false;
  std::string uninit_message;
};

struct Group {
  std::vector<Block> blocks;
  std::vector<Thread> threads;
  int arrived = 0, done = 0;
  const char* sync_what = "";
  std::source_location loc;
  std::uint32_t epoch = 0;  // completed grid or cluster syncs
};

class ReadyQueue {
 public:
  void reset(Schedule schedule, std::mt19937_64* rng) {
    m_schedule = schedule;
    m_rng = rng;
    m_items.clear();
  }
  void push(int i) {
    m_items.push_back(i);
    if (m_schedule == Schedule::Forward) std::push_heap(m_items.begin(), m_items.end(), std::greater<int>());
    if (m_schedule == Schedule::Reverse) std::push_heap(m_items.begin(), m_items.end(), std::less<int>());
  }
  bool empty() const { return m_items.empty(); }
  int pop() {
    int i = 0;
    if (m_schedule == Schedule::Forward) {
      std::pop_heap(m_items.begin(), m_items.end(), std::greater<int>());
      i = m_items.back();
    } else if (m_schedule == Schedule::Reverse) {
      std::pop_heap(m_items.begin(), m_items.end(), std::less<int>());
      i = m_items.back();
    } else {  // modulo, not std::uniform_int_distribution: same sequence with every standard library
      const std::size_t k = static_cast<std::size_t>((*m_rng)() % m_items.size());
      i = m_items[k];
      m_items[k] = m_items.back();
    }
    m_items.pop_back();
    return i;
  }

 private:
  Schedule m_schedule = Schedule::Forward;
  std::mt19937_64* m_rng = nullptr;
  std::vector<int> m_items;
};

struct Launch {
  dim3 grid, block;
  LaunchOptions opt;
  const std::function<void()>* body = nullptr;
  unsigned threads_per_block = 0, cluster_blocks = 1;
  Group* group = nullptr;
  LaunchStats stats;
  bool faulted = false, aborting = false;
  FaultKind kind = FaultKind::BadLaunch;
  std::string message;
  ucontext_t main_ctx{};
  const void* main_bottom = nullptr;
  std::size_t main_size = 0;
  void* main_fake = nullptr;
  std::mt19937_64 rng;
  ReadyQueue ready;
};

extern thread_local Launch* g_launch;
extern thread_local Thread* g_thread;

struct FiberAbort {};  // unwinds a fiber's stack to its entry after a fault

// Text helpers for fault messages.
std::string short_path(const char* path);
std::string where(const std::source_location& loc);
std::string where(const SharedSite& site);
bool same_loc(const std::source_location& a, const std::source_location& b);
std::string v3(const uint3& v);
std::string hex(unsigned v);
std::string describe(const Launch& L, const Thread& t);
std::string last_sync(const Thread& t);

/// Records the launch's first fault (later ones are dropped).
void record(Launch& L, FaultKind kind, const std::string& message);
/// Records a fault and unwinds the current fiber.
[[noreturn]] void fail(Launch& L, FaultKind kind, const std::string& message);
/// The running launch; throws KernelFault outside a kernel.
Launch& current_launch();

/// Called on a fiber: back to the scheduler; returns when resumed (throws FiberAbort when the
/// launch is being aborted).
void suspend(Launch& L, Thread& t);
void make_ready(Launch& L, Thread& t);
void passed_sync(Thread& t, const char* what, const std::source_location& loc);
/// Reports a pending uninitialized-shared-memory read of block b (at its epoch's end).
void check_uninit(Launch& L, Block& b);

/// The allocation of `site` in block b (group-local index block_index), created on first use.
SharedAlloc* find_or_create(Launch& L, Block& b, int block_index, const SharedSite& site, std::size_t count,
                            std::size_t elem, bool dynamic);

}  // namespace internal
}  // namespace rnnad::sim
