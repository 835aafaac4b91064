// Test kernels (harness self-tests): one small kernel per modelled CUDA feature, and kernels
// that misuse a feature on purpose (each commented with the fault the harness must report).
// Never built for the GPU.
#pragma once

#include "kernel_common.cuh"

namespace rnnad::sim_test {

namespace cg = cooperative_groups;
using cuda::kFullWarpMask;

inline constexpr int kWarpOpsPerLane = 14;

/// Warp collectives. Layout: out [threads * kWarpOpsPerLane]; geometry: any grid, blockDim a
/// multiple of 32.
__global__ void warp_ops_kernel(int* out) {
  const cg::thread_block block = cg::this_thread_block();
  const cg::thread_block_tile<32> tile = cg::tiled_partition<32>(block);
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int gid = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  int* o = out + gid * kWarpOpsPerLane;
  const int v = 100 * gid;
  o[0] = __shfl_sync(kFullWarpMask, v, 3);
  o[1] = __shfl_up_sync(kFullWarpMask, v, 1);
  o[2] = __shfl_down_sync(kFullWarpMask, v, 2);
  o[3] = __shfl_xor_sync(kFullWarpMask, v, 1);
  o[4] = __shfl_sync(kFullWarpMask, v, 2, 8);       // lane 2 of each group of 8
  o[5] = __shfl_down_sync(kFullWarpMask, v, 4, 8);  // stays inside the group of 8
  o[6] = static_cast<int>(__ballot_sync(kFullWarpMask, lane % 3 == 0));
  o[7] = __all_sync(kFullWarpMask, lane < 32);
  o[8] = __any_sync(kFullWarpMask, lane == 5);
  // Butterfly sum: every lane ends with the warp's total.
  int sum = lane;
  for (int m = 16; m > 0; m >>= 1) sum += __shfl_xor_sync(kFullWarpMask, sum, m);
  o[9] = sum;
  o[10] = tile.shfl(v, 31);
  o[11] = static_cast<int>(tile.thread_rank() + 100 * tile.meta_group_rank());
  o[12] = tile.any(lane == 7) ? 1 : 0;
  // Two halves of the warp shuffle independently with disjoint masks (legal in CUDA).
  o[13] = lane < 16 ? __shfl_xor_sync(0x0000ffffu, v, 1) : __shfl_xor_sync(0xffff0000u, v, 2);
}

/// sm_80 warp reductions and the counting barriers. Layout: out [threads * 6]; one block.
__global__ void reductions_kernel(int* out) {
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32;
  int* o = out + tid * 6;
  o[0] = static_cast<int>(__reduce_add_sync(kFullWarpMask, static_cast<unsigned>(lane)));
  o[1] = __reduce_min_sync(kFullWarpMask, 5 - lane);   // signed
  o[2] = __reduce_max_sync(kFullWarpMask, lane - 40);  // signed, all negative
  // The counting barriers also synchronise; nothing in shared memory needs ordering here.
  o[3] = __syncthreads_count(tid % 3 == 0);
  o[4] = __syncthreads_and(tid < 1000);
  o[5] = __syncthreads_or(tid == 17);
}

/// Lanes write their slot, __syncwarp(), read the neighbour's: correct warp-level sharing.
/// Geometry: one warp. Layout: out [32].
__global__ void warp_shared_kernel(int* out, bool with_syncwarp) {
  RNNAD_SHARED_ARRAY(int, s, 32);
  const int lane = static_cast<int>(threadIdx.x);
  s[lane] = lane * 10;
  if (with_syncwarp) __syncwarp();  // without it: race (lane^1 wrote the slot, nothing orders it)
  out[lane] = s[lane ^ 1];
}

/// Tickets: each thread takes the next number from a global counter, in the order the scheduler
/// runs threads. Layout: counter [1], ticket [threads].
__global__ void ticket_kernel(unsigned* counter, unsigned* ticket) {
  const unsigned gid = blockIdx.x * blockDim.x + threadIdx.x;
  ticket[gid] = atomicAdd(counter, 1u);
}

/// Bit moves and 16-bit conversions: thread t stores word in[t] into shared memory as the float
/// of its bits, reads it back after a barrier, and writes out[3t] = the word, out[3t + 1] = the
/// binary16 bits of its low half widened to float and narrowed again, out[3t + 2] = the float of
/// the word's low half as binary16 (bits). Geometry: one block of n threads.
__global__ void bit_moves_kernel(const unsigned* in, unsigned* out) {
  RNNAD_SHARED_ARRAY(float, words, 64);
  const int t = static_cast<int>(threadIdx.x);
  words[t] = __uint_as_float(in[t]);
  __syncthreads();
  const float v = words[(t + 1) % static_cast<int>(blockDim.x)];
  const unsigned w = __float_as_uint(v);
  out[3 * t] = w;
  out[3 * t + 1] = cuda::float_to_half_bits(cuda::half_bits_to_float(w & 0xffffu));
  out[3 * t + 2] = __float_as_uint(cuda::half_bits_to_float(w & 0xffffu));
}

/// Shared-memory histogram of keys in [0, 8) with shared and global atomics.
/// Layout: keys [n], hist [8]; geometry: any grid, block >= 8 threads.
__global__ void histogram_kernel(const int* keys, int n, unsigned* hist) {
  RNNAD_SHARED_ARRAY(unsigned, bins, 8);
  const int tid = static_cast<int>(threadIdx.x);
  if (tid < 8) bins[tid] = 0u;
  // Bins are zeroed before anyone adds to them.
  __syncthreads();
  const int i = static_cast<int>(blockIdx.x * blockDim.x) + tid;
  if (i < n) atomicAdd(&bins[keys[i]], 1u);
  // All additions are done before the block's totals are read.
  __syncthreads();
  if (tid < 8) atomicAdd(&hist[tid], static_cast<unsigned>(bins[tid]));
}

/// Thread 0 writes the word the others update atomically, with no barrier: a race.
__global__ void mixed_atomic_kernel(unsigned* out) {
  RNNAD_SHARED_ARRAY(unsigned, s, 1);
  if (threadIdx.x == 0) s[0] = 0u;
  __syncthreads();  // the zeroing is ordered before the atomics
  if (threadIdx.x == 0)
    s[0] = 5u;  // races with the atomics below
  else
    atomicAdd(&s[0], 1u);
  __syncthreads();  // the result is read after all updates
  if (threadIdx.x == 0) out[0] = s[0];
}

/// Cooperative launch: block b publishes b+1, grid.sync(), every block sums all published values.
/// Layout: published [blocks], sums [blocks]; geometry: any grid, any block.
__global__ void grid_sum_kernel(float* published, float* sums) {
  const cg::grid_group grid = cg::this_grid();
  if (threadIdx.x == 0) published[blockIdx.x] = static_cast<float>(blockIdx.x + 1);
  grid.sync();  // every block's value is published before anyone reads them
  if (threadIdx.x == 0) {
    float s = 0.0f;
    for (unsigned b = 0; b < gridDim.x; ++b) s += published[b];
    sums[blockIdx.x] = s;
  }
}

/// Cluster of blocks: each fills its shared array, cluster.sync(), reads the next block's array
/// (distributed shared memory), cluster.sync() again so no block exits while read.
/// Layout: out [blocks * blockDim.x]; geometry: clusters along x; `first_sync` false plants a race.
__global__ void cluster_exchange_kernel(int* out, bool first_sync) {
  RNNAD_SHARED_ARRAY(int, s, 64);
  const cg::cluster_group cluster = cg::this_cluster();
  const int tid = static_cast<int>(threadIdx.x);
  const unsigned rank = cluster.block_rank();
  s[tid] = static_cast<int>(1000 * blockIdx.x) + tid;
  if (first_sync) cluster.sync();  // the neighbour's array is written before we read it
  const RNNAD_SHARED_PTR(int) remote = cluster.map_shared_rank(s, (rank + 1) % cluster.num_blocks());
  const int v = remote[tid];
  cluster.sync();  // our array stays alive until the neighbour has read it
  out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}

/// Reads a shared word nobody wrote: uninitialized read.
__global__ void uninitialized_kernel(float* out) {
  RNNAD_SHARED_ARRAY(float, s, 32);
  out[threadIdx.x] = s[threadIdx.x];
}

/// Keeps an element reference across a barrier (`auto` on a shared element): stale reference.
__global__ void stale_reference_kernel(float* out) {
  RNNAD_SHARED_ARRAY(float, s, 32);
  s[threadIdx.x] = 1.0f;
  auto v = s[threadIdx.x];  // a float on the GPU, an element reference in the harness
  __syncthreads();          // (illustrates the fault; nothing needs ordering here)
  out[threadIdx.x] = v;
}

/// Threads past n return before the barrier the others wait at: barrier divergence.
__global__ void early_return_kernel(float* out, int n) {
  RNNAD_SHARED_ARRAY(float, s, 64);
  const int tid = static_cast<int>(threadIdx.x);
  if (tid >= n) return;
  s[tid] = 1.0f;
  __syncthreads();  // wrong: not every thread reaches it
  out[tid] = s[(tid + 1) % n];
}

/// Half the warp shuffles with a full mask, the other half exits: warp divergence.
__global__ void divergent_shuffle_kernel(int* out) {
  const int lane = static_cast<int>(threadIdx.x);
  if (lane < 16) out[lane] = __shfl_down_sync(kFullWarpMask, lane, 1);
}

/// Lane 0 waits at the block barrier while the other lanes wait for it in __syncwarp: deadlock.
__global__ void deadlock_kernel(int* out) {
  const int lane = static_cast<int>(threadIdx.x);
  if (lane == 0) {
    __syncthreads();  // wrong: lanes 1..31 are blocked in __syncwarp below
    __syncwarp();
  } else {
    __syncwarp();
    __syncthreads();
  }
  out[lane] = lane;
}

/// Dynamic shared memory of n floats (launch must pass n * 4 bytes): reverses x within the block.
__global__ void dynamic_reverse_kernel(const float* x, float* y, int n) {
  RNNAD_DYNAMIC_SHARED_ARRAY(float, s, n);
  const int tid = static_cast<int>(threadIdx.x);
  if (tid < n) s[tid] = x[tid];
  // Thread tid reads the element thread n-1-tid wrote.
  __syncthreads();
  if (tid < n) y[tid] = s[n - 1 - tid];
}

/// 52 KB of static shared memory: more than CUDA's 48 KiB static limit.
__global__ void too_much_shared_kernel(float* out) {
  RNNAD_SHARED_ARRAY(float, big, 13000);
  big[threadIdx.x] = 0.0f;
  out[threadIdx.x] = big[threadIdx.x];
}

}  // namespace rnnad::sim_test
