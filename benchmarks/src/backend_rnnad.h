// rnnad's own engine as a benchmark backend: "rnnad-cpu" (the Eigen path, also the reference of
// every check) and "rnnad-cuda" (Device::Cuda; the same public API, host pointers in and out).
#pragma once

#include <memory>

#include "backend.h"
#include "rnnad/device.h"

namespace rnnad::bench {

/// An rnnad::Engine on `device` (Cpu or Cuda) sized for `w` (max_batch = B, max_seq_len = T).
/// Throws whatever the Engine's constructor throws (UnsupportedError: no CUDA backend here).
std::unique_ptr<Instance> make_rnnad_instance(const Workload& w, Device device);

/// The backend "rnnad-cpu" (Device::Cpu) or "rnnad-cuda" (Device::Cuda).
std::unique_ptr<Backend> make_rnnad_backend(Device device);

}  // namespace rnnad::bench
