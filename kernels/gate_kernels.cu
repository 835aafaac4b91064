// Host launcher of the element-wise gate update (body: gate_kernels.cuh; contract:
// rnnad/cuda/gate_kernels.h).
#include "cuda_check.h"
#include "gate_kernels.cuh"
#include "rnnad/cuda/gate_kernels.h"

namespace rnnad::cuda {

void cell_gates(const CellGatesArgs& args, CUstream_st* stream) {
  check_cell_gates_args(args);
  const dim3 grid(cell_gates_blocks(args)), block(kCellGatesThreads);
  switch (args.cell) {
    case CellType::Lstm:
      cell_gates_kernel<4><<<grid, block, 0, stream>>>(args);
      break;
    case CellType::Gru:
      cell_gates_kernel<3><<<grid, block, 0, stream>>>(args);
      break;
    default:
      cell_gates_kernel<1><<<grid, block, 0, stream>>>(args);
      break;
  }
  RNNAD_CUDA_CHECK_LAUNCH(cell_gates_kernel);
}

}  // namespace rnnad::cuda
