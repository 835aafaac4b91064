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
  if (geo.grid_sync) {
    // Every block resident at once; the grid-wide barrier orders the blocks' writes of h to `out`.
    attribute.id = cudaLaunchAttributeCooperative;
    attribute.val.cooperative = 1;
    config.attrs = &attribute;
    config.numAttrs = 1;
  } else if (geo.cluster > 1) {
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

bool persistent_clusters() {
  cudaFuncAttributes attributes{};
  RNNAD_CUDA_CHECK(cudaFuncGetAttributes(&attributes, persistent_rnn_kernel<4, 1, 0>));
  return attributes.ptxVersion >= 90;
}

int persistent_resident_groups(PersistentCell cell, const PersistentGeometry& geo, const PersistentDevice& dev) {
  int groups = 0;
  persistent_kernel_for(cell, geo, [&](auto kernel) {
    RNNAD_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(dev.max_shared_bytes)));
    if (geo.cluster > 1 && !geo.grid_sync) {
      cudaLaunchAttribute attribute{};
      const cudaLaunchConfig_t config = launch_config(geo, nullptr, attribute);
      RNNAD_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&groups, kernel, &config));
      return;
    }
    int per_sm = 0;
    RNNAD_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, static_cast<int>(geo.block_x),
                                                                   geo.shared_bytes));
    groups = per_sm * dev.sm_count;
  });
  return groups;
}

void persistent_rnn(const PersistentRnnArgs& args, const PersistentDevice& dev, CUstream_st* stream) {
  const PersistentGeometry geo = check_persistent_rnn_args(args, dev);
  persistent_kernel_for(args.cell, geo, [&](auto kernel) {
    // Above 48 KiB of dynamic shared memory a kernel must opt in (per function and device, for the
    // whole process): always to the device's limit, so that no launch on another host thread
    // lowers it under this one.
    RNNAD_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(dev.max_shared_bytes)));
    cudaLaunchAttribute attribute{};
    const cudaLaunchConfig_t config = launch_config(geo, stream, attribute);
    RNNAD_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, args, geo));
    RNNAD_CUDA_CHECK_LAUNCH(persistent_rnn_kernel);
  });
}

}  // namespace rnnad::cuda
