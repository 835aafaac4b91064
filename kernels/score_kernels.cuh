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

/// Merges every thread's two partial stats a and b across the block (Chan's combination over a
/// fixed tree: the same order on every run); thread 0 writes the totals to st_a and st_b as
/// (count, mean, m2). Every thread of the block calls it.
__device__ __forceinline__ void block_spread(const RunningStats& a, const RunningStats& b, double* st_a, double* st_b) {
  const int tid = static_cast<int>(threadIdx.x);
  // [0, 128): a, [128, 256): b.
  RNNAD_SHARED_ARRAY(long long, n_s, 2 * kScoreThreads);
  RNNAD_SHARED_ARRAY(double, mean_s, 2 * kScoreThreads);
  RNNAD_SHARED_ARRAY(double, m2_s, 2 * kScoreThreads);
  n_s[tid] = a.count;
  mean_s[tid] = a.mean;
  m2_s[tid] = a.m2;
  n_s[kScoreThreads + tid] = b.count;
  mean_s[kScoreThreads + tid] = b.mean;
  m2_s[kScoreThreads + tid] = b.m2;
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
      double* st = k == 0 ? st_a : st_b;
      const long long n = n_s[k * kScoreThreads];
      st[0] = static_cast<double>(n);
      st[1] = mean_s[k * kScoreThreads];
      st[2] = m2_s[k * kScoreThreads];
    }
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
  block_spread(out, in, a.stats + static_cast<std::size_t>(f) * 3, a.stats + static_cast<std::size_t>(F + f) * 3);
}

/// The series value of target j in the batch's row r (row-major rows of width F).
__device__ __forceinline__ double prediction_target(const PredictionErrorArgs& a, long long r, int j) {
  return a.rows[static_cast<std::size_t>(r) * static_cast<std::size_t>(a.dims.features) +
                static_cast<std::size_t>(a.target_cols[j])];
}

/// One window's forecast scored; arguments: PredictionErrorArgs.
__global__ void __launch_bounds__(kScoreThreads) prediction_errors_kernel(PredictionErrorArgs a) {
  const int w = static_cast<int>(blockIdx.x) * kScoreThreads + static_cast<int>(threadIdx.x);
  if (w >= a.dims.count) return;
  const int d = a.targets, K = a.moments, L = a.horizon, P = a.size();
  const float* pr = a.pred + static_cast<std::size_t>(w) * static_cast<std::size_t>(P);
  double* contrib = a.contrib + static_cast<std::size_t>(w) * static_cast<std::size_t>(d);
  double* e =
      a.work + static_cast<std::size_t>(w) * static_cast<std::size_t>(prediction_error_work(a.terms.method, d, L));
  bool finite = true;
  for (int k = 0; k < P; ++k) finite = finite && isfinite(pr[k]);
  if (!finite) atomicMin(a.bad, w);
  a.scores[w] = NAN;
  for (int j = 0; j < d; ++j) contrib[j] = NAN;
  if (!finite || !a.has_target(w)) return;
  const long long r = static_cast<long long>(w) * a.dims.stride + a.dims.seq_len;
  if (a.terms.method == ScoreMethod::LstmAd) {
    // u[j·L + h]: the (h+1)-step-ahead mean made by window w − h (stride 1: after row r − 1 − h).
    for (int h = 0; h < L; ++h) {
      if (a.first_window + w - h < 0) return;  // the series has no such window: no score (as the host)
      const float* src = w >= h ? a.pred + static_cast<std::size_t>(w - h) * static_cast<std::size_t>(P)
                                : a.history + static_cast<std::size_t>(L - 1 + w - h) * static_cast<std::size_t>(P);
      for (int j = 0; j < d; ++j) e[j * L + h] = prediction_target(a, r, j) - static_cast<double>(src[(h * K) * d + j]);
    }
    a.scores[w] = score_lstm_ad(a.terms, e, d, L, contrib, e + d * L, e + 2 * d * L);
    return;
  }
  double* logvar = e + d;
  for (int j = 0; j < d; ++j) {
    e[j] = prediction_target(a, r, j) - static_cast<double>(pr[j]);
    if (K == 2) logvar[j] = static_cast<double>(pr[d + j]);
  }
  a.scores[w] = score_error_vector(a.terms, e, logvar, d, contrib, e + 2 * d);
}

/// Spread of a batch's forecasts: block j < d target j, block d echo and step; arguments:
/// PredictionSpreadArgs.
__global__ void __launch_bounds__(kScoreThreads) prediction_spread_kernel(PredictionSpreadArgs a) {
  const int b = static_cast<int>(blockIdx.x), tid = static_cast<int>(threadIdx.x), d = a.targets, P = a.size();
  RunningStats first, second;
  // Block d walks count·d values: beyond int for a large batch of many targets.
  const long long n = b < d ? a.dims.count : static_cast<long long>(a.dims.count) * d;
  for (long long i = tid; i < n; i += kScoreThreads) {
    const long long w = b < d ? i : i / d;
    const int j = b < d ? b : static_cast<int>(i % d);
    if (!a.has_target(w)) continue;
    const long long r = static_cast<long long>(w) * a.dims.stride + a.dims.seq_len;
    const double mean = static_cast<double>(
        a.pred[static_cast<std::size_t>(w) * static_cast<std::size_t>(P) + static_cast<std::size_t>(j)]);
    const double next = prediction_target(a, r, j);
    if (b < d) {
      first.add(mean);
      second.add(next);
    } else {
      const double last = prediction_target(a, r - 1, j);
      first.add(fabs(mean - last));
      second.add(fabs(next - last));
    }
  }
  double* st = a.stats;
  if (b < d)
    block_spread(first, second, st + static_cast<std::size_t>(b) * 3, st + static_cast<std::size_t>(d + b) * 3);
  else
    block_spread(first, second, st + static_cast<std::size_t>(2 * d) * 3, st + static_cast<std::size_t>(2 * d + 1) * 3);
}

/// One element of the kept history; arguments: KeepHistoryArgs.
__global__ void __launch_bounds__(kScoreThreads) keep_history_kernel(KeepHistoryArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * kScoreThreads + static_cast<long long>(threadIdx.x);
  if (i >= static_cast<long long>(a.keep) * a.size) return;
  const long long row = i / a.size, k = i % a.size, src = a.count + row;  // in history ++ pred
  a.next[i] = src < a.keep ? a.history[src * a.size + k] : a.pred[(src - a.keep) * a.size + k];
}

}  // namespace rnnad::cuda
