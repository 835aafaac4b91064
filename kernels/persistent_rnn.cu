// Host launcher of the persistent recurrence kernel (body: persistent_rnn.cuh; contract:
// rnnad/cuda/persistent_rnn.h). Every launch is checked (RNNAD_CUDA_CHECK_LAUNCH).
#include "cuda_check.h"
#include "persistent_rnn.cuh"
#include "rnnad/cuda/persistent_rnn.h"

namespace rnnad::cuda {

namespace {

template <int kRows>
void launch(const PersistentRnnArgs& args, const PersistentGeometry& geo, CUstream_st* stream) {
  // Above 48 KiB of dynamic shared memory a kernel must opt in (per function and device).
  RNNAD_CUDA_CHECK(cudaFuncSetAttribute(persistent_rnn_kernel<kRows>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(geo.shared_bytes)));
  persistent_rnn_kernel<kRows><<<dim3(geo.grid_x), dim3(geo.block_x), geo.shared_bytes, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(persistent_rnn_kernel);
}

}  // namespace

void persistent_rnn(const PersistentRnnArgs& args, std::size_t max_shared_bytes, CUstream_st* stream) {
  check_persistent_rnn_args(args, max_shared_bytes);
  const PersistentGeometry geo = persistent_geometry(args);
  if (geo.rows == 1) launch<1>(args, geo, stream);
  else launch<8>(args, geo, stream);
}

}  // namespace rnnad::cuda
