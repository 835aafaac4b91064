// The oneDNN CPU peer (performance.md §2.2, §2.5, §2.6): the rows' LSTM/GRU stacks run by
// oneDNN's RNN primitives (fp32 inference; GRU as lbr_gru), heads as inner products, on oneDNN's
// OpenMP threads. Built when CMake finds dnnl (backend_onednn.cpp); otherwise onednn_none.cpp
// provides a backend that says "not built".
#pragma once

#include <memory>

#include "backend.h"

namespace rnnad::bench {

/// The backend "onednn" running on `options.threads` OpenMP threads.
std::unique_ptr<Backend> make_onednn_backend(const BackendOptions& options);

}  // namespace rnnad::bench
