// The harness's execution engine (see rnnad_sim/runtime.h and docs/kernels.md §4).
//
// Model. A launch runs its blocks one group at a time: a group is one block, or all blocks of a
// cluster (cluster launch), or the whole grid (cooperative launch). Every thread of a group is a
// ucontext fiber on its own mmap'd stack with a PROT_NONE guard page; one OS thread runs them all.
// A fiber runs until it reaches a sync point (__syncthreads, a warp collective, grid or cluster
// sync) or exits; then the scheduler picks the next ready fiber: lowest index (Forward), highest
// (Reverse) or uniformly at random from a seeded generator (Random). Nothing else preempts a fiber,
// so every run is deterministic and atomics are trivially atomic.
//
// Race detection. Each shared word has a shadow: its last writer and up to two readers, each with
// the epochs current at the access: the group's sync count, the block's barrier count and the
// warp's full-mask __syncwarp count. An earlier access is ordered before a later one when a
// barrier both took part in separates them (different group epoch; same block and different
// block epoch; same warp and different warp epoch). A read of a word whose last write by another
// thread is not so ordered, or a write that is not ordered after the last write or a read by
// another thread, is a race. This depends only on which barriers separate the accesses, not on
// the order the scheduler chose, so a planted race is reported under every schedule.
#include "rnnad_sim/runtime.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include "state.h"

#if defined(__SANITIZE_ADDRESS__)
#define RNNAD_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RNNAD_SIM_ASAN 1
#endif
#endif
#ifdef RNNAD_SIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace rnnad::sim {

const char* schedule_name(Schedule schedule) {
  switch (schedule) {
    case Schedule::Forward:
      return "forward";
    case Schedule::Reverse:
      return "reverse";
    case Schedule::Random:
      return "random";
  }
  return "?";
}

const char* fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::BadLaunch:
      return "bad launch";
    case FaultKind::SharedOutOfBounds:
      return "shared-memory out of bounds";
    case FaultKind::SharedRace:
      return "shared-memory race";
    case FaultKind::UninitializedSharedRead:
      return "uninitialized shared-memory read";
    case FaultKind::StaleSharedReference:
      return "stale shared-memory reference";
    case FaultKind::BarrierDivergence:
      return "barrier divergence";
    case FaultKind::WarpDivergence:
      return "warp divergence";
    case FaultKind::Deadlock:
      return "deadlock";
    case FaultKind::Unsupported:
      return "unsupported";
    case FaultKind::KernelException:
      return "kernel exception";
  }
  return "?";
}

namespace internal {

thread_local Launch* g_launch = nullptr;
thread_local Thread* g_thread = nullptr;

namespace {

// ---- ASan fiber annotations (no-ops without ASan) ----
void asan_start(void** fake_stack, const void* bottom, std::size_t size) {
#ifdef RNNAD_SIM_ASAN
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}
void asan_finish(void* fake_stack, const void** bottom_old, std::size_t* size_old) {
#ifdef RNNAD_SIM_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#else
  (void)fake_stack, (void)bottom_old, (void)size_old;
#endif
}

class StackPool {
 public:
  StackPool() = default;
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool() {
    for (const Stack& s : m_free) munmap(s.map, s.map_size);
  }

