// The C API of the stream pool (rnnad/rnnad.h, "Live streams"; rnnad::StreamPool underneath).
// push and push_batch allocate nothing: the C callback is wrapped in a RowSink on the stack.
#include <memory>
#include <span>
#include <string>
#include <type_traits>

#include "c_api_internal.h"
#include "rnnad/stream_pool.h"

using namespace rnnad;
using namespace rnnad::capi;

/// The C handle of a stream pool.
struct rnnad_pool {
  std::unique_ptr<StreamPool> pool;
};

namespace {

static_assert(std::is_same_v<std::underlying_type_t<SampleStatus>, uint8_t>, "statuses are passed as bytes");
static_assert(static_cast<int>(SampleStatus::Accepted) == RNNAD_SAMPLE_ACCEPTED &&
              static_cast<int>(SampleStatus::Filled) == RNNAD_SAMPLE_FILLED &&
              static_cast<int>(SampleStatus::AfterGap) == RNNAD_SAMPLE_AFTER_GAP &&
              static_cast<int>(SampleStatus::NonFinite) == RNNAD_SAMPLE_NON_FINITE &&
              static_cast<int>(SampleStatus::Duplicate) == RNNAD_SAMPLE_DUPLICATE &&
              static_cast<int>(SampleStatus::OutOfOrder) == RNNAD_SAMPLE_OUT_OF_ORDER &&
              static_cast<int>(SampleStatus::WrongFeatures) == RNNAD_SAMPLE_WRONG_FEATURES &&
              static_cast<int>(SampleStatus::UnknownStream) == RNNAD_SAMPLE_UNKNOWN_STREAM);
static_assert(static_cast<int>(RowVerdict::NoScore) == RNNAD_VERDICT_NO_SCORE &&
              static_cast<int>(RowVerdict::Calibrating) == RNNAD_VERDICT_CALIBRATING &&
              static_cast<int>(RowVerdict::Normal) == RNNAD_VERDICT_NORMAL &&
              static_cast<int>(RowVerdict::Anomaly) == RNNAD_VERDICT_ANOMALY);

/// The caller's callback as a RowSink target: converts each ScoredRow to an rnnad_scored_row.
struct CallbackSink {
  rnnad_row_callback callback;
  void* user_data;
  void operator()(const ScoredRow& r) const {
    const rnnad_scored_row row{r.stream,
                               r.row,
                               r.timestamp,
                               r.score,
                               r.threshold,
                               static_cast<rnnad_verdict>(r.verdict),
                               r.lag,
                               r.contributions.data(),
                               static_cast<int64_t>(r.contributions.size())};
    callback(&row, user_data);
  }
};

/// A RowSink calling `sink` (which must outlive it), or one that discards rows without a callback.
RowSink row_sink(const CallbackSink& sink) { return sink.callback ? RowSink(sink) : RowSink(); }

StreamPool& pool_of(rnnad_pool* pool) {
  require(pool != nullptr, "pool is NULL");
  return *pool->pool;
}
const StreamPool& pool_of(const rnnad_pool* pool) {
  require(pool != nullptr, "pool is NULL");
  return *pool->pool;
}

/// rnnad_pool_options_init's defaults.
void pool_defaults(const rnnad_model* model, rnnad_pool_options* options) {
  require(model != nullptr, "model is NULL");
  require(options != nullptr, "options is NULL");
  const StreamPoolOptions d;
  options->shards = d.shards;
  options->max_batch = d.max_batch;
  options->device = static_cast<rnnad_device>(d.device);
  options->device_index = d.device_index;
  init_threshold(model, RNNAD_THRESHOLD_MODEL_DEFAULT, &options->threshold);
  if (options->threshold.method == RNNAD_THRESHOLD_NDT)  // batch-only: not for streams
    init_threshold(model, RNNAD_THRESHOLD_STATIC, &options->threshold);
  options->input.missing_ffill = d.input.missing == StreamInputPolicy::Missing::Ffill ? 1 : 0;
  options->input.period = d.input.period;
  options->input.gap_factor = d.input.gap_factor;
  options->input.gap_bridge = d.input.gap == StreamInputPolicy::Gap::Bridge ? 1 : 0;
}

[[noreturn]] void not_found(uint64_t id) { throw NotFoundError("no stream " + std::to_string(id)); }

}  // namespace

