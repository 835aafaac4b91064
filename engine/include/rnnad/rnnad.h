/* rnnad C API: load a model, detect anomalies in a whole series, score live streams.
 *
 * Plain C99 (also valid C++). Opaque handles; every function that can fail returns an
 * rnnad_status, and rnnad_last_error() gives a one-line message for the last failure on the
 * calling thread (it names the function and what failed: file, field, shape, stream). No C++
 * exception crosses this boundary. Arrays are caller-allocated and row-major; nothing here
 * allocates memory the caller must free except the handles, freed by their *_free function.
 * Reference, threading rules and versioning: docs/c_api.md. The C++ API (rnnad/engine.h,
 * rnnad/detector.h, rnnad/stream_pool.h) has the same semantics and more detail.
 */
#ifndef RNNAD_RNNAD_H
#define RNNAD_RNNAD_H

#include <stddef.h>
#include <stdint.h>

#include "rnnad/version.h"

#if defined(__GNUC__) || defined(__clang__)
#define RNNAD_API __attribute__((visibility("default")))
#else
#define RNNAD_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes and errors ---- */

/** What a call returned. RNNAD_OK is 0; every other code is a failure described by rnnad_last_error(). */
typedef enum rnnad_status {
  RNNAD_OK = 0,
  RNNAD_ERROR = 1,                  /**< the call failed (rnnad::Error): an option out of range, a stream id that
                                         exists already, data a threshold cannot calibrate on (too few peaks) */
  RNNAD_ERROR_INVALID_ARGUMENT = 2, /**< a NULL handle or pointer, a negative count, an unknown enum value */
  RNNAD_ERROR_NOT_FOUND = 3,        /**< no stream with the given id */
  RNNAD_ERROR_IO = 4,               /**< a file is missing, unreadable or cannot be written (rnnad::IoError) */
  RNNAD_ERROR_FORMAT = 5,           /**< a model, checkpoint or series is malformed (rnnad::FormatError) */
  RNNAD_ERROR_SHAPE = 6,            /**< sizes do not fit the model (rnnad::ShapeError) */
  RNNAD_ERROR_UNSUPPORTED = 7,      /**< not supported by this build or model (rnnad::UnsupportedError) */
  RNNAD_ERROR_CUDA = 8,             /**< a CUDA runtime or cuBLAS call failed (rnnad::CudaError) */
  RNNAD_ERROR_OUT_OF_MEMORY = 9,    /**< memory allocation failed */
  RNNAD_ERROR_INTERNAL = 10         /**< any other failure: a bug in rnnad, please report it */
} rnnad_status;

/** The last failure on the calling thread, one line starting with the function's name, e.g.
 *  "rnnad_model_load: nope.safetensors: no such file". Calls that
 *  succeed leave it unchanged; "" before any failure. Valid until the thread's next failing call.
 *  Messages longer than 4095 bytes are cut. Never NULL. */
RNNAD_API const char* rnnad_last_error(void);

/** "ok", "error", "invalid_argument", "not_found", "io", "format", "shape", "unsupported", "cuda",
 *  "out_of_memory", "internal"; "unknown" for any other value. Never NULL. */
RNNAD_API const char* rnnad_status_name(rnnad_status status);

/** "MAJOR.MINOR.PATCH" of the library loaded at run time (RNNAD_VERSION_STRING is the headers'). */
RNNAD_API const char* rnnad_version(void);

/* ---- Enumerations (values equal the C++ enums') ---- */

/** Where a model runs: AUTO = a CUDA GPU when one is usable, else the CPU; CUDA = a GPU or
 *  RNNAD_ERROR_UNSUPPORTED, never a silent CPU fallback (rnnad::Device). */
typedef enum rnnad_device { RNNAD_DEVICE_AUTO = 0, RNNAD_DEVICE_CPU = 1, RNNAD_DEVICE_CUDA = 2 } rnnad_device;

/** Model kinds (docs/models.md). */
typedef enum rnnad_model_kind {
  RNNAD_KIND_RNN = 0,             /**< a bare nn.RNN/LSTM/GRU: no scores (detect and pools refuse it) */
  RNNAD_KIND_RECONSTRUCTION = 1,  /**< EncDec-AD */
  RNNAD_KIND_PREDICTION = 2,      /**< forecaster (Telemanom, LSTM-AD), windowed or stateful */
  RNNAD_KIND_ATTENTION = 3        /**< encoder-decoder with additive attention */
} rnnad_model_kind;

