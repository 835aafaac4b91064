// Host launcher of the fused GRU cell step kernel (kernel body: gru_cell.cuh; contract:
// rnnad/cuda/cell_kernels.h). Every launch is checked (RNNAD_CUDA_CHECK_LAUNCH).
#include "cuda_check.h"
#include "gru_cell.cuh"
#include "rnnad/cuda/cell_kernels.h"

namespace rnnad::cuda {

void gru_cell_step(const GruCellStepArgs& args, CUstream_st* stream) {
  check_gru_cell_step_args(args);
  const CellStepGeometry geo = cell_step_geometry(args.batch, args.hidden);
  gru_cell_step_kernel<<<dim3(geo.grid_x, geo.grid_y), dim3(geo.block_x, geo.block_y), 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(gru_cell_step_kernel);
}

}  // namespace rnnad::cuda
