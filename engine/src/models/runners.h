// Factories of the per-kind runners (internal).
#pragma once

#include "runner.h"

namespace rnnad::detail {

std::unique_ptr<Runner> make_rnn_runner(const Model& m, int64_t max_batch, int64_t max_seq_len);
std::unique_ptr<Runner> make_reconstruction_runner(const Model& m, int64_t max_batch, int64_t max_seq_len);
std::unique_ptr<Runner> make_prediction_runner(const Model& m, int64_t max_batch, int64_t max_seq_len);
std::unique_ptr<Runner> make_attention_runner(const Model& m, int64_t max_batch, int64_t max_seq_len);

}  // namespace rnnad::detail
