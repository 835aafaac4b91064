// Host launcher of the bias row-broadcast kernel (body: row_kernels.cuh).
#include "cuda_check.h"
#include "rnnad/cuda/row_kernels.h"
#include "row_kernels.cuh"

namespace rnnad::cuda {

void bias_rows(const BiasRowsArgs& args, CUstream_st* stream) {
  check_bias_rows_args(args);
  const BiasRowsGeometry geo = bias_rows_geometry(args);
  bias_rows_kernel<<<dim3(geo.grid_x, geo.grid_y), dim3(geo.block_x), 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(bias_rows_kernel);
}

}  // namespace rnnad::cuda
