// Score kernels of a batch of reconstructed windows (device code; contracts and geometry in
// rnnad/cuda/score_kernels.h; rules in docs/kernels.md). The arithmetic is rnnad/score_math.h, the
// functions the host Scorer calls. Float64 except the gathered model input.
#pragma once

#include <climits>
#include <cstddef>

#include "kernel_common.cuh"
#include "rnnad/cuda/score_kernels.h"
#include "rnnad/score_math.h"

namespace rnnad::cuda {

/// x[t, w, f] = float(rows[(w·stride + t)·F + f]); arguments: GatherWindowsArgs.
template <class Row>
__global__ void __launch_bounds__(kScoreThreads) gather_windows_kernel(GatherWindowsArgs<Row> a) {
  const ScoreBatchDims d = a.dims;
  const long long i = static_cast<long long>(blockIdx.x) * kScoreThreads + static_cast<long long>(threadIdx.x);
  if (i >= static_cast<long long>(d.seq_len) * d.count * d.features) return;
  const long long f = i % d.features, tw = i / d.features, w = tw % d.count, t = tw / d.count;
  a.x[i] = static_cast<float>(a.rows[static_cast<std::size_t>((w * d.stride + t) * d.features + f)]);
}

/// One step's error vector and score; arguments: WindowErrorArgs.
__global__ void __launch_bounds__(kScoreThreads) window_errors_kernel(WindowErrorArgs a) {
  const ScoreBatchDims d = a.dims;
  const int i = static_cast<int>(blockIdx.x) * kScoreThreads + static_cast<int>(threadIdx.x);
  if (i >= d.count * d.seq_len) return;
  const int w = i / d.seq_len, t = i % d.seq_len, F = d.features;
  const double* x =
      a.rows + static_cast<std::size_t>(static_cast<long long>(w) * d.stride + t) * static_cast<std::size_t>(F);
  const float* rec =
      a.recon + (static_cast<std::size_t>(t) * static_cast<std::size_t>(d.count) + static_cast<std::size_t>(w)) *
                    static_cast<std::size_t>(F);
  double* e = a.work + static_cast<std::size_t>(i) * static_cast<std::size_t>(window_error_work(a.terms.method, F));
  double* contrib = a.contrib + static_cast<std::size_t>(i) * static_cast<std::size_t>(F);
  bool finite = true;
  for (int f = 0; f < F; ++f) {
    const float r = rec[f];
    finite = finite && isfinite(r);
    e[f] = x[f] - static_cast<double>(r);
  }
  if (!finite) {
    atomicMin(a.bad, i);
    a.scores[i] = NAN;
    for (int f = 0; f < F; ++f) contrib[f] = NAN;
    return;
  }
  a.scores[i] = score_error_vector(a.terms, e, nullptr, F, contrib, e + F);
}

/// Pools one row of the batch (block blockIdx.x); arguments: PoolRowsArgs.
__global__ void __launch_bounds__(kScoreThreads) pool_rows_kernel(PoolRowsArgs a) {
  const ScoreBatchDims d = a.dims;
  const long long r = static_cast<long long>(blockIdx.x), row = a.first_row + r;
  const int F = d.features, T = d.seq_len;
  double* slot = a.ring + static_cast<std::size_t>(row % a.capacity) * static_cast<std::size_t>(F + 1);
  const bool fresh = row >= a.fresh_row;
  // Windows covering r, in the order the host pools them.
  const long long lo = r < T ? 0 : (r - T + 1 + d.stride - 1) / d.stride;
  const long long hi = r / d.stride < d.count - 1 ? r / d.stride : d.count - 1;
  const double score0 = fresh ? NAN : slot[0];
  // Every thread has read the row's pooled score before thread 0 overwrites it below (global memory).
  __syncthreads();
  for (int c = static_cast<int>(threadIdx.x); c <= F; c += kScoreThreads) {
    double s = score0, v = fresh ? NAN : slot[c];
    for (long long w = lo; w <= hi; ++w) {
      const long long step = w * T + (r - w * d.stride);
      const double sc = a.scores[step];
      const double x = c == 0 ? sc
                              : a.contrib[static_cast<std::size_t>(step) * static_cast<std::size_t>(F) +
                                          static_cast<std::size_t>(c - 1)];
      const bool first = isnan(s);  // no window yet (the host's test)
      v = pool_value(a.pooling, first, sc, s, x, v);
      s = pool_value(a.pooling, first, sc, s, sc, s);
    }
    slot[c] = v;
  }
}

/// Spread of feature blockIdx.x's outputs and inputs; arguments: SpreadArgs.
__global__ void __launch_bounds__(kScoreThreads) output_spread_kernel(SpreadArgs a) {
  const ScoreBatchDims d = a.dims;
  const int f = static_cast<int>(blockIdx.x), tid = static_cast<int>(threadIdx.x), F = d.features;
  RunningStats out, in;
  for (int i = tid; i < d.count * d.seq_len; i += kScoreThreads) {
    const int w = i / d.seq_len, t = i % d.seq_len;
    out.add(static_cast<double>(
        a.recon[(static_cast<std::size_t>(t) * static_cast<std::size_t>(d.count) + static_cast<std::size_t>(w)) *
                    static_cast<std::size_t>(F) +
                static_cast<std::size_t>(f)]));
    in.add(
        a.rows[static_cast<std::size_t>(w * d.stride + t) * static_cast<std::size_t>(F) + static_cast<std::size_t>(f)]);
  }
  // [0, 128): outputs, [128, 256): inputs.
  RNNAD_SHARED_ARRAY(long long, n_s, 2 * kScoreThreads);
  RNNAD_SHARED_ARRAY(double, mean_s, 2 * kScoreThreads);
  RNNAD_SHARED_ARRAY(double, m2_s, 2 * kScoreThreads);
  n_s[tid] = out.count;
  mean_s[tid] = out.mean;
  m2_s[tid] = out.m2;
  n_s[kScoreThreads + tid] = in.count;
  mean_s[kScoreThreads + tid] = in.mean;
  m2_s[kScoreThreads + tid] = in.m2;
  for (int half = kScoreThreads / 2; half > 0; half /= 2) {
    // Every partial of this level is written before a thread merges its partner's.
    __syncthreads();
    if (tid < half) {
      for (int k = 0; k < 2; ++k) {
        const int mine = k * kScoreThreads + tid, other = mine + half;
        RunningStats s, o;
        s.count = n_s[mine];
        s.mean = mean_s[mine];
        s.m2 = m2_s[mine];
        o.count = n_s[other];
        o.mean = mean_s[other];
        o.m2 = m2_s[other];
        s.merge(o);
        n_s[mine] = s.count;
        mean_s[mine] = s.mean;
        m2_s[mine] = s.m2;
      }
    }
  }
  if (tid == 0) {  // thread 0 wrote both totals itself at the last level
    for (int k = 0; k < 2; ++k) {
      double* st = a.stats + static_cast<std::size_t>(k * F + f) * 3;
      const long long n = n_s[k * kScoreThreads];
      st[0] = static_cast<double>(n);
      st[1] = mean_s[k * kScoreThreads];
      st[2] = m2_s[k * kScoreThreads];
    }
  }
}

}  // namespace rnnad::cuda