/** Threshold methods (docs/thresholds.md). NDT looks ahead and is batch-only (detector only). */
typedef enum rnnad_threshold_method {
  RNNAD_THRESHOLD_STATIC = 0,
  RNNAD_THRESHOLD_NDT = 1,
  RNNAD_THRESHOLD_SPOT = 2,
  RNNAD_THRESHOLD_DSPOT = 3,
  RNNAD_THRESHOLD_MODEL_DEFAULT = -1 /**< rnnad_threshold_options_init only: the model file's method (static when none) */
} rnnad_threshold_method;

/** Missing (NaN) cells of a series given to rnnad_detector_run (docs/input.md). */
typedef enum rnnad_missing_policy {
  RNNAD_MISSING_ERROR = 0,        /**< RNNAD_ERROR_FORMAT naming the first missing cell */
  RNNAD_MISSING_INTERPOLATE = 1,  /**< linear in the row position */
  RNNAD_MISSING_FFILL = 2         /**< the previous value (leading cells: the first value) */
} rnnad_missing_policy;

/* ---- Models ---- */

/** A loaded, validated model: immutable, shared read-only by any number of detectors and pools
 *  on any threads. Free it with rnnad_model_free after the detectors and pools made from it
 *  (they hold their own reference, so freeing it earlier is also safe). */
typedef struct rnnad_model rnnad_model;

/** Reads and validates the model file `path` (docs/model_format.md) into *model. Errors:
 *  RNNAD_ERROR_IO (missing, unreadable), RNNAD_ERROR_FORMAT (malformed: the message names the
 *  file and the tensor or field), RNNAD_ERROR_UNSUPPORTED (newer format, unknown kind),
 *  RNNAD_ERROR_INVALID_ARGUMENT (path or model NULL). *model is NULL after a failure. */
RNNAD_API rnnad_status rnnad_model_load(const char* path, rnnad_model** model);

/** The same from `size` bytes of a model file already in memory; `source` (may be NULL) names
 *  them in messages. The bytes are copied. */
RNNAD_API rnnad_status rnnad_model_load_memory(const void* data, size_t size, const char* source, rnnad_model** model);

/** Frees a model handle (NULL is ignored). */
RNNAD_API void rnnad_model_free(rnnad_model* model);

/** What a model is. Strings are owned by the model handle and valid until rnnad_model_free. */
typedef struct rnnad_model_info {
  rnnad_model_kind kind;
  const char* kind_name;      /**< "rnn", "reconstruction", "prediction", "attention" */
  const char* summary;        /**< one line: kind, cell, sizes, scoring (as `rnnad inspect`) */
  const char* source;         /**< the file name (or rnnad_model_load_memory's source) */
  int64_t input_size;         /**< features per row */
  int64_t seq_len;            /**< window length; 0 for kinds without a window (rnn, stateful prediction) */
  int64_t rows_needed;        /**< fewest rows a series needs before any row gets a score */
  int64_t score_features;     /**< F': per-feature contribution columns (input_size, or the forecaster's targets) */
  int64_t parameter_count;    /**< weight elements */
  int has_scores;             /**< 1 when the model scores rows (every kind but rnn) */
  rnnad_threshold_method default_threshold; /**< the model file's method (static when the file has none) */
} rnnad_model_info;

/** Fills *info. RNNAD_ERROR_INVALID_ARGUMENT when model or info is NULL. */
RNNAD_API rnnad_status rnnad_model_get_info(const rnnad_model* model, rnnad_model_info* info);

/* ---- Thresholds ---- */

/** One threshold method with its parameters (rnnad::ThresholdSettings). Fill it with
 *  rnnad_threshold_options_init, then change what you need. */
typedef struct rnnad_threshold_options {
  rnnad_threshold_method method;  /**< STATIC, NDT (detector only), SPOT or DSPOT */
  double value;                   /**< STATIC: the threshold in score units; NaN = mean + k * std of the calibration rows */
  double k;                       /**< STATIC without a value (default 4) */
  double spot_q;                  /**< SPOT/DSPOT risk q, in (0, 1 - spot_level) (default 1e-3) */
  double spot_level;              /**< SPOT/DSPOT initial-threshold level, in [0, 1) (default 0.98) */
  int64_t spot_depth;             /**< DSPOT drift window >= 1 (default 10); ignored by the other methods */
  int64_t calibration_rows;       /**< first scored rows used to calibrate (never judged); -1 = rnnad's default
                                       (docs/thresholds.md); a stream pool needs it explicit in practice */
} rnnad_threshold_options;

/** Fills *options with rnnad's defaults for `method`, overlaid with the model file's threshold
 *  object (value, SPOT q/level/depth) when `model` is not NULL (as `rnnad detect` does).
 *  RNNAD_THRESHOLD_MODEL_DEFAULT picks the model file's method. RNNAD_ERROR_INVALID_ARGUMENT for
 *  an unknown method, a NULL options, or MODEL_DEFAULT without a model. */