extern "C" {

rnnad_status rnnad_pool_options_init(const rnnad_model* model, rnnad_pool_options* options) {
  return guarded(__func__, [&] { pool_defaults(model, options); });
}

rnnad_status rnnad_pool_create(const rnnad_model* model, const rnnad_pool_options* options, rnnad_pool** pool) {
  if (pool) *pool = nullptr;
  return guarded(__func__, [&] {
    require(model != nullptr, "model is NULL");
    require(pool != nullptr, "pool is NULL");
    rnnad_pool_options c{};
    if (options)
      c = *options;
    else
      pool_defaults(model, &c);
    StreamPoolOptions o;
    o.shards = c.shards;
    o.max_batch = c.max_batch;
    o.device = to_device(raw_enum(c.device));
    o.device_index = c.device_index;
    o.threshold = to_settings(c.threshold);
    o.input.missing = c.input.missing_ffill ? StreamInputPolicy::Missing::Ffill : StreamInputPolicy::Missing::Drop;
    o.input.period = c.input.period;
    o.input.gap_factor = c.input.gap_factor;
    o.input.gap = c.input.gap_bridge ? StreamInputPolicy::Gap::Bridge : StreamInputPolicy::Gap::Restart;
    auto made = std::make_unique<rnnad_pool>();
    made->pool = std::make_unique<StreamPool>(model->model, o);
    *pool = made.release();
  });
}

void rnnad_pool_free(rnnad_pool* pool) { delete pool; }

rnnad_status rnnad_pool_add_stream(rnnad_pool* pool, uint64_t id) {
  return guarded(__func__, [&] { pool_of(pool).add_stream(id); });
}

rnnad_status rnnad_pool_remove_stream(rnnad_pool* pool, uint64_t id) {
  return guarded(__func__, [&] {
    if (!pool_of(pool).remove_stream(id)) not_found(id);
  });
}

rnnad_status rnnad_pool_has_stream(const rnnad_pool* pool, uint64_t id, int* present) {
  return guarded(__func__, [&] {
    const StreamPool& p = pool_of(pool);
    require(present != nullptr, "present is NULL");
    *present = p.has_stream(id) ? 1 : 0;
  });
}

rnnad_status rnnad_pool_stream_count(const rnnad_pool* pool, int64_t* count) {
  return guarded(__func__, [&] {
    const StreamPool& p = pool_of(pool);
    require(count != nullptr, "count is NULL");
    *count = static_cast<int64_t>(p.size());
  });
}

rnnad_status rnnad_pool_push(rnnad_pool* pool, uint64_t id, int64_t timestamp, const double* sample, int64_t features,
                             rnnad_row_callback callback, void* user_data, rnnad_sample_status* status) {
  return guarded(__func__, [&] {
    StreamPool& p = pool_of(pool);
    require(features >= 0, "features must be >= 0");
    require(sample != nullptr || features == 0, "sample is NULL");
    const CallbackSink sink{callback, user_data};
    const SampleStatus s = p.push(id, timestamp, {sample, static_cast<std::size_t>(features)}, row_sink(sink));
    if (status) *status = static_cast<rnnad_sample_status>(s);
  });
}

rnnad_status rnnad_pool_push_batch(rnnad_pool* pool, int64_t n, const uint64_t* ids, const int64_t* timestamps,
                                   const double* samples, int64_t samples_len, rnnad_row_callback callback,
                                   void* user_data, uint8_t* statuses, int64_t* accepted) {
  return guarded(__func__, [&] {
    StreamPool& p = pool_of(pool);
    require(n >= 0 && samples_len >= 0, "n and samples_len must be >= 0");
    require((ids != nullptr && timestamps != nullptr) || n == 0, "ids or timestamps is NULL");
    require(samples != nullptr || samples_len == 0, "samples is NULL");
    const auto count = static_cast<std::size_t>(n);
    const CallbackSink sink{callback, user_data};
    // SampleStatus is a byte-sized enum: the caller's bytes receive it directly (no copy, no allocation).
    const std::span<SampleStatus> status_out =
        statuses ? std::span<SampleStatus>(reinterpret_cast<SampleStatus*>(statuses), count) : std::span<SampleStatus>();
    const int64_t done = p.push_batch({ids, count}, {timestamps, count}, {samples, static_cast<std::size_t>(samples_len)},
                                      row_sink(sink), status_out);
    if (accepted) *accepted = done;
  });
}

rnnad_status rnnad_pool_flush(rnnad_pool* pool, uint64_t id, rnnad_row_callback callback, void* user_data) {
  return guarded(__func__, [&] {
    const CallbackSink sink{callback, user_data};
    if (!pool_of(pool).flush(id, row_sink(sink))) not_found(id);
  });
}

rnnad_status rnnad_pool_reset(rnnad_pool* pool, uint64_t id) {
  return guarded(__func__, [&] {
    if (!pool_of(pool).reset(id)) not_found(id);
  });
}

rnnad_status rnnad_pool_counters(const rnnad_pool* pool, uint64_t id, rnnad_stream_counters* counters) {
  return guarded(__func__, [&] {
    const StreamPool& p = pool_of(pool);
    require(counters != nullptr, "counters is NULL");
    if (!p.has_stream(id)) not_found(id);
    const StreamCounters c = p.counters(id);
    *counters = {c.accepted,     c.filled, c.non_finite,       c.duplicates,          c.out_of_order,
                 c.wrong_features, c.gaps, c.model_non_finite, c.calibration_failures};
  });
}

rnnad_status rnnad_pool_unknown_stream_samples(const rnnad_pool* pool, int64_t* count) {
  return guarded(__func__, [&] {
    const StreamPool& p = pool_of(pool);
    require(count != nullptr, "count is NULL");
    *count = p.unknown_stream_samples();
  });
}

rnnad_status rnnad_pool_save(const rnnad_pool* pool, const char* path) {
  return guarded(__func__, [&] {
    const StreamPool& p = pool_of(pool);
    require(path != nullptr, "path is NULL");
    p.save(path);
  });
}

rnnad_status rnnad_pool_restore(rnnad_pool* pool, const char* path) {
  return guarded(__func__, [&] {
    StreamPool& p = pool_of(pool);
    require(path != nullptr, "path is NULL");
    p.restore(path);
  });
}

}  // extern "C"
