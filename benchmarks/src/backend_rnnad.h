// rnnad's own engine as a benchmark backend: "rnnad-cpu" (Device::Cpu, EngineOptions::cpu_kernels
// Auto) and "rnnad-cuda" (Device::Cuda; the same public API, host pointers in and out), plus
// "rnnad-cpu-ref" (the Eigen reference kernels, which also compute every check's reference),
// "rnnad-cuda-step", "rnnad-cuda-persistent" and "rnnad-cuda-gemm", which force one recurrence
// strategy (EngineOptions::cpu_kernels / cuda_kernels; run only when named with --backends).
#pragma once

#include <memory>

#include "backend.h"
#include "rnnad/device.h"
#include "rnnad/engine.h"

namespace rnnad::bench {

/// Which kernels an rnnad backend forces (EngineOptions::cpu_kernels, cuda_kernels).
struct RnnadKernels {
  CpuKernels cpu = CpuKernels::Auto;
  CudaKernels cuda = CudaKernels::Auto;
};

/// An rnnad::Engine on `device` (Cpu or Cuda) sized for `w` (max_batch = B, max_seq_len = T), on
/// `threads` CPU threads (EngineOptions::threads; the reference of every check uses 1 and
/// CpuKernels::Reference). Throws whatever the Engine's constructor throws (UnsupportedError:
/// no CUDA backend here).
std::unique_ptr<Instance> make_rnnad_instance(const Workload& w, Device device, RnnadKernels kernels = {},
                                              int threads = 1);

/// The backend "rnnad-cpu" (Device::Cpu on `threads` threads) or "rnnad-cpu-ref" (reference
/// kernels), "rnnad-cuda" (Device::Cuda, Auto) or with a forced strategy "rnnad-cuda-step",
/// "rnnad-cuda-persistent" or "rnnad-cuda-gemm".
std::unique_ptr<Backend> make_rnnad_backend(Device device, RnnadKernels kernels = {}, int threads = 1);

}  // namespace rnnad::bench
