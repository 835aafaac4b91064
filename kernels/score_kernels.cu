// Host launchers of the score kernels (bodies: score_kernels.cuh; contracts:
// rnnad/cuda/score_kernels.h).
#include "cuda_check.h"
#include "rnnad/cuda/score_kernels.h"
#include "score_kernels.cuh"

namespace rnnad::cuda {

namespace {

template <class Row>
void launch_gather(const GatherWindowsArgs<Row>& args, CUstream_st* stream) {
  check_score_dims("gather_windows", args.dims);
  if (!args.rows || !args.x) throw ShapeError("gather_windows: rows and x must not be null");
  const long long n = static_cast<long long>(args.dims.seq_len) * args.dims.count * args.dims.features;
  if (n / kScoreThreads >= 0x7fffffffLL)
    throw ShapeError("gather_windows: " + std::to_string(n) + " elements exceed one launch's grid");
  gather_windows_kernel<Row><<<score_blocks(n), kScoreThreads, 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(gather_windows_kernel);
}

}  // namespace

void gather_windows(const GatherWindowsArgs<double>& args, CUstream_st* stream) { launch_gather(args, stream); }
void gather_windows(const GatherWindowsArgs<float>& args, CUstream_st* stream) { launch_gather(args, stream); }

void window_errors(const WindowErrorArgs& args, CUstream_st* stream) {
  check_window_error_args(args);
  window_errors_kernel<<<score_blocks(static_cast<long long>(args.dims.count) * args.dims.seq_len), kScoreThreads, 0,
                         stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(window_errors_kernel);
}

void pool_rows(const PoolRowsArgs& args, CUstream_st* stream) {
  check_pool_rows_args(args);
  pool_rows_kernel<<<static_cast<unsigned>(args.extent()), kScoreThreads, 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(pool_rows_kernel);
}

void output_spread(const SpreadArgs& args, CUstream_st* stream) {
  check_score_dims("output_spread", args.dims);
  if (!args.rows || !args.recon || !args.stats)
    throw ShapeError("output_spread: rows, recon and stats must not be null");
  output_spread_kernel<<<static_cast<unsigned>(args.dims.features), kScoreThreads, 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(output_spread_kernel);
}

void prediction_errors(const PredictionErrorArgs& args, CUstream_st* stream) {
  check_prediction_error_args(args);
  prediction_errors_kernel<<<score_blocks(args.dims.count), kScoreThreads, 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(prediction_errors_kernel);
}

void prediction_spread(const PredictionSpreadArgs& args, CUstream_st* stream) {
  check_score_dims("prediction_spread", args.dims);
  if (args.targets < 1 || !args.target_cols || !args.rows || !args.pred || !args.stats ||
      args.rows_in < args.dims.span() || args.rows_in > args.dims.span() + 1)
    throw ShapeError(
        "prediction_spread: targets >= 1, rows_in the span or the span + 1, and target_cols, rows, "
        "pred and stats not null");
  prediction_spread_kernel<<<static_cast<unsigned>(args.targets + 1), kScoreThreads, 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(prediction_spread_kernel);
}

void keep_history(const KeepHistoryArgs& args, CUstream_st* stream) {
  if (args.keep < 1 || args.count < 1 || args.size < 1 || !args.history || !args.pred || !args.next)
    throw ShapeError("keep_history: keep, count and size must be >= 1 and the arrays not null");
  keep_history_kernel<<<score_blocks(static_cast<long long>(args.keep) * args.size), kScoreThreads, 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(keep_history_kernel);
}

}  // namespace rnnad::cuda
