// Live scoring of many independent streams (docs/streaming.md): each stream keeps its own model
// state (a stateful forecaster's recurrent state, or a ring buffer of its last window), its own
// threshold (static, SPOT or DSPOT; rnnad/threshold_apply.h settings) and counters of bad input;
// a sample costs O(1) work for a stateful forecaster and one window run every `stride` samples
// for a windowed model. Streams are hashed to shards; each shard has its own Engine, buffers and
// lock. Scores equal the batch Scorer's (field case F25), with pooled window scores reported
// late, when final.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rnnad/device.h"
#include "rnnad/model.h"
#include "rnnad/threshold_apply.h"

namespace rnnad {

/// How a stream treats live input that is not clean (docs/streaming.md, "Bad input"). Every
/// case is counted in the stream's StreamCounters; no case touches another stream.
struct StreamInputPolicy {
  /// NaN features in a sample: Drop rejects the sample (the stream is unchanged); Ffill replaces
  /// each NaN with the stream's last accepted value of that feature (a stream with no accepted
  /// sample yet drops it). ±infinity is always rejected.
  enum class Missing { Drop, Ffill };
  Missing missing = Missing::Drop;
  /// Expected step between timestamps, in the caller's units; 0 = no gap detection.
  int64_t period = 0;
  /// A step larger than gap_factor × period is a gap (> 1; default 3, as docs/input.md).
  double gap_factor = 3.0;
  /// At a gap: Restart ends the stream's segment (pending rows are emitted as at the end of a
  /// batch series, the recurrent state and window restart; the threshold is kept), as the batch
  /// input policy splits segments; Bridge continues as if no sample were missing.
  enum class Gap { Restart, Bridge };
  Gap gap = Gap::Restart;
};

/// Settings of a StreamPool.
struct StreamPoolOptions {
  /// Shards (>= 1). Each has its own Engine, buffers and lock; use one writer thread per shard.
  std::size_t shards = 1;
  /// Streams per Engine call within one shard (>= 1); push_batch runs larger groups in rounds.
  int64_t max_batch = 64;
  Device device = Device::Cpu;  ///< device of every shard's Engine (Auto/Cuda as Engine says)
  int device_index = 0;         ///< CUDA ordinal
  /// Threshold per stream: Static (value, or mean + k·std of the first calibration_rows scored
  /// rows), Spot or Dspot (calibrated on the first calibration_rows scored rows). Ndt is
  /// batch-only (it looks ahead) and rejected. calibration_rows = -1 picks the fewest rows the
  /// method can use (default_calibration_rows(0, ...)): set it explicitly in practice.
  ThresholdSettings threshold;
  StreamInputPolicy input;
};

/// What happened to one pushed sample.
enum class SampleStatus : uint8_t {
  Accepted,       ///< appended to the stream
  Filled,         ///< accepted after NaN features were forward-filled
  AfterGap,       ///< accepted after a gap (restarted or bridged as the policy says)
  NonFinite,      ///< rejected: NaN (policy Drop, or nothing to fill from) or ±infinity
  Duplicate,      ///< rejected: timestamp equal to the last accepted one (the first is kept)
  OutOfOrder,     ///< rejected: timestamp below the last accepted one
  WrongFeatures,  ///< rejected: sample size is not the model's input_size
  UnknownStream,  ///< rejected: no stream with this id (counted per shard)
};

/// True for the statuses that appended the sample.
inline bool accepted(SampleStatus s) {
  return s == SampleStatus::Accepted || s == SampleStatus::Filled || s == SampleStatus::AfterGap;
}

/// "accepted", "filled", "after_gap", "non_finite", "duplicate", "out_of_order", "wrong_features", "unknown_stream".
const char* sample_status_name(SampleStatus s);

/// Per-stream counts since the stream was added (kept by reset() and by checkpoints).
struct StreamCounters {
  int64_t accepted = 0;        ///< samples appended (including filled and after-gap ones)
  int64_t filled = 0;          ///< samples with NaN features forward-filled
  int64_t non_finite = 0;      ///< samples rejected for NaN/±inf
  int64_t duplicates = 0;      ///< samples rejected for a repeated timestamp
  int64_t out_of_order = 0;    ///< samples rejected for a decreasing timestamp
  int64_t wrong_features = 0;  ///< samples rejected for their size
  int64_t gaps = 0;            ///< gaps seen (restarted or bridged)
  int64_t model_non_finite = 0;     ///< rows whose model output was not finite (no score)
  int64_t calibration_failures = 0; ///< threshold calibrations that failed (F22); retried on new rows
};

/// How a final row was judged.
enum class RowVerdict : uint8_t {
  NoScore,      ///< no window or prediction covers the row (warm-up), or the model output was not finite
  Calibrating,  ///< the score went into the threshold's calibration
  Normal,       ///< judged: score <= threshold (static) or no SPOT/DSPOT alarm
  Anomaly,      ///< judged: flagged
};

/// One row whose score is final, delivered to a RowSink in row order per stream.
struct ScoredRow {
  uint64_t stream = 0;
  int64_t row = 0;        ///< 0-based index among the stream's accepted samples (since add or reset)
  int64_t timestamp = 0;  ///< the row's timestamp
  double score = 0.0;     ///< NaN = no score
  /// The threshold the score was compared with (for SPOT/DSPOT the one in force before the
  /// row's step); NaN unless the verdict is Normal or Anomaly.
  double threshold = 0.0;
  RowVerdict verdict = RowVerdict::NoScore;
  /// Samples accepted after this row before it became final: 0 for forecasters; for pooled
  /// window scores up to seq_len − 1 (the last window covering the row ends that much later).
  int64_t lag = 0;
  /// [F'] per-feature contributions (feature_index() order), valid during the callback only;
  /// NaN without a score.
  std::span<const double> contributions;
};

/// A non-owning callable `void(const ScoredRow&)` (no allocation; the callable must outlive the
/// call it is passed to). Default-constructed: rows are discarded.
class RowSink {
 public:
  RowSink() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, RowSink>>>
  RowSink(F&& f)  // NOLINT: implicit by design, like std::function_ref
      : m_object(const_cast<void*>(static_cast<const void*>(&f))),
        m_call([](void* o, const ScoredRow& r) { (*static_cast<std::remove_reference_t<F>*>(o))(r); }) {}
  void operator()(const ScoredRow& r) const {
    if (m_call) m_call(m_object, r);
  }

