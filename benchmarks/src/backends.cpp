// The registry of backends: the one place that lists them (report order).
#include "backend.h"
#include "backend_cudnn.h"
#include "backend_rnnad.h"

namespace rnnad::bench {

std::vector<std::unique_ptr<Backend>> make_backends() {
  std::vector<std::unique_ptr<Backend>> b;
  b.push_back(make_rnnad_backend(Device::Cpu));
  // CPU peers go here, e.g. a oneDNN backend (backend_onednn.cpp, compiled when CMake finds
  // dnnl; performance.md §2.2 and §2.5) with DeviceClass::Cpu.
  b.push_back(make_rnnad_backend(Device::Cuda));
  b.push_back(make_rnnad_backend(Device::Cuda, CudaKernels::Step));
  b.push_back(make_rnnad_backend(Device::Cuda, CudaKernels::Persistent));
  b.push_back(make_cudnn_backend());
  return b;
}

}  // namespace rnnad::bench
