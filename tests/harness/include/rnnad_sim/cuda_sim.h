// CUDA names for host C++ (test infrastructure): with RNNAD_SIM defined, kernels/kernel_common.cuh
// includes this instead of the CUDA headers, so the harness compiles the very kernel source nvcc
// compiles. Only the subset listed in docs/kernels.md §3 exists here; anything else (raw __shared__,
// __constant__, __activemask, textures, inline PTX) fails to compile on purpose.
#pragma once

#include <math.h>  // expf, expm1f, tanhf, fmaf, ... in the global namespace, as in device code

#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

#include "rnnad_sim/runtime.h"

// ---- Qualifiers: all code is host code here. __global__ is `inline` so a kernel header may be
// included by several test translation units. ----
#define __global__ inline
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) alignas(n)

// ---- Built-in variables (per fiber) ----
#define threadIdx (::rnnad::sim::detail::thread_idx())
#define blockIdx (::rnnad::sim::detail::block_idx())
#define blockDim (::rnnad::sim::detail::block_dim())
#define gridDim (::rnnad::sim::detail::grid_dim())
inline constexpr int warpSize = 32;

namespace rnnad::sim {

template <class T>
class SharedArray;

/// One element of a shared array: reading converts to T, assigning writes; each access is
/// bounds-checked and seen by the race detector. Keep it only for the expression it appears in
/// (`float v = smem[i];`, not `auto v = smem[i];`): using it after a sync point is a fault.
template <class T>
class SharedRef {
 public:
  SharedRef(detail::SharedAlloc* alloc, std::ptrdiff_t index)
      : m_alloc(alloc), m_index(index), m_sync(detail::sync_count()) {}
  SharedRef(const SharedRef&) = default;

  operator T() const { return *ptr(detail::AccessKind::Read); }  // NOLINT: implicit like a T lvalue
  const SharedRef& operator=(T value) const {
    *ptr(detail::AccessKind::Write) = value;
    return *this;
  }
  const SharedRef& operator=(const SharedRef& other) const { return *this = static_cast<T>(other); }
  const SharedRef& operator+=(T v) const { return *this = static_cast<T>(static_cast<T>(*this) + v); }
  const SharedRef& operator-=(T v) const { return *this = static_cast<T>(static_cast<T>(*this) - v); }
  const SharedRef& operator*=(T v) const { return *this = static_cast<T>(static_cast<T>(*this) * v); }
  const SharedRef& operator/=(T v) const { return *this = static_cast<T>(static_cast<T>(*this) / v); }
  /// `&smem[i]`: a shared pointer (for atomics and RNNAD_SHARED_PTR parameters).
  SharedArray<T> operator&() const { return SharedArray<T>(m_alloc, m_index); }

  /// The element's address for an atomic read-modify-write (checked as an atomic access).
  T* atomic_ptr() const { return ptr(detail::AccessKind::Atomic); }

 private:
  T* ptr(detail::AccessKind kind) const {
    return static_cast<T*>(detail::shared_access(m_alloc, m_index, kind, m_sync));
  }

  detail::SharedAlloc* m_alloc;
  std::ptrdiff_t m_index;
  std::uint64_t m_sync;
};

/// A pointer into one block's shared array (RNNAD_SHARED_ARRAY's and RNNAD_SHARED_PTR's type in
/// the harness): indexing yields checked SharedRef elements; `+ offset` moves it.
template <class T>
class SharedArray {
  static_assert(std::is_arithmetic_v<T>, "the harness supports shared arrays of arithmetic types only");

 public:
  SharedArray(detail::SharedAlloc* alloc, std::ptrdiff_t offset) : m_alloc(alloc), m_offset(offset) {}

  template <class I>
  SharedRef<T> operator[](I index) const {
    static_assert(std::is_integral_v<I>, "shared arrays are indexed by integers");
    return SharedRef<T>(m_alloc, m_offset + static_cast<std::ptrdiff_t>(index));
  }
  template <class I>
  SharedArray operator+(I offset) const {
    static_assert(std::is_integral_v<I>, "shared pointers move by integers");
    return SharedArray(m_alloc, m_offset + static_cast<std::ptrdiff_t>(offset));
  }
  SharedRef<T> operator*() const { return (*this)[0]; }

  detail::SharedAlloc* alloc() const { return m_alloc; }
  std::ptrdiff_t offset() const { return m_offset; }

 private:
  detail::SharedAlloc* m_alloc;
  std::ptrdiff_t m_offset;
};

namespace detail {
template <class T>
SharedArray<T> shared_array(const SharedSite& site, std::size_t count, bool dynamic) {
  return SharedArray<T>(shared_alloc(site, count, sizeof(T), dynamic), 0);
}
template <class T>
std::uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "warp operations move values of at most 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}
template <class T>
T from_bits(std::uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}
}  // namespace detail
}  // namespace rnnad::sim