 private:
  void* m_object = nullptr;
  void (*m_call)(void*, const ScoredRow&) = nullptr;
};

/// N independent streams of one model, keyed by a caller-chosen 64-bit id.
///
/// Threading: a stream lives in shard shard_of(id). Every call locks the shards it touches, so
/// calls are safe from any thread; for throughput, have one writer thread per shard (then the
/// locks are never contended and shards run in parallel on their own Engines). The sink runs
/// while the shard is locked: it must not call back into the pool.
///
/// Allocation: add_stream, save/restore and the step that completes a stream's SPOT/DSPOT
/// calibration allocate (Spot's excess rings); push/push_batch allocate nothing otherwise
/// (tests/test_stream_no_alloc.cpp).
class StreamPool {
 public:
  /// Builds options.shards Engines (max_batch streams per call). Throws UnsupportedError for a
  /// model without scores (kind rnn), a scoring method that does not fit the kind (as Scorer),
  /// the Ndt threshold (batch-only); Error for bad options (shards or max_batch < 1, DSPOT depth 0,
  /// calibration_rows 0 where one is needed, gap_factor <= 1, a SPOT parameter); what Engine throws.
  StreamPool(std::shared_ptr<const Model> model, StreamPoolOptions options);
  ~StreamPool();
  StreamPool(const StreamPool&) = delete;
  StreamPool& operator=(const StreamPool&) = delete;

  /// Adds a stream with a fresh state (zero recurrent state, empty window, uncalibrated
  /// threshold). Allocates its buffers. Throws Error when the id exists.
  void add_stream(uint64_t id);
  /// Removes a stream and its state; false when there is none.
  bool remove_stream(uint64_t id);
  bool has_stream(uint64_t id) const;
  /// Streams in all shards.
  std::size_t size() const;

  /// Appends one sample (raw values, the model's input_size features, caller's units) at
  /// `timestamp` (any integer clock of the caller's, increasing) to stream `id`, runs the model
  /// where a window or step is due, and calls `sink` for every row that became final (in row
  /// order). Bad input is rejected or repaired by options().input, counted, and reported in the
  /// status; it never throws for data.
  SampleStatus push(uint64_t id, int64_t timestamp, std::span<const double> sample, const RowSink& sink = {});

  /// push() for n samples: ids [n], timestamps [n], samples [n × input_size] row-major. Samples
  /// are applied in the given order; the model steps of all streams due in one shard run in one
  /// Engine call (rounds of max_batch; a stream repeated in the batch starts a new round).
  /// status [n] receives each sample's status (may be empty). Returns the samples accepted.
  /// Throws ShapeError when the sizes do not match (nothing is applied).
  int64_t push_batch(std::span<const uint64_t> ids, std::span<const int64_t> timestamps,
                     std::span<const double> samples, const RowSink& sink = {}, std::span<SampleStatus> status = {});

  /// Ends the stream's series: emits its pending rows as the batch Scorer would at the end of a
  /// series (pooled over the windows run so far; rows no window covered get no score), then
  /// restarts its model state and row count; the threshold and counters are kept. Returns false
  /// for an unknown id.
  bool flush(uint64_t id, const RowSink& sink = {});
  /// Forgets the stream's model state, pending rows, row count, last timestamp and threshold
  /// (as if just added; counters are kept). Replaying the same samples reproduces the first run.
  bool reset(uint64_t id);

  /// The stream's counters; throws Error for an unknown id.
  StreamCounters counters(uint64_t id) const;
  /// Samples pushed with an unknown id, over all shards.
  int64_t unknown_stream_samples() const;
  /// The stream's recurrent state of a stateful forecaster, h then c (LSTM), each
  /// [num_layers, hidden_size]; empty for windowed models. Throws Error for an unknown id.
  std::vector<float> recurrent_state(uint64_t id) const;

  /// Writes every stream's state (model state, windows, pending rows, thresholds, counters) to
  /// `path` atomically: a temporary file in the same directory, fsync, rename, fsync of the
  /// directory; a crash leaves the previous file intact. Format: docs/streaming.md,
  /// "Checkpoints". Locks all shards for the snapshot. Throws IoError.
  void save(const std::filesystem::path& path) const;
  /// Replaces every stream with the state saved in `path` (streams are rehashed, so the shard
  /// count may differ). The file is validated completely before anything changes: IoError
  /// (unreadable), FormatError (magic, size, checksum, a field out of range), UnsupportedError
  /// (a newer format version), Error (saved for another model or other threshold settings:
  /// the model fingerprint or settings differ).
  void restore(const std::filesystem::path& path);

  /// Shard of stream `id` (a fixed mix of the id, modulo shards).
  std::size_t shard_of(uint64_t id) const;
  /// F': contribution columns (input_size, or the forecaster's targets) and their input columns.
  const std::vector<int64_t>& feature_index() const;
  const Model& model() const;
  const StreamPoolOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace rnnad
