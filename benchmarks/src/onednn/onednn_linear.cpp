#include "onednn_linear.h"

#include <algorithm>

namespace rnnad::bench::onednn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

Linear::Linear(const dnnl::engine& engine, dnnl::stream& stream, const Model& model, const std::string& name, int64_t M,
               WeightLayout layout) {
  const Weight& w = model.weight(name + ".weight");
  const Weight& b = model.weight(name + ".bias");
  const int64_t out = w.shape.at(0), in = w.shape.at(1);
  memory weights({{out, in}, dt::f32, tag::oi}, engine), bias({{out}, dt::f32, tag::x}, engine);
  std::copy(w.values.begin(), w.values.end(), static_cast<float*>(weights.get_data_handle()));
  std::copy(b.values.begin(), b.values.end(), static_cast<float*>(bias.get_data_handle()));
  const memory::desc src_md({M, in}, dt::f32, tag::nc), dst_md({M, out}, dt::f32, tag::nc);
  const memory::desc w_md({out, in}, dt::f32, layout == WeightLayout::Plain ? tag::oi : tag::any);
  const dnnl::inner_product_forward::primitive_desc pd(
      dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_inference, src_md, w_md, bias.get_desc(), dst_md),
      engine);
  m_primitive = dnnl::inner_product_forward(pd);
  m_src = memory(src_md, engine, nullptr);
  m_dst = memory(dst_md, engine, nullptr);
  m_args = {{DNNL_ARG_SRC, m_src},
            {DNNL_ARG_WEIGHTS, in_layout(weights, pd.weights_desc(), engine, stream)},
            {DNNL_ARG_BIAS, bias},
            {DNNL_ARG_DST, m_dst}};
}

void Linear::forward(dnnl::stream& stream, const float* x, float* y) {
  m_src.set_data_handle(const_cast<float*>(x));  // oneDNN never writes a source
  m_dst.set_data_handle(y);
  m_primitive.execute(stream, m_args);
}

}  // namespace rnnad::bench::onednn