RNNAD_API rnnad_status rnnad_threshold_options_init(const rnnad_model* model, rnnad_threshold_method method,
                                                    rnnad_threshold_options* options);

/* ---- Detection over a whole series ---- */

/** Settings of a detector (rnnad::DetectorOptions). */
typedef struct rnnad_detect_options {
  rnnad_device device;
  int device_index;                  /**< CUDA ordinal */
  int64_t batch;                     /**< windows per engine call (default 64) */
  rnnad_missing_policy missing;      /**< NaN cells of the series (default RNNAD_MISSING_ERROR) */
  rnnad_threshold_options threshold; /**< default: the model file's method and parameters */
} rnnad_detect_options;

/** Fills *options with the defaults: CPU, batch 64, missing cells an error, the model file's
 *  threshold. RNNAD_ERROR_INVALID_ARGUMENT when model or options is NULL. */
RNNAD_API rnnad_status rnnad_detect_options_init(const rnnad_model* model, rnnad_detect_options* options);

/** Runs a model over whole series. Holds an engine with its buffers: create it once, run it on
 *  many series. Not thread-safe: one detector per thread. */
typedef struct rnnad_detector rnnad_detector;

/** Creates a detector for `model` (options NULL = rnnad_detect_options_init's defaults).
 *  Errors: RNNAD_ERROR_UNSUPPORTED (a model without scores, a device this build or machine
 *  lacks), RNNAD_ERROR_CUDA, RNNAD_ERROR_INVALID_ARGUMENT (NULL model or detector, an unknown
 *  enum value, batch < 1). *detector is NULL after a failure. */
RNNAD_API rnnad_status rnnad_detector_create(const rnnad_model* model, const rnnad_detect_options* options,
                                             rnnad_detector** detector);

/** Frees a detector (NULL is ignored). */
RNNAD_API void rnnad_detector_free(rnnad_detector* detector);

/** What one detection computed besides the per-row arrays. */
typedef struct rnnad_detect_summary {
  int64_t rows;              /**< rows of the series */
  int64_t scored_rows;       /**< rows with a score */
  int64_t calibration_rows;  /**< scored rows used to calibrate the threshold (the first ones) */
  int64_t judged_rows;       /**< rows compared with a threshold */
  int64_t anomalous_rows;    /**< rows flagged */
  int64_t events;            /**< runs of flagged rows (rnnad::Event, default EventOptions) */
  double initial_threshold;  /**< static: the value; SPOT/DSPOT: right after calibration; NDT: the first window's; NaN if none */
} rnnad_detect_summary;

/** Scores `series` ([rows, features] row-major, raw values in the units the model was trained
 *  on; no timestamps: rows are consecutive samples), applies the detector's threshold and writes,
 *  for every row r: scores[r] (NaN = no score: the model's warm-up rows), thresholds[r] (the
 *  threshold row r was compared with; NaN where it was not judged) and flags[r] (1 = anomalous).
 *  Each output array has `rows` elements and may be NULL when not wanted; summary may be NULL.
 *  Errors: RNNAD_ERROR_SHAPE (features is not the model's input_size, fewer rows than the model
 *  needs: both named), RNNAD_ERROR_FORMAT (a NaN cell with RNNAD_MISSING_ERROR, an infinite
 *  value: named as "series:<1-based row>: column '<name>'", the name from the model file or
 *  "column <1-based index>"), RNNAD_ERROR (the threshold cannot calibrate, e.g. too few
 *  scored rows), RNNAD_ERROR_INVALID_ARGUMENT (NULL detector or series, rows or features < 1).
 *  The outputs are written only when the call succeeds. */
RNNAD_API rnnad_status rnnad_detector_run(rnnad_detector* detector, const double* series, int64_t rows,
                                          int64_t features, double* scores, double* thresholds, uint8_t* flags,
                                          rnnad_detect_summary* summary);

/* ---- Live streams (rnnad::StreamPool, docs/streaming.md) ---- */

