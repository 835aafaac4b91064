// The CPU harness's execution engine (test infrastructure, not part of the library): runs a kernel
// written for CUDA, compiled as host C++, with CUDA's execution model. Every thread of a block is a
// user-space fiber; a deterministic scheduler (forward, reverse or seeded-random order) switches
// fibers only at synchronisation points (__syncthreads, warp collectives, grid/cluster sync), so a
// run is reproducible bit for bit. Shared memory is one exact-size heap allocation per block and
// array, bounds-checked and watched by a barrier-epoch race detector. docs/kernels.md §4 describes
// the model and what it cannot verify.
//
// Kernel code never includes this file directly: kernels/kernel_common.cuh includes
// rnnad_sim/cuda_sim.h (which includes this) when RNNAD_SIM is defined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

/// CUDA's built-in vector of three unsigned components (threadIdx, blockIdx).
struct uint3 {
  unsigned int x, y, z;
};

/// CUDA's launch-dimension type: unspecified components are 1.
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
};

namespace rnnad::sim {

/// Order in which the scheduler picks the next ready fiber (thread) and the next block or
/// cluster. Forward: lowest index first; Reverse: highest first; Random: uniformly among the
/// ready ones, from a generator seeded with LaunchOptions::seed (same seed, same run).
enum class Schedule { Forward, Reverse, Random };

/// "forward", "reverse" or "random".
const char* schedule_name(Schedule schedule);

/// How to run one launch.
struct LaunchOptions {
  Schedule schedule = Schedule::Forward;
  std::uint64_t seed = 0x5eed;           ///< Random schedule only
  std::size_t dynamic_shared_bytes = 0;  ///< the <<<..., bytes>>> argument
  bool cooperative = false;              ///< cudaLaunchCooperativeKernel: all blocks run at once, grid.sync() allowed
  dim3 cluster_dims{1, 1, 1};            ///< thread-block cluster shape (blocks of a cluster run at once)
  bool detect_races = true;              ///< shared-memory race detector
  bool detect_uninitialized = true;      ///< report reads of shared words never written in this block
  std::size_t stack_bytes = 128 * 1024;  ///< per fiber (ASan frames are large)
};

/// What went wrong inside a launch.
enum class FaultKind {
  BadLaunch,                ///< geometry or resources CUDA would reject (block > 1024 threads, smem > 48 KiB, ...)
  SharedOutOfBounds,        ///< index outside a shared array
  SharedRace,               ///< two threads touch a shared word, one writes, no barrier orders them
  UninitializedSharedRead,  ///< a shared word read before any thread of the block wrote it
  StaleSharedReference,     ///< a shared element reference kept across a sync point (`auto v = smem[i]`)
  BarrierDivergence,        ///< threads of a block at different __syncthreads(), or one exited while others wait
  WarpDivergence,           ///< a warp collective whose mask names a lane that does not arrive, or mismatched calls
  Deadlock,                 ///< nothing can run and not every thread has finished
  Unsupported,      ///< a CUDA feature the harness does not model in this launch (grid.sync without cooperative, ...)
  KernelException,  ///< the kernel body threw a C++ exception
};

/// "shared-memory race", "shared-memory out of bounds", ...
const char* fault_kind_name(FaultKind kind);

/// Thrown by launch() when the kernel faulted; what() is one line naming the fault, the block and
/// thread, the shared array (with its declaration's file:line) and the last sync point passed.
class KernelFault : public std::runtime_error {
 public:
  KernelFault(FaultKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}
  FaultKind kind() const { return m_kind; }

 private:
  FaultKind m_kind;
};

/// Counters of one launch (for self-tests and for sizing CI time).
struct LaunchStats {
  std::uint64_t threads = 0;               ///< fibers run
  std::uint64_t context_switches = 0;      ///< scheduler -> fiber switches
  std::uint64_t barriers = 0;              ///< completed __syncthreads (all blocks)
  std::uint64_t warp_collectives = 0;      ///< completed warp-level operations
  std::uint64_t shared_accesses = 0;       ///< checked shared-memory reads and writes
  std::size_t shared_bytes_per_block = 0;  ///< largest static + dynamic shared bytes of a block
};

/// Runs `body` as every thread of a grid (see launch()). Throws KernelFault.
LaunchStats launch_body(dim3 grid, dim3 block, const LaunchOptions& options, const std::function<void()>& body);

/// The harness's `kernel<<<grid, block, options.dynamic_shared_bytes>>>(args...)`: copies the
/// arguments once, runs every block (one block at a time; all blocks of a cluster, or of a
/// cooperative grid, at once) with all its threads as concurrent fibers, and returns when the
/// grid is done. Throws KernelFault when a fault is detected (the launch stops at the first one)
/// and when the geometry is one CUDA would reject.
template <class... Params, class... Args>
LaunchStats launch(void (*kernel)(Params...), dim3 grid, dim3 block, const LaunchOptions& options, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "launch: argument count differs from the kernel's");
  const std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  return launch_body(grid, block, options, [&] { std::apply(kernel, params); });
}

// ---- Hooks used by cuda_sim.h (the CUDA names). Not for tests. ----
namespace detail {

/// Where a RNNAD_SHARED_ARRAY / RNNAD_DYNAMIC_SHARED_ARRAY is declared (one static per site).
struct SharedSite {
  const char* name;
  const char* file;
  int line;
};

struct SharedAlloc;  // one per block and site: exact-size data + shadow

enum class AccessKind : std::uint8_t { Read, Write, Atomic };

const uint3& thread_idx();
const uint3& block_idx();
const dim3& block_dim();
const dim3& grid_dim();

/// The per-block allocation of `site` (created by the first thread that reaches it), checked
/// against the count the other threads asked for and against CUDA's limits.
SharedAlloc* shared_alloc(const SharedSite& site, std::size_t count, std::size_t elem_size, bool dynamic);
/// Bounds check, race detection; returns the element's address. `ref_sync` is the caller's
/// sync count when the element reference was formed (stale-reference check).
void* shared_access(SharedAlloc* alloc, std::ptrdiff_t index, AccessKind kind, std::uint64_t ref_sync);
std::size_t shared_count(const SharedAlloc* alloc);
/// The calling thread's number of sync points passed.
std::uint64_t sync_count();

/// __syncthreads and its counting variants; returns the count of threads with pred != 0.
int block_barrier(int pred, const std::source_location& loc);

enum class WarpOp : std::uint8_t {
  ShflIdx,
  ShflUp,
  ShflDown,
  ShflXor,
  Ballot,
  All,
  Any,
  SyncWarp,
  ReduceAdd,
  ReduceMin,
  ReduceMax,
  ReduceAnd,
  ReduceOr,
  ReduceXor,
};
/// One lane's part of a warp collective; returns its result bits.
std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width, bool is_signed,
                              const std::source_location& loc);
/// Lane index of the calling thread and the mask of the lanes its warp has.
unsigned lane_id();
unsigned warp_lanes_mask();

void grid_sync(const std::source_location& loc);
void cluster_sync(const std::source_location& loc);
unsigned cluster_block_rank();
unsigned cluster_num_blocks();
uint3 cluster_block_index();
dim3 cluster_dims();
/// The same site's allocation in the cluster's block `rank`.
SharedAlloc* cluster_map(SharedAlloc* alloc, unsigned rank);

/// Records a fault of the current thread and stops it (throws an internal unwinding exception).
[[noreturn]] void fault(FaultKind kind, const std::string& message);

}  // namespace detail
}  // namespace rnnad::sim
