// Persistent recurrence kernel (device code; contract, plan and eligibility in
// rnnad/cuda/persistent_rnn.h; rules in docs/kernels.md; run on CPUs by tests/harness).
//
// What: every time step of one layer and direction in one launch, PyTorch's LSTM / GRU / RNN cell
// equations as the step kernels (cell_math.cuh): the input projections gx of all steps are
// precomputed (one GEMM); the recurrent product, biases, gates and state update run here.
// Work split (PersistentGeometry): a group of C blocks (C = 1: one block; 2-8: a thread-block
// cluster; more: a grid-wide group) owns `rows` batch rows; its block of rank r owns hidden units
// [r U, r U + U) for all gates, so the unit's gate update needs no exchange. Thread t of a block
// works on local unit j = t / S for k values k = s + S i (s = t % S, i < kpt): its weights
// W_hh[g H + j, k] for every gate g stay in registers (kRegKpt > 0, zero padded to kRegKpt) or in
// shared memory ([kpt][gates][threads] fp32 words, thread-contiguous: conflict-free; or, for a
// model whose weights are exact in F16 / BF16, the same with two k indices per word: half the
// bytes and half the loads, unpacked to fp32 before the products). Per step:
//   1. the lane that will update (row r, unit j) loads gx[t, r, g H + j] + b_ih (in flight
//      during the products; which rows a lane updates follows from its lane bits, step 3);
//   2. every thread forms its partial sums over its k for all rows and gates (h is a broadcast
//      read of the current h buffer; S lanes read S consecutive words);
//   3. the S lanes of a unit add their partial sums with xor shuffles (same order on every run),
//      halving the rows each lane holds at every level while it holds more than one (S >= rows);
//   4. the lane left holding a row's sums updates it: gates, c (kept in shared memory), h into the
//      next h buffer of every block of the cluster (distributed shared memory for C > 1) and `out`;
//   5. one barrier (block, or cluster for C > 1), then the buffers swap. With geo.grid_sync (a
//      group of more than 8 blocks, cooperative launch) h goes only to `out`; a grid-wide barrier
//      makes it visible, and each block copies its rows' whole h from `out` into the next buffer
//      before a block barrier.
// h is double buffered ([2][rows][S kpt], kpt rounded up to kRegKpt, zero padded past H), so a
// step needs one barrier: the step after next is the first to overwrite a buffer, and every thread
// has passed a barrier after its last read of it.
// Shared memory: persistent_shared_bytes(); the launcher opts in above 48 KiB.
// Supported H: what persistent_plan() finds room for (docs/kernels.md §9 lists the limits).
// Numerics: fp32, fmaf; each lane sums its k in increasing order, then the shuffle tree adds the
// lanes in a fixed order: the same bits on every run and every schedule. 16-bit pairs hold the
// same values (exact), so a plan with them gives the bits of the same plan with fp32 words.
#pragma once

#include <type_traits>

#include "cell_math.cuh"
#include "kernel_common.cuh"
#include "rnnad/cuda/persistent_rnn.h"