/** What happened to one pushed sample (rnnad::SampleStatus). */
typedef enum rnnad_sample_status {
  RNNAD_SAMPLE_ACCEPTED = 0,        /**< appended */
  RNNAD_SAMPLE_FILLED = 1,          /**< appended after NaN features were forward-filled */
  RNNAD_SAMPLE_AFTER_GAP = 2,       /**< appended after a gap (restarted or bridged as the policy says) */
  RNNAD_SAMPLE_NON_FINITE = 3,      /**< rejected: NaN (policy drop, or nothing to fill from) or infinity */
  RNNAD_SAMPLE_DUPLICATE = 4,       /**< rejected: timestamp equal to the last accepted one */
  RNNAD_SAMPLE_OUT_OF_ORDER = 5,    /**< rejected: timestamp below the last accepted one */
  RNNAD_SAMPLE_WRONG_FEATURES = 6,  /**< rejected: sample size is not the model's input_size */
  RNNAD_SAMPLE_UNKNOWN_STREAM = 7   /**< rejected: no stream with this id */
} rnnad_sample_status;

/** How a final row was judged (rnnad::RowVerdict). */
typedef enum rnnad_verdict {
  RNNAD_VERDICT_NO_SCORE = 0,     /**< warm-up, or the model output was not finite */
  RNNAD_VERDICT_CALIBRATING = 1,  /**< the score went into the threshold's calibration */
  RNNAD_VERDICT_NORMAL = 2,
  RNNAD_VERDICT_ANOMALY = 3
} rnnad_verdict;

/** Live input policy (rnnad::StreamInputPolicy). */
typedef struct rnnad_stream_input_policy {
  int missing_ffill;  /**< 0: a sample with NaN features is dropped; 1: NaNs take the stream's last accepted values */
  int64_t period;     /**< expected timestamp step; 0 = no gap detection */
  double gap_factor;  /**< a step > gap_factor * period is a gap (> 1; default 3) */
  int gap_bridge;     /**< 0: a gap restarts the stream's segment; 1: continue as if nothing were missing */
} rnnad_stream_input_policy;

/** Settings of a stream pool (rnnad::StreamPoolOptions). */
typedef struct rnnad_pool_options {
  size_t shards;                      /**< >= 1; each has its own engine and lock: one writer thread per shard */
  int64_t max_batch;                  /**< streams per engine call within a shard (default 64) */
  rnnad_device device;
  int device_index;
  rnnad_threshold_options threshold;  /**< per stream: STATIC, SPOT or DSPOT (NDT is refused) */
  rnnad_stream_input_policy input;
} rnnad_pool_options;

/** Fills *options with the defaults: 1 shard, max_batch 64, CPU, the model file's threshold
 *  method and parameters (NDT replaced by static), dropping NaN samples, no gap detection. */
RNNAD_API rnnad_status rnnad_pool_options_init(const rnnad_model* model, rnnad_pool_options* options);

/** Independent streams of one model, keyed by a caller-chosen 64-bit id. Calls are safe from any
 *  thread (each locks the shards it touches); callbacks run while a shard is locked and must not
 *  call back into the pool. */
typedef struct rnnad_pool rnnad_pool;

/** A row whose score became final, as passed to an rnnad_row_callback (rnnad::ScoredRow). The
 *  pointer and `contributions` are valid during the callback only. */
typedef struct rnnad_scored_row {
  uint64_t stream;
  int64_t row;                  /**< 0-based among the stream's accepted samples since add or reset */
  int64_t timestamp;
  double score;                 /**< NaN = no score */
  double threshold;             /**< NaN unless the verdict is NORMAL or ANOMALY */
  rnnad_verdict verdict;
  int64_t lag;                  /**< samples accepted after this row before it became final (pooled windows: up to seq_len - 1) */
  const double* contributions;  /**< [n_contributions] per-feature contributions (NaN without a score) */
  int64_t n_contributions;      /**< F' (rnnad_model_info.score_features) */
} rnnad_scored_row;

/** Called for every row that became final, per stream in row order, with the caller's user_data. */
typedef void (*rnnad_row_callback)(const rnnad_scored_row* row, void* user_data);

/** Creates a pool (options NULL = rnnad_pool_options_init's defaults). Errors:
 *  RNNAD_ERROR_UNSUPPORTED (a model without scores, the NDT threshold, a device this build
 *  lacks), RNNAD_ERROR (an option out of range, named), RNNAD_ERROR_INVALID_ARGUMENT. */
RNNAD_API rnnad_status rnnad_pool_create(const rnnad_model* model, const rnnad_pool_options* options, rnnad_pool** pool);

/** Frees a pool and all its streams (NULL is ignored). */
RNNAD_API void rnnad_pool_free(rnnad_pool* pool);

/** Adds a stream with a fresh state. RNNAD_ERROR when the id exists. */
RNNAD_API rnnad_status rnnad_pool_add_stream(rnnad_pool* pool, uint64_t id);
/** Removes a stream and its state. RNNAD_ERROR_NOT_FOUND when there is none. */
RNNAD_API rnnad_status rnnad_pool_remove_stream(rnnad_pool* pool, uint64_t id);
/** *present = 1 when the stream exists, else 0. */
RNNAD_API rnnad_status rnnad_pool_has_stream(const rnnad_pool* pool, uint64_t id, int* present);
/** *count = streams in the pool. */
RNNAD_API rnnad_status rnnad_pool_stream_count(const rnnad_pool* pool, int64_t* count);

