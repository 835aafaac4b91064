// Host launcher of the persistent recurrence kernel (body: persistent_rnn.cuh; contract and plan:
// rnnad/cuda/persistent_rnn.h). Every launch is checked (RNNAD_CUDA_CHECK_LAUNCH).
#include "cuda_check.h"
#include "persistent_rnn.cuh"
#include "rnnad/cuda/persistent_rnn.h"

namespace rnnad::cuda {

namespace {

// The launch configuration of plan `geo` (cluster attribute when geo.cluster > 1); `attribute`
// must outlive the returned config.
cudaLaunchConfig_t launch_config(const PersistentGeometry& geo, CUstream_st* stream, cudaLaunchAttribute& attribute) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(geo.grid_x);
  config.blockDim = dim3(geo.block_x);
  config.dynamicSmemBytes = geo.shared_bytes;
  config.stream = stream;
  if (geo.cluster > 1) {
    // The blocks of a cluster (consecutive blockIdx.x) share their h through distributed shared
    // memory; the plan only uses clusters where the device has them.
    attribute.id = cudaLaunchAttributeClusterDimension;
    attribute.val.clusterDim.x = static_cast<unsigned>(geo.cluster);
    attribute.val.clusterDim.y = 1;
    attribute.val.clusterDim.z = 1;
    config.attrs = &attribute;
    config.numAttrs = 1;
  }
  return config;
}

}  // namespace

int persistent_active_clusters(PersistentCell cell, const PersistentGeometry& geo) {
  int clusters = 0;
  persistent_kernel_for(cell, geo, [&](auto kernel) {
    RNNAD_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(geo.shared_bytes)));
    cudaLaunchAttribute attribute{};
    const cudaLaunchConfig_t config = launch_config(geo, nullptr, attribute);
    RNNAD_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&clusters, kernel, &config));
  });
  return clusters;
}

void persistent_rnn(const PersistentRnnArgs& args, const PersistentDevice& dev, CUstream_st* stream) {
  const PersistentGeometry geo = check_persistent_rnn_args(args, dev);
  persistent_kernel_for(args.cell, geo, [&](auto kernel) {
    // Above 48 KiB of dynamic shared memory a kernel must opt in (per function and device).
    RNNAD_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(geo.shared_bytes)));
    cudaLaunchAttribute attribute{};
    const cudaLaunchConfig_t config = launch_config(geo, stream, attribute);
    RNNAD_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, args, geo));
    RNNAD_CUDA_CHECK_LAUNCH(persistent_rnn_kernel);
  });
}

}  // namespace rnnad::cuda
