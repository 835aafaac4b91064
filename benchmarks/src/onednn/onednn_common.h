// Shared pieces of the oneDNN peer (performance.md §2.2, §2.5): the weight-layout choice and the
// helpers that put a set of user weights into the layout a primitive asked for.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>

namespace rnnad::bench::onednn {

/// How the primitives hold their weights: the plain user layout (RNN ldigo, inner product oi) or
/// the one oneDNN picks itself (format_tag::any, reordered once at setup; RNN inference: packed).
enum class WeightLayout { Plain, Any };

/// "plain" or "any".
const char* layout_name(WeightLayout layout);

/// `user` itself when the primitive wants `wanted` = user's layout; else a new memory of layout
/// `wanted` filled by one reorder on `stream` (setup only).
dnnl::memory in_layout(const dnnl::memory& user, const dnnl::memory::desc& wanted, const dnnl::engine& engine,
                       dnnl::stream& stream);

/// A memory layout for the report: "rnn_packed", "blocked" (inner blocks), or the dimension names
/// `dims` (e.g. "ldigo", one letter per dimension) ordered from outermost to innermost stride.
std::string format_name(const dnnl::memory::desc& md, const std::string& dims);

}  // namespace rnnad::bench::onednn