/** Appends one sample (`features` raw values; the model's input_size is expected) at `timestamp`
 *  (the caller's increasing integer clock) to stream `id`, runs the model where a step or window
 *  is due and calls `callback` (may be NULL) for every row that became final. Bad samples (NaN,
 *  a repeated or decreasing timestamp, a wrong feature count, an unknown id) are not errors: they
 *  are rejected or repaired by the pool's input policy, counted, and reported in *status (may be
 *  NULL). Allocates nothing in the steady state. RNNAD_ERROR_INVALID_ARGUMENT for a NULL pool,
 *  or a NULL sample with features > 0. */
RNNAD_API rnnad_status rnnad_pool_push(rnnad_pool* pool, uint64_t id, int64_t timestamp, const double* sample,
                                       int64_t features, rnnad_row_callback callback, void* user_data,
                                       rnnad_sample_status* status);

/** rnnad_pool_push for n samples, applied in order: ids [n], timestamps [n], samples
 *  [n * input_size] row-major with samples_len = n * input_size; the model steps due in a shard
 *  run in one engine call. statuses [n] (may be NULL) receives each sample's rnnad_sample_status
 *  as a byte; *accepted (may be NULL) the samples appended. RNNAD_ERROR_SHAPE when samples_len is
 *  not n * input_size (nothing is applied). */
RNNAD_API rnnad_status rnnad_pool_push_batch(rnnad_pool* pool, int64_t n, const uint64_t* ids, const int64_t* timestamps,
                                             const double* samples, int64_t samples_len, rnnad_row_callback callback,
                                             void* user_data, uint8_t* statuses, int64_t* accepted);

/** Ends the stream's series: emits its pending rows (pooled scores over the windows run so far),
 *  restarts its model state and row count; threshold and counters are kept. RNNAD_ERROR_NOT_FOUND
 *  for an unknown id. */
RNNAD_API rnnad_status rnnad_pool_flush(rnnad_pool* pool, uint64_t id, rnnad_row_callback callback, void* user_data);

/** Forgets the stream's model state, pending rows, row count, last timestamp and threshold (as if
 *  just added; counters are kept). RNNAD_ERROR_NOT_FOUND for an unknown id. */
RNNAD_API rnnad_status rnnad_pool_reset(rnnad_pool* pool, uint64_t id);

/** Per-stream counts since the stream was added (rnnad::StreamCounters). */
typedef struct rnnad_stream_counters {
  int64_t accepted;              /**< samples appended (including filled and after-gap ones) */
  int64_t filled;                /**< samples with NaN features forward-filled */
  int64_t non_finite;            /**< rejected for NaN / infinity */
  int64_t duplicates;            /**< rejected for a repeated timestamp */
  int64_t out_of_order;          /**< rejected for a decreasing timestamp */
  int64_t wrong_features;        /**< rejected for their size */
  int64_t gaps;                  /**< gaps seen */
  int64_t model_non_finite;      /**< rows whose model output was not finite */
  int64_t calibration_failures;  /**< threshold calibrations that failed (retried on new rows) */
} rnnad_stream_counters;

/** Fills *counters for stream `id`. RNNAD_ERROR_NOT_FOUND for an unknown id. */
RNNAD_API rnnad_status rnnad_pool_counters(const rnnad_pool* pool, uint64_t id, rnnad_stream_counters* counters);
/** *count = samples pushed with an unknown stream id, over the pool's life. */
RNNAD_API rnnad_status rnnad_pool_unknown_stream_samples(const rnnad_pool* pool, int64_t* count);

/** Writes every stream's state to `path` atomically (temporary file, fsync, rename): a crash
 *  leaves the previous file intact. RNNAD_ERROR_IO when it cannot be written. */
RNNAD_API rnnad_status rnnad_pool_save(const rnnad_pool* pool, const char* path);
/** Replaces every stream with the state saved in `path`, validated completely first (nothing
 *  changes on failure): RNNAD_ERROR_IO, RNNAD_ERROR_FORMAT (corrupt), RNNAD_ERROR_UNSUPPORTED
 *  (newer version), RNNAD_ERROR (saved for another model or other threshold settings). */
RNNAD_API rnnad_status rnnad_pool_restore(rnnad_pool* pool, const char* path);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* RNNAD_RNNAD_H */