  Stack acquire(std::size_t size) {
    for (std::size_t i = 0; i < m_free.size(); ++i)
      if (m_free[i].size == size) {
        Stack s = m_free[i];
        m_free[i] = m_free.back();
        m_free.pop_back();
        return s;
      }
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    Stack s;
    s.size = (size + page - 1) / page * page;
    s.map_size = s.size + page;
    void* p = mmap(nullptr, s.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw KernelFault(FaultKind::BadLaunch, "harness: cannot map a fiber stack");
    s.map = static_cast<unsigned char*>(p);
    mprotect(s.map, page, PROT_NONE);  // stack overflow faults instead of corrupting memory
    s.lo = s.map + page;
    return s;
  }

  void release(const Stack& s) {
#ifdef RNNAD_SIM_ASAN
    __asan_unpoison_memory_region(s.lo, s.size);  // frames abandoned by unwinding may stay poisoned
#endif
    if (m_free.size() < kMaxFree)
      m_free.push_back(s);
    else
      munmap(s.map, s.map_size);
  }

 private:
  static constexpr std::size_t kMaxFree = 4096;
  std::vector<Stack> m_free;
};

thread_local StackPool g_stacks;

}  // namespace

std::string short_path(const char* path) {
  const std::string p = path ? path : "?";
  std::size_t cut = p.rfind('/');
  if (cut != std::string::npos && cut > 0) cut = p.rfind('/', cut - 1);
  return cut == std::string::npos ? p : p.substr(cut + 1);
}
std::string where(const std::source_location& loc) {
  return short_path(loc.file_name()) + ":" + std::to_string(loc.line());
}
std::string where(const SharedSite& site) { return short_path(site.file) + ":" + std::to_string(site.line); }
bool same_loc(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() && std::strcmp(a.file_name(), b.file_name()) == 0;
}
// (ostringstream rather than string concatenation: GCC 12 reports a false -Wrestrict there, bug 105329)
std::string v3(const uint3& v) {
  std::ostringstream s;
  s << "(" << v.x << "," << v.y << "," << v.z << ")";
  return s.str();
}
std::string hex(unsigned v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

std::string describe(const Launch& L, const Thread& t) {
  return "block " + v3(L.group->blocks[static_cast<std::size_t>(t.block)].idx) + " thread " + v3(t.tid);
}
std::string last_sync(const Thread& t) {
  if (!t.last_sync_what) return " (no sync point passed yet)";
  return " (last sync point passed: " + std::string(t.last_sync_what) + " at " + where(t.last_sync_loc) + ")";
}

void record(Launch& L, FaultKind kind, const std::string& message) {
  if (L.faulted) return;
  L.faulted = true;
  L.kind = kind;
  L.message = std::string(fault_kind_name(kind)) + ": " + message;
}

[[noreturn]] void fail(Launch& L, FaultKind kind, const std::string& message) {
  record(L, kind, message);
  throw FiberAbort{};
}

Launch& current_launch() {
  if (!g_launch || !g_thread)
    throw KernelFault(FaultKind::Unsupported, "a CUDA built-in was used outside a kernel running in the harness");
  return *g_launch;
}

// ---- Fiber switching ----
void resume(Launch& L, Thread& t);

void fiber_entry() {
  Launch& L = *g_launch;
  Thread& t = *g_thread;
  asan_finish(nullptr, &L.main_bottom, &L.main_size);
  try {
    (*L.body)();
    // Normal exit: nobody may be left waiting for this thread.
    Group& g = *L.group;
    Block& b = g.blocks[static_cast<std::size_t>(t.block)];
    if (b.arrived > 0)
      record(L, FaultKind::BarrierDivergence,
             describe(L, t) + " exited while " + std::to_string(b.arrived) +
                 " threads of its block wait at __syncthreads() at " + where(b.bar_loc) +
                 " (every thread must reach the same barrier)");
    for (const Collective& c : b.warps[static_cast<std::size_t>(t.warp)].pending)
      if (c.mask & (1u << t.lane))
        record(L, FaultKind::WarpDivergence,
               describe(L, t) + " (lane " + std::to_string(t.lane) + ") exited while lanes " + hex(c.arrived) +
                   " wait for it in a warp collective with mask " + hex(c.mask) + " at " + where(c.loc));
    if (g.arrived > 0)
      record(L, FaultKind::BarrierDivergence,
             describe(L, t) + " exited while " + std::to_string(g.arrived) + " threads wait at " + g.sync_what +
                 " at " + where(g.loc));
  } catch (const FiberAbort&) {
  } catch (const std::exception& e) {
    record(L, FaultKind::KernelException, describe(L, t) + ": the kernel threw: " + e.what());
  } catch (...) {
    record(L, FaultKind::KernelException, describe(L, t) + ": the kernel threw a non-standard exception");
  }
  t.state = State::Done;
  Group& g = *L.group;
  ++g.done;
  ++g.blocks[static_cast<std::size_t>(t.block)].done;
  asan_start(nullptr, L.main_bottom, L.main_size);  // this fiber never resumes: drop its fake stack
  setcontext(&L.main_ctx);
}

void resume(Launch& L, Thread& t) {
  if (!t.started) {
    t.stack = g_stacks.acquire(L.opt.stack_bytes);
    getcontext(&t.ctx);
    t.ctx.uc_stack.ss_sp = t.stack.lo;
    t.ctx.uc_stack.ss_size = t.stack.size;
    t.ctx.uc_link = nullptr;
    makecontext(&t.ctx, &fiber_entry, 0);
    t.started = true;
  }
  g_thread = &t;
  t.state = State::Running;
  ++L.stats.context_switches;
  asan_start(&L.main_fake, t.stack.lo, t.stack.size);
  swapcontext(&L.main_ctx, &t.ctx);
  asan_finish(L.main_fake, nullptr, nullptr);
  g_thread = nullptr;
}

// Called on the fiber: back to the scheduler; returns when the scheduler resumes this thread.
void suspend(Launch& L, Thread& t) {
  asan_start(&t.fake_stack, L.main_bottom, L.main_size);
  swapcontext(&t.ctx, &L.main_ctx);
  asan_finish(t.fake_stack, nullptr, nullptr);
  if (L.aborting) throw FiberAbort{};
}

void make_ready(Launch& L, Thread& t) {
  t.state = State::Ready;
  t.wait = WaitKind::None;
  L.ready.push(t.gtid);
}

void passed_sync(Thread& t, const char* what, const std::source_location& loc) {
  ++t.sync_count;
  t.last_sync_what = what;
  t.last_sync_loc = loc;
}

void check_uninit(Launch& L, Block& b) {
  if (b.uninit_pending) {
    b.uninit_pending = false;
    fail(L, FaultKind::UninitializedSharedRead, b.uninit_message);
  }
}

namespace {

std::vector<std::vector<uint3>> make_groups(const Launch& L) {
  // Each group: its blocks' indices, in cluster-rank order (x fastest).
  std::vector<std::vector<uint3>> groups;
  if (L.opt.cooperative) {
    groups.emplace_back();
    for (unsigned z = 0; z < L.grid.z; ++z)
      for (unsigned y = 0; y < L.grid.y; ++y)
        for (unsigned x = 0; x < L.grid.x; ++x) groups.back().push_back({x, y, z});
    return groups;
  }
  const dim3 c = L.opt.cluster_dims;
  for (unsigned cz = 0; cz < L.grid.z / c.z; ++cz)
    for (unsigned cy = 0; cy < L.grid.y / c.y; ++cy)
      for (unsigned cx = 0; cx < L.grid.x / c.x; ++cx) {
        groups.emplace_back();
        for (unsigned z = 0; z < c.z; ++z)
          for (unsigned y = 0; y < c.y; ++y)
            for (unsigned x = 0; x < c.x; ++x) groups.back().push_back({cx * c.x + x, cy * c.y + y, cz * c.z + z});
      }
  return groups;
}

void run_group(Launch& L, const std::vector<uint3>& block_indices) {
  Group g;
  L.group = &g;
  const unsigned tpb = L.threads_per_block;
  const unsigned warps = (tpb + 31) / 32;
  g.blocks.resize(block_indices.size());
  g.threads.resize(block_indices.size() * tpb);
  const dim3 c = L.opt.cluster_dims;
  for (std::size_t bi = 0; bi < block_indices.size(); ++bi) {
    Block& b = g.blocks[bi];
    b.idx = block_indices[bi];
    b.cluster_idx = {b.idx.x % c.x, b.idx.y % c.y, b.idx.z % c.z};
    b.cluster_rank = L.opt.cooperative ? 0 : b.cluster_idx.x + c.x * (b.cluster_idx.y + c.y * b.cluster_idx.z);
    b.first_thread = static_cast<int>(bi * tpb);
    b.nthreads = static_cast<int>(tpb);
    b.warps.resize(warps);
    for (unsigned w = 0; w < warps; ++w) {
      b.warps[w].first_thread = b.first_thread + static_cast<int>(w * 32);
      const unsigned lanes = std::min(32u, tpb - w * 32);
      b.warps[w].lanes_mask = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
    }
    for (unsigned i = 0; i < tpb; ++i) {
      Thread& t = g.threads[bi * tpb + i];
      t.tid = {i % L.block.x, i / L.block.x % L.block.y, i / (L.block.x * L.block.y)};
      t.block = static_cast<int>(bi);
      t.gtid = b.first_thread + static_cast<int>(i);
      t.warp = static_cast<int>(i / 32);
      t.lane = i % 32;
    }
  }
  L.ready.reset(L.opt.schedule, &L.rng);
  for (const Thread& t : g.threads) L.ready.push(t.gtid);

  while (!L.faulted && !L.ready.empty()) resume(L, g.threads[static_cast<std::size_t>(L.ready.pop())]);

  if (!L.faulted && g.done != static_cast<int>(g.threads.size())) {
    // Nothing can run, yet threads wait: name the sync points they are stuck at.
    std::map<std::string, int> waits;
    for (const Thread& t : g.threads)
      if (t.state == State::Waiting) ++waits[std::string(t.wait_what) + " at " + where(t.wait_loc)];
    std::string text = "no thread can run: ";
    for (const auto& [site, n] : waits) text += std::to_string(n) + " wait in " + site + "; ";
    text += std::to_string(g.done) + " have exited (a barrier or collective some threads never reach)";
    record(L, FaultKind::Deadlock, text);
  }
  if (!L.faulted)
    for (Block& b : g.blocks)
      if (b.uninit_pending) record(L, FaultKind::UninitializedSharedRead, b.uninit_message);
  if (L.faulted) {
    L.aborting = true;  // unwind every suspended fiber so its frames are left cleanly
    for (Thread& t : g.threads)
      if (t.started && t.state != State::Done) resume(L, t);
    L.aborting = false;
  }
  for (Thread& t : g.threads)
    if (t.started) g_stacks.release(t.stack);
  for (const Block& b : g.blocks) L.stats.barriers += b.epoch;
  L.stats.threads += g.threads.size();
  L.group = nullptr;
}

std::string dims(const dim3& d) { return v3(uint3{d.x, d.y, d.z}); }

void validate(const dim3& grid, const dim3& block, const LaunchOptions& opt) {
  auto bad = [&](const std::string& why) {
    throw KernelFault(FaultKind::BadLaunch,
                      std::string("bad launch: ") + why + " (grid " + dims(grid) + ", block " + dims(block) + ")");
  };
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0)
    bad("a dimension is 0");
  if (block.x > 1024 || block.y > 1024 || block.z > 64) bad("block dimension above CUDA's limits (1024, 1024, 64)");
  if (static_cast<unsigned long long>(block.x) * block.y * block.z > 1024) bad("more than 1024 threads per block");
  if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
    bad("grid dimension above CUDA's limits (2^31-1, 65535, 65535)");
  if (opt.dynamic_shared_bytes > kSharedLimit) bad("dynamic shared memory above 227 KiB");
  if (opt.stack_bytes < 16 * 1024) bad("fiber stacks under 16 KiB");
  const dim3 c = opt.cluster_dims;
  if (c.x == 0 || c.y == 0 || c.z == 0) bad("a cluster dimension is 0");
  const unsigned long long cluster = static_cast<unsigned long long>(c.x) * c.y * c.z;
  if (cluster > kMaxClusterBlocks) bad("cluster of more than 8 blocks (the portable limit)");
  if (grid.x % c.x || grid.y % c.y || grid.z % c.z) bad("grid not a multiple of the cluster dimensions");
  const unsigned long long tpb = static_cast<unsigned long long>(block.x) * block.y * block.z;
  if (opt.cooperative) {
    if (cluster > 1)
      throw KernelFault(FaultKind::Unsupported, "harness: cooperative launches with clusters are not modelled");
    if (static_cast<unsigned long long>(grid.x) * grid.y * grid.z * tpb > kMaxGroupThreads)
      bad("a cooperative grid of more than 16384 threads (the harness runs them all at once)");
  }
  if (cluster * tpb > kMaxGroupThreads) bad("a cluster of more than 16384 threads");
}

}  // namespace
}  // namespace internal

using namespace internal;

LaunchStats launch_body(dim3 grid, dim3 block, const LaunchOptions& options, const std::function<void()>& body) {
  if (g_launch) throw KernelFault(FaultKind::Unsupported, "harness: a launch from inside a kernel is not supported");
  validate(grid, block, options);
  Launch L;
  L.grid = grid;
  L.block = block;
  L.opt = options;
  L.body = &body;
  L.threads_per_block = block.x * block.y * block.z;
  L.cluster_blocks = options.cluster_dims.x * options.cluster_dims.y * options.cluster_dims.z;
  L.rng.seed(options.seed);
  std::vector<std::vector<uint3>> groups = make_groups(L);
  if (options.schedule == Schedule::Reverse) std::reverse(groups.begin(), groups.end());
  if (options.schedule == Schedule::Random)
    for (std::size_t i = groups.size(); i > 1; --i)
      std::swap(groups[i - 1], groups[static_cast<std::size_t>(L.rng() % i)]);
  g_launch = &L;
  try {
    for (const auto& group : groups) {
      run_group(L, group);
      if (L.faulted) break;
    }
  } catch (...) {
    g_launch = nullptr;
    throw;
  }
  g_launch = nullptr;
  if (L.faulted) throw KernelFault(L.kind, L.message);
  return L.stats;
}

namespace detail {

const uint3& thread_idx() {
  current_launch();
  return g_thread->tid;
}
const uint3& block_idx() {
  Launch& L = current_launch();
  return L.group->blocks[static_cast<std::size_t>(g_thread->block)].idx;
}
const dim3& block_dim() { return current_launch().block; }
const dim3& grid_dim() { return current_launch().grid; }
std::uint64_t sync_count() {
  current_launch();
  return g_thread->sync_count;
}
unsigned lane_id() {
  current_launch();
  return g_thread->lane;
}

void fault(FaultKind kind, const std::string& message) {
  Launch& L = current_launch();
  fail(L, kind, describe(L, *g_thread) + ": " + message + last_sync(*g_thread));
}

int block_barrier(int pred, const std::source_location& loc) {
  Launch& L = current_launch();
  Thread& t = *g_thread;
  Group& g = *L.group;
  Block& b = g.blocks[static_cast<std::size_t>(t.block)];
  if (b.done > 0)
    fault(FaultKind::BarrierDivergence, "reached __syncthreads() at " + where(loc) + " after " +
                                            std::to_string(b.done) +
                                            " threads of the block exited (every thread must reach the same barrier)");
  if (b.arrived == 0)
    b.bar_loc = loc;
  else if (!same_loc(b.bar_loc, loc))
    fault(FaultKind::BarrierDivergence, "reached __syncthreads() at " + where(loc) + " while " +
                                            std::to_string(b.arrived) + " threads of the block wait at the one at " +
                                            where(b.bar_loc));
  passed_sync(t, "__syncthreads()", loc);
  ++b.arrived;
  b.pred_acc += pred;
  if (b.arrived == b.nthreads) {
    b.arrived = 0;
    b.last_result = b.pred_acc;
    b.pred_acc = 0;
    ++b.epoch;
    check_uninit(L, b);
    for (int i = 0; i < b.nthreads; ++i) make_ready(L, g.threads[static_cast<std::size_t>(b.first_thread + i)]);
  } else {
    t.state = State::Waiting;
    t.wait = WaitKind::Barrier;
    t.wait_what = "__syncthreads()";
    t.wait_loc = loc;
  }
  suspend(L, t);
  return b.last_result;
}

namespace {
void group_sync(const char* what, const std::source_location& loc) {
  Launch& L = current_launch();
  Thread& t = *g_thread;
  Group& g = *L.group;
  if (g.done > 0)
    fault(FaultKind::BarrierDivergence, std::string("reached ") + what + " at " + where(loc) + " after " +
                                            std::to_string(g.done) + " threads exited");
  if (g.arrived == 0) {
    g.loc = loc;
    g.sync_what = what;
  } else if (!same_loc(g.loc, loc)) {
    fault(FaultKind::BarrierDivergence, std::string("reached ") + what + " at " + where(loc) + " while " +
                                            std::to_string(g.arrived) + " threads wait at " + g.sync_what + " at " +
                                            where(g.loc));
  }
  passed_sync(t, what, loc);
  if (++g.arrived == static_cast<int>(g.threads.size())) {
    g.arrived = 0;
    ++g.epoch;
    for (Block& b : g.blocks) check_uninit(L, b);
    for (Thread& other : g.threads) make_ready(L, other);
  } else {
    t.state = State::Waiting;
    t.wait = WaitKind::Group;
    t.wait_what = what;
    t.wait_loc = loc;
  }
  suspend(L, t);
}
}  // namespace

void grid_sync(const std::source_location& loc) {
  if (!current_launch().opt.cooperative)
    fault(FaultKind::Unsupported, "this_grid().sync() at " + where(loc) +
                                      " needs a cooperative launch (LaunchOptions::cooperative; "
                                      "cudaLaunchCooperativeKernel on the GPU)");
  group_sync("grid.sync()", loc);
}

void cluster_sync(const std::source_location& loc) {
  if (current_launch().opt.cooperative)
    fault(FaultKind::Unsupported, "cluster sync at " + where(loc) + " inside a cooperative launch is not modelled");
  group_sync("cluster.sync()", loc);
}

unsigned cluster_block_rank() {
  Launch& L = current_launch();
  return L.group->blocks[static_cast<std::size_t>(g_thread->block)].cluster_rank;
}
unsigned cluster_num_blocks() { return current_launch().opt.cooperative ? 1 : current_launch().cluster_blocks; }
uint3 cluster_block_index() {
  Launch& L = current_launch();
  return L.group->blocks[static_cast<std::size_t>(g_thread->block)].cluster_idx;
}
dim3 cluster_dims() {
  Launch& L = current_launch();
  return L.opt.cooperative ? dim3(1, 1, 1) : L.opt.cluster_dims;
}

}  // namespace detail
}  // namespace rnnad::sim
