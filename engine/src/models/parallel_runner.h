// The CPU runner on several threads (internal): a call's batch is split into contiguous slices,
// one per thread, each run by its own CPU graph with its own buffers, or the tiled kernel splits
// it itself (EngineOptions::threads).
#pragma once

#include <memory>

#include "runner.h"

namespace rnnad::detail {

/// A CPU runner for `model` that splits each call's batch over `threads` (>= 2) threads: batch
/// columns [b0, b0 + b) of every time-major tensor go to one thread's graph, gathered into and
/// scattered out of its own buffers. A bare stack on the tiled kernel (kind rnn) instead splits
/// its own calls over the pool (cpu::Team: row shares, or hidden units for small batches of
/// large layers), and batch-1 calls of the other graphs lend the pool to their stacks. Calls too
/// small to pay for the hand-off (estimated work below kMinParallelMacs multiply-adds) run on the
/// calling thread. The split depends only on the call's shapes and the thread count, so results
/// are repeatable bit for bit for a given thread count; they may differ from one thread's in the
/// last bits (a GEMM over fewer rows may block its sums differently). Buffers: one full-size
/// graph plus, unless the stack splits itself, threads − 1 graphs of ceil(max_batch / threads),
/// all allocated here; calls allocate nothing.
std::unique_ptr<Runner> make_parallel_cpu_runner(const Model& model, int64_t max_batch, int64_t max_seq_len,
                                                 int threads, CpuKernels kernels = CpuKernels::Auto);

/// Multiply-adds below which a call stays on one thread (about 30 µs of work on one core).
inline constexpr int64_t kMinParallelMacs = int64_t{1} << 20;

}  // namespace rnnad::detail
