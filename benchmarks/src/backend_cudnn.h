// The cuDNN 9 baseline (performance.md §1): cudnnRNNForward through the v8 API, cuDNN loaded
// with dlopen at run time (cudnn_loader.h), fp32 data and FMA math, best of the four algorithms.
#pragma once

#include <memory>

#include "backend.h"

namespace rnnad::bench {

/// The backend "cudnn". In a build without CUDA it probes as unavailable and says why.
std::unique_ptr<Backend> make_cudnn_backend();

}  // namespace rnnad::bench
