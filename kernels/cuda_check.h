// Checking of CUDA runtime calls and kernel launches (style.md §2.5-2.6): every failure becomes
// an rnnad::CudaError naming the call, file, line and CUDA's message. Never exit() or abort().
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "rnnad/error.h"

namespace rnnad::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  throw CudaError(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                  cudaGetErrorName(status) + ": " + cudaGetErrorString(status));
}

}  // namespace rnnad::cuda

/// Evaluates a CUDA runtime call and throws rnnad::CudaError when it does not return cudaSuccess.
#define RNNAD_CUDA_CHECK(call)                                                         \
  do {                                                                                 \
    const cudaError_t rnnad_status_ = (call);                                          \
    if (rnnad_status_ != cudaSuccess)                                                  \
      ::rnnad::cuda::throw_cuda_error(rnnad_status_, #call, __FILE__, __LINE__);       \
  } while (0)

/// Checks the launch just made (configuration errors surface here, not in a later call).
#define RNNAD_CUDA_CHECK_LAUNCH(kernel_name) RNNAD_CUDA_CHECK(cudaGetLastError())