namespace rnnad::cuda {

#if defined(RNNAD_SIM) || (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900)
#define RNNAD_PERSISTENT_CLUSTERS 1
#else
#define RNNAD_PERSISTENT_CLUSTERS 0
#endif

/// The barrier that ends a step: the block's, or the cluster's when the state is split over a
/// cluster (C > 1 is only planned on devices with clusters, PersistentDevice::clusters).
__device__ __forceinline__ void persistent_barrier(int cluster) {
#if RNNAD_PERSISTENT_CLUSTERS
  if (cluster > 1) {
    cooperative_groups::this_cluster().sync();
    return;
  }
#endif
  static_cast<void>(cluster);
  __syncthreads();
}

/// Stores h into element `index` of buffer `buf` in every block of the cluster (C = 1: this
/// block's only).
__device__ __forceinline__ void persistent_share_h(RNNAD_SHARED_PTR(float) buf, int index, float h, int cluster) {
#if RNNAD_PERSISTENT_CLUSTERS
  if (cluster > 1) {
    const cooperative_groups::cluster_group group = cooperative_groups::this_cluster();
    for (int q = 0; q < cluster; ++q) group.map_shared_rank(buf, static_cast<unsigned>(q))[index] = h;
    return;
  }
#endif
  buf[index] = h;
}

/// acc[r][g] += w[g] * h[r][k] for the block's rows (h rows `hpad` apart in `h`).
template <int kGates, int kRows>
__device__ __forceinline__ void persistent_accumulate(float (&acc)[kRows][kGates], const float (&w)[kGates],
                                                      RNNAD_SHARED_PTR(float) h, int hpad, int k) {
  RNNAD_UNROLL
  for (int r = 0; r < kRows; ++r) {
    const float hv = h[r * hpad + k];
    RNNAD_UNROLL
    for (int g = 0; g < kGates; ++g) acc[r][g] = fmaf(w[g], hv, acc[r][g]);
  }
}

/// Two weights k = 2p (low half) and 2p + 1 (high half) of a gate packed in one word: F16 or BF16
/// bits of values exact in that format (so the narrowing below only drops zero bits).
template <PersistentWeights kW>
__device__ __forceinline__ unsigned persistent_pack(float lo, float hi) {
  static_assert(kW != PersistentWeights::F32, "16-bit pairs only");
  if constexpr (kW == PersistentWeights::BF16) return (__float_as_uint(lo) >> 16) | (__float_as_uint(hi) & 0xffff0000u);
  return float_to_half_bits(lo) | (float_to_half_bits(hi) << 16);
}

/// The two fp32 weights of a word packed by persistent_pack (exact).
template <PersistentWeights kW>
__device__ __forceinline__ void persistent_unpack(unsigned word, float& lo, float& hi) {
  static_assert(kW != PersistentWeights::F32, "16-bit pairs only");
  if constexpr (kW == PersistentWeights::BF16) {
    lo = __uint_as_float(word << 16);
    hi = __uint_as_float(word & 0xffff0000u);
  } else {
    lo = half_bits_to_float(word & 0xffffu);
    hi = half_bits_to_float(word >> 16);
  }
}

/// One level of the transposing reduction: rows [0, 2 kHalf) held, [0, kHalf) kept: this lane's
/// half (the upper one when lane bit `off` is set) plus the partner's copy of the same half.
template <int kHalf, int kGates, int kRows>
__device__ __forceinline__ void persistent_fold(float (&acc)[kRows][kGates], int lane, int off) {
  const bool upper = (lane & off) != 0;
  RNNAD_UNROLL
  for (int r = 0; r < kHalf; ++r) {
    RNNAD_UNROLL
    for (int g = 0; g < kGates; ++g) {
      const float send = upper ? acc[r][g] : acc[r + kHalf][g];
      const float keep = upper ? acc[r + kHalf][g] : acc[r][g];
      acc[r][g] = keep + __shfl_xor_sync(kFullWarpMask, send, off);
    }
  }
}

/// The whole recurrence; arguments and shapes: PersistentRnnArgs, work split: PersistentGeometry
/// (persistent_plan()). kGates: 4 LSTM or folded GRU (a.cell), 3 GRU, 1 RNN; kRows == geo.rows;
/// kRegKpt == geo.reg_kpt; kW == geo.weights (F32 whenever kRegKpt > 0). Shared-memory words hold
/// 16-bit pairs as the float of the same bits: moved, never computed with (finite F16 / BF16
/// halves never make a NaN pattern).
template <int kGates, int kRows, int kRegKpt, PersistentWeights kW = PersistentWeights::F32>
__global__ void __launch_bounds__(persistent_max_threads(kGates, kRegKpt, kRows))
    persistent_rnn_kernel(PersistentRnnArgs a, PersistentGeometry geo) {
  static_assert(kRegKpt == 0 || kW == PersistentWeights::F32, "registers hold fp32 weights");
  constexpr bool kPairs = kW != PersistentWeights::F32;
  const int H = a.hidden, G = kGates * H, S = geo.slices, kpt = geo.kpt, U = geo.units, C = geo.cluster;
  const int dsm = geo.grid_sync ? 1 : C;  // blocks sharing h through distributed shared memory
  const int hpad = S * (kRegKpt > 0 ? kRegKpt : kpt), threads = static_cast<int>(blockDim.x),
            tid = static_cast<int>(threadIdx.x);
  const int w_words = kPairs ? (kpt + 1) / 2 : kpt;  // shared-memory words per gate and thread
  const std::size_t w_count = kRegKpt > 0 ? 0
                                          : static_cast<std::size_t>(w_words) * static_cast<std::size_t>(kGates) *
                                                static_cast<std::size_t>(threads);
  RNNAD_DYNAMIC_SHARED_ARRAY(float, smem,
                             w_count + static_cast<std::size_t>(kRows) * static_cast<std::size_t>(2 * hpad + U));
  RNNAD_SHARED_PTR(float) w_s = smem;
  RNNAD_SHARED_PTR(float) h_s = smem + w_count;          // [2][kRows][hpad]
  RNNAD_SHARED_PTR(float) c_s = h_s + 2 * kRows * hpad;  // [kRows][U]

  const int s = tid % S, ju = tid / S;
  const int rank = static_cast<int>(blockIdx.x) % C, b0 = static_cast<int>(blockIdx.x) / C * kRows;
  const int j = rank * U + ju;
  const bool active = ju < U && j < H;
  const int rows = a.batch - b0 < kRows ? a.batch - b0 : kRows;
  const std::size_t B = static_cast<std::size_t>(a.batch);
  // The row whose sums this lane ends up holding after the reduction (step 3): the plan gives
  // rows > 1 at least as many lanes as rows, so each level halves the rows a lane holds, by the
  // lane's bits from the top, until one is left; the lane whose remaining bits are 0 updates it.
  int row0 = 0, off_left = S / 2;
  for (int half = kRows / 2; half >= 1; half /= 2, off_left /= 2)
    if ((s & off_left) != 0) row0 += half;
  const bool owner = active && row0 < rows && (off_left < 1 || (s & (2 * off_left - 1)) == 0);

  // The thread's weight W_hh[g H + j, k] = w_hh_t[k G + g H + j] of its i-th k (k = s + S i);
  // zero past H and for idle threads.
  auto weight = [&](int i, int g) {
    const int k = s + S * i;
    return active && k < H ? a.w_hh_t[static_cast<std::size_t>(k) * static_cast<std::size_t>(G) +
                                      static_cast<std::size_t>(g * H + j)]
                           : 0.0f;
  };
  // Word p of gate g of this thread in shared memory.
  auto w_at = [&](int p, int g) {
    return static_cast<std::size_t>(p * kGates + g) * static_cast<std::size_t>(threads) + static_cast<std::size_t>(tid);
  };
  float w_r[kRegKpt > 0 ? kRegKpt : 1][kGates];
  RNNAD_UNROLL
  for (int p = 0; p < (kRegKpt > 0 ? kRegKpt : w_words); ++p) {
    RNNAD_UNROLL
    for (int g = 0; g < kGates; ++g) {
      if constexpr (kRegKpt > 0)
        w_r[p][g] = weight(p, g);
      else if constexpr (kPairs)
        w_s[w_at(p, g)] = __uint_as_float(persistent_pack<kW>(weight(2 * p, g), weight(2 * p + 1, g)));
      else
        w_s[w_at(p, g)] = weight(p, g);
    }
  }
  // h0 into buffer 0 (every block of a cluster holds the whole h), zeros into buffer 1 (its
  // padding is never written again); c0 of the block's units.
  for (int e = tid; e < 2 * kRows * hpad; e += threads) {
    const int r = e / hpad % kRows, k = e % hpad;
    float h = 0.0f;
    if (e < kRows * hpad && r < rows && k < H && a.h0)
      h = a.h0[static_cast<std::size_t>(b0 + r) * static_cast<std::size_t>(a.ld_h0) + static_cast<std::size_t>(k)];
    h_s[e] = h;
  }
  for (int e = tid; e < kRows * U; e += threads) {
    const int r = e / U, jj = rank * U + e % U;
    float c = 0.0f;
    if (kGates == 4 && a.cell == PersistentCell::Lstm && a.c && r < rows && jj < H)
      c = a.c[static_cast<std::size_t>(b0 + r) * static_cast<std::size_t>(H) + static_cast<std::size_t>(jj)];
    c_s[e] = c;
  }
  // h0, the zeroed second buffer and c0 are staged before any thread reads them, and (clusters)
  // before another block's first step writes into this block's second buffer.
  persistent_barrier(dsm);

  for (int step = 0; step < a.seq_len; ++step) {
    const int t = a.reverse ? a.seq_len - 1 - step : step;
    RNNAD_SHARED_PTR(float) h_cur = h_s + (step % 2) * kRows * hpad;
    RNNAD_SHARED_PTR(float) h_next = h_s + ((step + 1) % 2) * kRows * hpad;
    // 1. The input part of the gates this lane will update.
    float x_part[kGates];
    RNNAD_UNROLL
    for (int g = 0; g < kGates; ++g) {
      float v = 0.0f;
      if (owner) {
        const std::size_t col = static_cast<std::size_t>(g * H + j);
        const float x = a.gx != nullptr ? a.gx[(static_cast<std::size_t>(t) * B + static_cast<std::size_t>(b0 + row0)) *
                                                   static_cast<std::size_t>(G) +
                                               col]
                                        : 0.0f;
        v = x + cell_bias(a.b_ih, col);
      }
      x_part[g] = v;
    }
    // 2. Partial sums over this lane's k.
    float acc[kRows][kGates];
    RNNAD_UNROLL
    for (int r = 0; r < kRows; ++r) {
      RNNAD_UNROLL
      for (int g = 0; g < kGates; ++g) acc[r][g] = 0.0f;
    }
    if constexpr (kRegKpt > 0) {
      RNNAD_UNROLL
      for (int i = 0; i < kRegKpt; ++i) persistent_accumulate<kGates, kRows>(acc, w_r[i], h_cur, hpad, s + S * i);
    } else if constexpr (kPairs) {
      // One word per gate carries k indices i and i + 1 (the pair past kpt is not summed, so the
      // sums are those of the fp32 words, term for term).
      for (int i = 0; i < kpt; i += 2) {
        float lo[kGates], hi[kGates];
        RNNAD_UNROLL
        for (int g = 0; g < kGates; ++g) {
          const float v = w_s[w_at(i / 2, g)];
          persistent_unpack<kW>(__float_as_uint(v), lo[g], hi[g]);
        }
        persistent_accumulate<kGates, kRows>(acc, lo, h_cur, hpad, s + S * i);
        if (i + 1 < kpt) persistent_accumulate<kGates, kRows>(acc, hi, h_cur, hpad, s + S * (i + 1));
      }
    } else {
      for (int i = 0; i < kpt; ++i) {
        float w[kGates];
        RNNAD_UNROLL
        for (int g = 0; g < kGates; ++g) {
          const float v = w_s[w_at(i, g)];
          w[g] = v;
        }
        persistent_accumulate<kGates, kRows>(acc, w, h_cur, hpad, s + S * i);
      }
    }
    // 3. The unit's S lanes are consecutive and aligned within a warp. While a lane holds more
    // than one row, each xor level halves its rows: it keeps one half (the upper one when its
    // bit `off` is set), sends the other to its partner and adds what the partner sent, so a
    // level costs half the shuffles of a plain butterfly. Then a butterfly over the lanes left.
    int off = S / 2;
    if constexpr (kRows >= 8) {
      persistent_fold<4>(acc, s, off);
      off /= 2;
    }
    if constexpr (kRows >= 4) {
      persistent_fold<2>(acc, s, off);
      off /= 2;
    }
    if constexpr (kRows >= 2) {
      persistent_fold<1>(acc, s, off);
      off /= 2;
    }
    for (; off >= 1; off /= 2) {
      RNNAD_UNROLL
      for (int g = 0; g < kGates; ++g) acc[0][g] += __shfl_xor_sync(kFullWarpMask, acc[0][g], off);
    }
    // 4. The update of row row0 (acc[0] holds its sums) by its owner lane.
    if (owner) {
      float sum[kGates];
      RNNAD_UNROLL
      for (int g = 0; g < kGates; ++g) sum[g] = acc[0][g] + cell_bias(a.b_hh, static_cast<std::size_t>(g * H + j));
      float h, c = 0.0f;
      if constexpr (kGates == 4) {
        if (a.cell == PersistentCell::GruFolded) {
          // Columns [r, z, n_h, n_x]: the input part of n is x_part[3] + sum[3], outside the reset.
          const float x[3] = {x_part[0], x_part[1], x_part[3] + sum[3]};
          const float r[3] = {sum[0], sum[1], sum[2]};
          const float h_prev = h_cur[row0 * hpad + j];
          h = cell_update<3>(x, r, h_prev, c, false);
        } else {
          c = c_s[row0 * U + ju];
          h = cell_update<4>(x_part, sum, 0.0f, c, false);
          c_s[row0 * U + ju] = c;
        }
      } else {
        float h_prev = 0.0f;
        if constexpr (kGates == 3) h_prev = h_cur[row0 * hpad + j];
        h = cell_update<kGates>(x_part, sum, h_prev, c, a.cell == PersistentCell::RnnRelu);
      }
      if (!geo.grid_sync) persistent_share_h(h_next, row0 * hpad + j, h, dsm);
      a.out[(static_cast<std::size_t>(t) * B + static_cast<std::size_t>(b0 + row0)) *
                static_cast<std::size_t>(a.ld_out) +
            static_cast<std::size_t>(j)] = h;
    }
    if (geo.grid_sync) {
      // 5'. Every block's h of this step is in `out` (global memory) before any block reads it.
      cooperative_groups::this_grid().sync();
      for (int e = tid; e < rows * H; e += threads) {
        const int r = e / H, k = e % H;
        const float h = a.out[(static_cast<std::size_t>(t) * B + static_cast<std::size_t>(b0 + r)) *
                                  static_cast<std::size_t>(a.ld_out) +
                              static_cast<std::size_t>(k)];
        h_next[r * hpad + k] = h;
      }
      // The whole next h is staged before the next step reads it; every thread has finished
      // reading h_cur, which the step after next overwrites.
      __syncthreads();
    } else {
      // 5. The next h is complete in every block's buffer before the next step reads it; every
      // thread has finished reading h_cur, which the step after next overwrites.
      persistent_barrier(dsm);
    }
  }

  RNNAD_SHARED_PTR(float) h_last = h_s + (a.seq_len % 2) * kRows * hpad;
  if (owner) {
    const std::size_t at =
        static_cast<std::size_t>(b0 + row0) * static_cast<std::size_t>(H) + static_cast<std::size_t>(j);
    const float h = h_last[row0 * hpad + j];
    if (a.h_n) a.h_n[at] = h;
    if (kGates == 4 && a.cell == PersistentCell::Lstm && a.c) {
      const float c = c_s[row0 * U + ju];
      a.c[at] = c;
    }
  }
}

/// Calls f(kernel) with the instantiation of persistent_rnn_kernel that runs plan `geo` for
/// `cell` (host code: the launcher and the harness tests launch what it hands them).
template <class F>
void persistent_kernel_for(PersistentCell cell, const PersistentGeometry& geo, F&& f) {
  auto by_kpt = [&](auto gates_tag) {
    constexpr int kG = decltype(gates_tag)::value;
    if (geo.reg_kpt == 0) {
      auto by_rows = [&](auto weights_tag) {
        constexpr PersistentWeights kW = decltype(weights_tag)::value;
        if (geo.rows == 1)
          f(persistent_rnn_kernel<kG, 1, 0, kW>);
        else
          f(persistent_rnn_kernel<kG, kPersistentWideRows, 0, kW>);
      };
      switch (geo.weights) {
        case PersistentWeights::F16:
          by_rows(std::integral_constant<PersistentWeights, PersistentWeights::F16>{});
          break;
        case PersistentWeights::BF16:
          by_rows(std::integral_constant<PersistentWeights, PersistentWeights::BF16>{});
          break;
        default:
          by_rows(std::integral_constant<PersistentWeights, PersistentWeights::F32>{});
          break;
      }
      return;
    }
    switch (geo.reg_kpt) {
      case 4:
        f(persistent_rnn_kernel<kG, 1, 4>);
        break;
      case 8:
        f(persistent_rnn_kernel<kG, 1, 8>);
        break;
      case 12:
        f(persistent_rnn_kernel<kG, 1, 12>);
        break;
      case 16:
        f(persistent_rnn_kernel<kG, 1, 16>);
        break;
      case 24:
        f(persistent_rnn_kernel<kG, 1, 24>);
        break;
      default:
        f(persistent_rnn_kernel<kG, 1, 32>);
        break;
    }
  };
  switch (persistent_gates(cell)) {
    case 4:
      by_kpt(std::integral_constant<int, 4>{});
      break;
    case 3:
      by_kpt(std::integral_constant<int, 3>{});
      break;
    default:
      by_kpt(std::integral_constant<int, 1>{});
      break;
  }
}

}  // namespace rnnad::cuda
