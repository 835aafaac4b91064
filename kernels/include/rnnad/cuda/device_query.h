// Host-side CUDA device queries, callable from code compiled without nvcc.
#pragma once

namespace rnnad::cuda {

/// Number of CUDA devices; 0 when the runtime reports any error (no driver, no device,
/// insufficient driver), after clearing the runtime's sticky error state.
int device_count() noexcept;

}  // namespace rnnad::cuda