// ---- Shared memory: the one way to declare it (docs/kernels.md §2) ----
#define RNNAD_SHARED_ARRAY(type, name, count)                                                     \
  static constexpr ::rnnad::sim::detail::SharedSite rnnad_site_##name{#name, __FILE__, __LINE__}; \
  const ::rnnad::sim::SharedArray<type> name =                                                    \
      ::rnnad::sim::detail::shared_array<type>(rnnad_site_##name, static_cast<std::size_t>(count), false)
#define RNNAD_DYNAMIC_SHARED_ARRAY(type, name, count)                                             \
  static constexpr ::rnnad::sim::detail::SharedSite rnnad_site_##name{#name, __FILE__, __LINE__}; \
  const ::rnnad::sim::SharedArray<type> name =                                                    \
      ::rnnad::sim::detail::shared_array<type>(rnnad_site_##name, static_cast<std::size_t>(count), true)
#define RNNAD_SHARED_PTR(type) ::rnnad::sim::SharedArray<type>

// ---- Block barrier ----
inline void __syncthreads(const std::source_location& loc = std::source_location::current()) {
  ::rnnad::sim::detail::block_barrier(0, loc);
}
inline int __syncthreads_count(int pred, const std::source_location& loc = std::source_location::current()) {
  return ::rnnad::sim::detail::block_barrier(pred != 0, loc);
}
inline int __syncthreads_and(int pred, const std::source_location& loc = std::source_location::current()) {
  return ::rnnad::sim::detail::block_barrier(pred != 0, loc) == static_cast<int>(blockDim.x * blockDim.y * blockDim.z);
}
inline int __syncthreads_or(int pred, const std::source_location& loc = std::source_location::current()) {
  return ::rnnad::sim::detail::block_barrier(pred != 0, loc) > 0;
}
/// Memory fences: every access is immediately visible in the harness, so these only document order.
inline void __threadfence() {}
inline void __threadfence_block() {}

// ---- Warp collectives (all lanes named in mask must arrive; see docs/kernels.md §4) ----
namespace rnnad::sim::detail {
template <class T>
T shfl(WarpOp op, unsigned mask, T var, int arg, int width, const std::source_location& loc) {
  return from_bits<T>(warp_collective(op, mask, to_bits(var), arg, width, false, loc));
}
}  // namespace rnnad::sim::detail

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = 32,
              const std::source_location& loc = std::source_location::current()) {
  return ::rnnad::sim::detail::shfl(::rnnad::sim::detail::WarpOp::ShflIdx, mask, var, src_lane, width, loc);
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32,
                 const std::source_location& loc = std::source_location::current()) {
  return ::rnnad::sim::detail::shfl(::rnnad::sim::detail::WarpOp::ShflUp, mask, var, static_cast<int>(delta), width,
                                    loc);
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32,
                   const std::source_location& loc = std::source_location::current()) {
  return ::rnnad::sim::detail::shfl(::rnnad::sim::detail::WarpOp::ShflDown, mask, var, static_cast<int>(delta), width,
                                    loc);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32,
                  const std::source_location& loc = std::source_location::current()) {
  return ::rnnad::sim::detail::shfl(::rnnad::sim::detail::WarpOp::ShflXor, mask, var, lane_mask, width, loc);
}
inline unsigned __ballot_sync(unsigned mask, int pred,
                              const std::source_location& loc = std::source_location::current()) {
  return static_cast<unsigned>(
      ::rnnad::sim::detail::warp_collective(::rnnad::sim::detail::WarpOp::Ballot, mask, pred != 0, 0, 32, false, loc));
}
inline int __all_sync(unsigned mask, int pred, const std::source_location& loc = std::source_location::current()) {
  return static_cast<int>(
      ::rnnad::sim::detail::warp_collective(::rnnad::sim::detail::WarpOp::All, mask, pred != 0, 0, 32, false, loc));
}
inline int __any_sync(unsigned mask, int pred, const std::source_location& loc = std::source_location::current()) {
  return static_cast<int>(
      ::rnnad::sim::detail::warp_collective(::rnnad::sim::detail::WarpOp::Any, mask, pred != 0, 0, 32, false, loc));
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const std::source_location& loc = std::source_location::current()) {
  ::rnnad::sim::detail::warp_collective(::rnnad::sim::detail::WarpOp::SyncWarp, mask, 0, 0, 32, false, loc);
}
// sm_80+ warp reductions (guard with __CUDA_ARCH__ >= 800 in kernels: the build also emits compute_75 PTX).
#define RNNAD_SIM_WARP_REDUCE(fn, op, T, is_signed)                                                         \
  inline T fn(unsigned mask, T value, const std::source_location& loc = std::source_location::current()) {  \
    return static_cast<T>(::rnnad::sim::detail::warp_collective(                                            \
        ::rnnad::sim::detail::WarpOp::op, mask, static_cast<std::uint32_t>(value), 0, 32, is_signed, loc)); \
  }
RNNAD_SIM_WARP_REDUCE(__reduce_add_sync, ReduceAdd, unsigned, false)
RNNAD_SIM_WARP_REDUCE(__reduce_add_sync, ReduceAdd, int, true)
RNNAD_SIM_WARP_REDUCE(__reduce_min_sync, ReduceMin, unsigned, false)
RNNAD_SIM_WARP_REDUCE(__reduce_min_sync, ReduceMin, int, true)
RNNAD_SIM_WARP_REDUCE(__reduce_max_sync, ReduceMax, unsigned, false)
RNNAD_SIM_WARP_REDUCE(__reduce_max_sync, ReduceMax, int, true)
RNNAD_SIM_WARP_REDUCE(__reduce_and_sync, ReduceAnd, unsigned, false)
RNNAD_SIM_WARP_REDUCE(__reduce_or_sync, ReduceOr, unsigned, false)
RNNAD_SIM_WARP_REDUCE(__reduce_xor_sync, ReduceXor, unsigned, false)
#undef RNNAD_SIM_WARP_REDUCE

// ---- Atomics: fibers switch only at sync points, so a plain read-modify-write is atomic here.
// Global memory: T*; shared memory: `&smem[i]` (checked as an atomic access). ----
namespace rnnad::sim::detail {
template <class T>
T* atomic_target(T* p) {
  return p;
}
template <class T>
T* atomic_target(const SharedArray<T>& p) {
  return p[0].atomic_ptr();
}
}  // namespace rnnad::sim::detail

#define RNNAD_SIM_ATOMIC(fn, expr)                          \
  template <class P, class T>                               \
  auto fn(P address, T val) {                               \
    auto* p = ::rnnad::sim::detail::atomic_target(address); \
    using V = std::remove_pointer_t<decltype(p)>;           \
    const V old = *p;                                       \
    const V v = static_cast<V>(val);                        \
    *p = (expr);                                            \
    return old;                                             \
  }
RNNAD_SIM_ATOMIC(atomicAdd, static_cast<V>(old + v))
RNNAD_SIM_ATOMIC(atomicSub, static_cast<V>(old - v))
RNNAD_SIM_ATOMIC(atomicExch, v)
RNNAD_SIM_ATOMIC(atomicMin, (v < old ? v : old))
RNNAD_SIM_ATOMIC(atomicMax, (v > old ? v : old))
RNNAD_SIM_ATOMIC(atomicAnd, static_cast<V>((old & v)))
RNNAD_SIM_ATOMIC(atomicOr, static_cast<V>(old | v))
RNNAD_SIM_ATOMIC(atomicXor, static_cast<V>(old ^ v))
#undef RNNAD_SIM_ATOMIC
template <class P, class T>
auto atomicCAS(P address, T compare, T val) {
  auto* p = ::rnnad::sim::detail::atomic_target(address);
  const auto old = *p;
  if (old == compare) *p = val;
  return old;
}

// ---- Math: the CUDA device functions kernels may use map to the C library. The fast
// intrinsics are computed exactly here, so their approximation error is NOT verified. ----
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x != x ? 0.0f : (x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x)); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
template <class T>
T __ldg(const T* p) {
  return *p;
}
// Bit reinterpretation (exact; a float's bits move unchanged, NaN payloads included).
inline float __uint_as_float(unsigned u) {
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}
inline unsigned __float_as_uint(float v) {
  unsigned u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }

