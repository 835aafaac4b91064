// Host launcher of the additive attention step kernel (body: attention.cuh).
#include "attention.cuh"
#include "cuda_check.h"
#include "rnnad/cuda/attention_kernel.h"

namespace rnnad::cuda {

void attention_step(const AttentionArgs& args, CUstream_st* stream) {
  check_attention_args(args);
  attention_step_kernel<<<dim3(attention_grid(args)), dim3(kAttentionThreads), 0, stream>>>(args);
  RNNAD_CUDA_CHECK_LAUNCH(attention_step_kernel);
}

}  // namespace rnnad::cuda
