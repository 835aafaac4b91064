// The per-kind model graphs as templates over a backend (cpu_backend.h describes the interface),
// and make_graph(), which picks the graph for a model's kind (internal).
#pragma once

#include "attention_graph.h"
#include "prediction_graph.h"
#include "reconstruction_graph.h"
#include "rnn_graph.h"
#include "rnnad/error.h"

namespace rnnad::detail {

/// The graph of `model`'s kind on backend `be`, sized for batch <= max_batch and seq_len <=
/// max_seq_len. Throws what the backend's ops throw for unsupported configurations.
template <class Backend>
std::unique_ptr<Runner> make_graph(const Backend& be, const Model& model, int64_t max_batch, int64_t max_seq_len) {
  switch (model.config().model_kind) {
    case ModelKind::Rnn: return std::make_unique<RnnGraph<Backend>>(be, model, max_batch, max_seq_len);
    case ModelKind::Reconstruction:
      return std::make_unique<ReconstructionGraph<Backend>>(be, model, max_batch, max_seq_len);
    case ModelKind::Prediction: return std::make_unique<PredictionGraph<Backend>>(be, model, max_batch, max_seq_len);
    case ModelKind::Attention: return std::make_unique<AttentionGraph<Backend>>(be, model, max_batch, max_seq_len);
  }
  throw UnsupportedError("unknown model kind");
}

}  // namespace rnnad::detail
