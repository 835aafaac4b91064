#include "onednn_common.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace rnnad::bench::onednn {

const char* layout_name(WeightLayout layout) { return layout == WeightLayout::Plain ? "plain" : "any"; }

dnnl::memory in_layout(const dnnl::memory& user, const dnnl::memory::desc& wanted, const dnnl::engine& engine,
                       dnnl::stream& stream) {
  if (user.get_desc() == wanted) return user;
  dnnl::memory src = user, m(wanted, engine);  // memory objects are shared handles
  dnnl::reorder(src, m).execute(stream, src, m);
  stream.wait();
  return m;
}

std::string format_name(const dnnl::memory::desc& md, const std::string& dims) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind == dnnl_format_kind_rnn_packed) return "rnn_packed";
  if (d.format_kind != dnnl_blocked || d.ndims != static_cast<int>(dims.size())) return "other";
  if (d.format_desc.blocking.inner_nblks > 0) return "blocked";
  std::vector<int> order(dims.size());
  std::iota(order.begin(), order.end(), 0);
  const auto* strides = d.format_desc.blocking.strides;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return strides[a] > strides[b]; });
  std::string name;
  for (int k : order) name += dims[static_cast<std::size_t>(k)];
  return name;
}

}  // namespace rnnad::bench::onednn
