// A linear head (PyTorch nn.Linear: y = x Wᵀ + b) of an rnnad model as a oneDNN inner product,
// fp32 inference.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "onednn_common.h"
#include "rnnad/model.h"

namespace rnnad::bench::onednn {

/// The tensors `name`.weight [out, in] and `name`.bias [out] of `model`, for calls on M rows.
class Linear {
 public:
  /// Builds the primitive and puts the weight in `layout` (plain: oi). Throws dnnl::error.
  Linear(const dnnl::engine& engine, dnnl::stream& stream, const Model& model, const std::string& name, int64_t M,
         WeightLayout layout);
  /// y [M, out] = x [M, in] Wᵀ + b. Runs on `stream`; does not wait.
  void forward(dnnl::stream& stream, const float* x, float* y);

 private:
  dnnl::primitive m_primitive;
  dnnl::memory m_src, m_dst;
  std::unordered_map<int, dnnl::memory> m_args;
};

}  // namespace rnnad::bench::onednn
