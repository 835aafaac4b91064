// Host launcher of the fused LSTM cell step kernel (kernel body: lstm_cell.cuh; contract:
// rnnad/cuda/cell_kernels.h). Every launch is checked (RNNAD_CUDA_CHECK_LAUNCH).
#include "cuda_check.h"
#include "lstm_cell.cuh"
#include "rnnad/cuda/cell_kernels.h"

namespace rnnad::cuda {

void lstm_cell_step(const LstmCellStepArgs& args, CUstream_st* stream) {
  check_lstm_cell_step_args(args);
  const CellStepGeometry geo = cell_step_geometry(args.batch, args.hidden);
  lstm_cell_step_kernel<<<dim3(geo.grid_x, geo.grid_y), dim3(geo.block_x, geo.block_y), 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(lstm_cell_step_kernel);
}

}  // namespace rnnad::cuda
