// The registry of backends: the one place that lists them (report order).
#include "backend.h"
#include "backend_cudnn.h"
#include "backend_onednn.h"
#include "backend_rnnad.h"

namespace rnnad::bench {

std::vector<std::unique_ptr<Backend>> make_backends(const BackendOptions& options) {
  std::vector<std::unique_ptr<Backend>> b;
  b.push_back(make_rnnad_backend(Device::Cpu, {}, options.threads));
  b.push_back(make_rnnad_backend(Device::Cpu, {CpuKernels::Reference, CudaKernels::Auto}, options.threads));
  // CPU peers (performance.md §2.2, §2.5); PyTorch's numbers come from torch_bench.py (merge.h).
  b.push_back(make_onednn_backend(options));
  b.push_back(make_rnnad_backend(Device::Cuda));
  b.push_back(make_rnnad_backend(Device::Cuda, {CpuKernels::Auto, CudaKernels::Step}));
  b.push_back(make_rnnad_backend(Device::Cuda, {CpuKernels::Auto, CudaKernels::Persistent}));
  b.push_back(make_rnnad_backend(Device::Cuda, {CpuKernels::Auto, CudaKernels::Gemm}));
  b.push_back(make_cudnn_backend());
  return b;
}

}  // namespace rnnad::bench
