// StreamPool internals shared by stream_pool.cpp (streams, steps, rounds) and
// stream_pool_checkpoint.cpp (save/restore). Not a public header.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "rnnad/engine.h"
#include "rnnad/spot.h"
#include "rnnad/stream_pool.h"

namespace rnnad::stream_detail {

/// What a stream keeps per sample, derived once from the model config.
struct Plan {
  enum class Kind : uint8_t { Stateful, WindowedPrediction, Windows };
  Kind kind = Kind::Stateful;
  int64_t F = 0;       ///< input_size
  int64_t T = 1;       ///< window length (1 for a stateful forecaster: its ring holds the current row)
  int64_t stride = 1;  ///< window stride (windowed kinds)
  int64_t Fp = 0;      ///< F': contribution columns
  int64_t P = 0, K = 1, horizon = 1, d = 0;  ///< prediction kinds (docs/models.md)
  int64_t layers = 0, hidden = 0;            ///< stateful forecaster
  bool lstm = false;
  bool lstm_ad = false;
  int64_t n_cal = 0;  ///< scored rows calibrating the threshold (0: a fixed static value)
  SpotParams spot;    ///< SPOT/DSPOT (depth 0 for SPOT)
  bool use_spot = false;
  double static_value = 0.0;  ///< fixed static threshold (n_cal == 0)
  double static_k = 4.0;
  int64_t pred_slots() const { return horizon + 1; }
};

/// Everything one stream holds. Sizes are fixed by the Plan at creation; steps only overwrite.
struct StreamState {
  uint64_t id = 0;
  StreamCounters counters;
  // Input checks.
  bool has_ts = false;
  int64_t last_ts = 0;
  bool has_last = false;
  std::vector<double> last_raw;  ///< [F] last accepted raw sample (forward fill)
  // Position.
  int64_t row = 0;        ///< rows accepted since add/reset
  int64_t seg_start = 0;  ///< row of the current segment's first row
  int64_t seg_rows = 0;   ///< rows in the current segment
  int64_t emitted = 0;    ///< segment rows already emitted (final)
  // Model inputs and state.
  std::vector<float> xf;       ///< [T, F] ring of the model's inputs, slot = segment row % T
  std::vector<int64_t> ts;     ///< [T] ring of timestamps
  std::vector<float> h, c;     ///< [layers, hidden] recurrent state (stateful; c: LSTM)
  std::vector<float> pred;     ///< [horizon + 1, P] ring of predictions, slot = made-after row % (horizon + 1)
  std::vector<int64_t> pred_row;  ///< [horizon + 1] segment row each slot was made after (-1: none)
  // Pending rows of window models (pooling).
  std::vector<double> x;            ///< [T, F] ring of normalised float64 inputs
  std::vector<double> acc_score;    ///< [T] pooled score so far
  std::vector<double> acc_contrib;  ///< [T, F'] pooled contributions so far
  std::vector<int64_t> acc_count;   ///< [T] windows pooled so far
  // Threshold.
  std::vector<double> cal;  ///< calibration scores (capacity n_cal)
  bool judging = false;
  double static_threshold = 0.0;
  std::optional<Spot> spot;
  bool in_round = false;  ///< has a model step queued in the shard's current round
};

/// One queued model step: a stream and the segment row whose step or window ends there.
struct RoundEntry {
  StreamState* stream = nullptr;
  int64_t seg_row = 0;
};

/// A shard: its streams, its Engine and buffers, its lock.
struct Shard {
  mutable std::mutex mutex;
  std::unique_ptr<Engine> engine;
  std::unordered_map<uint64_t, std::unique_ptr<StreamState>> streams;
  int64_t unknown = 0;
  std::vector<RoundEntry> round;  ///< capacity max_batch
  std::vector<float> in, out;     ///< [T, B, F] inputs; [T, B, F] reconstructions or [1, B, P] predictions
  std::vector<float> h, c;        ///< [layers, B, hidden]
  // Scoring scratch.
  std::vector<double> e, logvar, contrib, terms, work;
};

}  // namespace rnnad::stream_detail

namespace rnnad {

struct StreamPool::Impl {
  std::shared_ptr<const Model> model;
  StreamPoolOptions options;
  stream_detail::Plan plan;
  std::vector<int64_t> feature_index;
  std::vector<double> nan_contrib;  ///< [F'] NaN: contributions of a row without a score
  std::vector<std::unique_ptr<stream_detail::Shard>> shards;

  Impl(std::shared_ptr<const Model> m, StreamPoolOptions o);
  std::size_t shard_index(uint64_t id) const;
  /// A stream as just added (zero state, uncalibrated threshold), with every buffer allocated.
  std::unique_ptr<stream_detail::StreamState> make_stream(uint64_t id) const;
  /// Restarts the model state and segment (reset(), a gap, flush()); keeps threshold and counters.
  void restart_segment(stream_detail::StreamState& s) const;
  /// Forgets the threshold (reset()).
  void reset_threshold(stream_detail::StreamState& s) const;
  /// Arrival of one sample (shard locked): checks, normalisation, scores due now, queueing.
  SampleStatus arrive(stream_detail::Shard& shard, uint64_t id, int64_t timestamp, const double* sample,
                      std::size_t features, const RowSink& sink);
  /// Runs the shard's queued model steps in one Engine call and emits the rows that became final.
  void run_round(stream_detail::Shard& shard, const RowSink& sink);
  /// Emits the pending rows of a window model as at the end of a series, then restarts the segment.
  void end_segment(stream_detail::Shard& shard, stream_detail::StreamState& s, const RowSink& sink);
  /// Threshold and sink for one final row.
  void emit(stream_detail::StreamState& s, int64_t seg_row, double score, const double* contrib, const RowSink& sink);
  /// Model fingerprint (checkpoints): FNV-1a 64 over the config summary, weights and statistics.
  uint64_t model_fingerprint() const;
};

}  // namespace rnnad
