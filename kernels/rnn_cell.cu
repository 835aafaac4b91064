// Host launcher of the fused RNN (tanh/relu) cell step kernel (kernel body: rnn_cell.cuh;
// contract: rnnad/cuda/cell_kernels.h). Every launch is checked (RNNAD_CUDA_CHECK_LAUNCH).
#include "cuda_check.h"
#include "rnn_cell.cuh"
#include "rnnad/cuda/cell_kernels.h"

namespace rnnad::cuda {

void rnn_cell_step(const RnnCellStepArgs& args, CUstream_st* stream) {
  check_rnn_cell_step_args(args);
  const CellStepGeometry geo = cell_step_geometry(args.batch, args.hidden);
  rnn_cell_step_kernel<<<dim3(geo.grid_x, geo.grid_y), dim3(geo.block_x, geo.block_y), 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(rnn_cell_step_kernel);
}

}  // namespace rnnad::cuda
