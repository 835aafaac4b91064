// Device enumeration for Device::Auto and the GPU tests' skip decision (design.md §5: without a
// driver cudaGetDeviceCount returns an error, not zero devices; any error means "no GPU").
#include <cuda_runtime.h>

#include "rnnad/cuda/device_query.h"

namespace rnnad::cuda {

int device_count() noexcept {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // clear the error so later calls are not blamed for it
    return 0;
  }
  return count;
}

}  // namespace rnnad::cuda