// ---- Cooperative groups subset: block, tiled_partition<32>, grid (cooperative launches), cluster
// (cluster launches; distributed shared memory through map_shared_rank). ----
namespace cooperative_groups {

class thread_block {
 public:
  void sync(const std::source_location& loc = std::source_location::current()) const {
    ::rnnad::sim::detail::block_barrier(0, loc);
  }
  unsigned thread_rank() const { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
  unsigned num_threads() const { return blockDim.x * blockDim.y * blockDim.z; }
  unsigned size() const { return num_threads(); }
  dim3 group_index() const { return dim3(blockIdx.x, blockIdx.y, blockIdx.z); }
  dim3 thread_index() const { return dim3(threadIdx.x, threadIdx.y, threadIdx.z); }
  dim3 group_dim() const { return blockDim; }
  dim3 dim_threads() const { return blockDim; }
};
inline thread_block this_thread_block() { return {}; }

template <unsigned Size>
class thread_block_tile {
  static_assert(Size == 32, "the harness supports tiled_partition<32> only");
};

/// A warp of the block. Its collectives use the full mask: blockDim must be a multiple of 32.
template <>
class thread_block_tile<32> {
 public:
  void sync(const std::source_location& loc = std::source_location::current()) const { __syncwarp(0xffffffffu, loc); }
  unsigned thread_rank() const { return ::rnnad::sim::detail::lane_id(); }
  unsigned num_threads() const { return 32; }
  unsigned size() const { return 32; }
  unsigned meta_group_rank() const { return this_thread_block().thread_rank() / 32; }
  unsigned meta_group_size() const { return (this_thread_block().num_threads() + 31) / 32; }
  template <class T>
  T shfl(T var, int src, const std::source_location& loc = std::source_location::current()) const {
    return __shfl_sync(0xffffffffu, var, src, 32, loc);
  }
  template <class T>
  T shfl_up(T var, unsigned delta, const std::source_location& loc = std::source_location::current()) const {
    return __shfl_up_sync(0xffffffffu, var, delta, 32, loc);
  }
  template <class T>
  T shfl_down(T var, unsigned delta, const std::source_location& loc = std::source_location::current()) const {
    return __shfl_down_sync(0xffffffffu, var, delta, 32, loc);
  }
  template <class T>
  T shfl_xor(T var, int lane_mask, const std::source_location& loc = std::source_location::current()) const {
    return __shfl_xor_sync(0xffffffffu, var, lane_mask, 32, loc);
  }
  unsigned ballot(int pred, const std::source_location& loc = std::source_location::current()) const {
    return __ballot_sync(0xffffffffu, pred, loc);
  }
  bool any(int pred, const std::source_location& loc = std::source_location::current()) const {
    return __any_sync(0xffffffffu, pred, loc) != 0;
  }
  bool all(int pred, const std::source_location& loc = std::source_location::current()) const {
    return __all_sync(0xffffffffu, pred, loc) != 0;
  }
};

template <unsigned Size>
thread_block_tile<Size> tiled_partition(const thread_block&) {
  return {};
}

/// The whole grid of a cooperative launch.
class grid_group {
 public:
  void sync(const std::source_location& loc = std::source_location::current()) const {
    ::rnnad::sim::detail::grid_sync(loc);
  }
  bool is_valid() const { return true; }
  unsigned long long num_blocks() const { return static_cast<unsigned long long>(gridDim.x) * gridDim.y * gridDim.z; }
  unsigned long long block_rank() const {
    return blockIdx.x + static_cast<unsigned long long>(gridDim.x) *
                            (blockIdx.y + static_cast<unsigned long long>(gridDim.y) * blockIdx.z);
  }
  unsigned long long num_threads() const { return num_blocks() * blockDim.x * blockDim.y * blockDim.z; }
  unsigned long long size() const { return num_threads(); }
  unsigned long long thread_rank() const {
    return block_rank() * blockDim.x * blockDim.y * blockDim.z + this_thread_block().thread_rank();
  }
};
inline grid_group this_grid() { return {}; }

/// The thread-block cluster of the calling block (a 1-block cluster without a cluster launch).
class cluster_group {
 public:
  void sync(const std::source_location& loc = std::source_location::current()) const {
    ::rnnad::sim::detail::cluster_sync(loc);
  }
  unsigned block_rank() const { return ::rnnad::sim::detail::cluster_block_rank(); }
  unsigned num_blocks() const { return ::rnnad::sim::detail::cluster_num_blocks(); }
  dim3 dim_blocks() const { return ::rnnad::sim::detail::cluster_dims(); }
  dim3 block_index() const {
    const uint3 i = ::rnnad::sim::detail::cluster_block_index();
    return dim3(i.x, i.y, i.z);
  }
  unsigned num_threads() const { return num_blocks() * blockDim.x * blockDim.y * blockDim.z; }
  unsigned thread_rank() const {
    return block_rank() * blockDim.x * blockDim.y * blockDim.z + this_thread_block().thread_rank();
  }
  /// Distributed shared memory: the same shared array in the cluster's block `rank`.
  template <class T>
  ::rnnad::sim::SharedArray<T> map_shared_rank(::rnnad::sim::SharedArray<T> addr, unsigned rank) const {
    return ::rnnad::sim::SharedArray<T>(::rnnad::sim::detail::cluster_map(addr.alloc(), rank), addr.offset());
  }
};
inline cluster_group this_cluster() { return {}; }

template <class Group>
void sync(const Group& group, const std::source_location& loc = std::source_location::current()) {
  group.sync(loc);
}

}  // namespace cooperative_groups
