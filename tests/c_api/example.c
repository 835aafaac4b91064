/* The rnnad C API end to end, in plain C11 (docs/c_api.md): load the shipped NAB forecaster,
 * detect anomalies in the whole NAB machine-temperature series, then score three live streams of
 * the same data (one sample at a time and in batches), checkpointing the pool half-way and
 * continuing in a second pool restored from the checkpoint.
 *
 * Checks: scores equal PyTorch's (the model's reference file, rows 0-2499) within the score
 * tolerance of design.md §7; rows 0-63 have no score (window 64, one row to predict); each judged
 * row is compared with the model file's static threshold and flagged exactly when PyTorch's score
 * is above it; streams give the same scores as the batch (field case F25), before and after the
 * restore; bad samples are rejected and counted.
 *
 * Usage: rnnad_c_example MODEL CSV REFERENCE SCRATCH_DIR
 *   e.g. models/nab_machine_temp.safetensors models/data/machine_temperature_system_failure.csv
 *        models/nab_machine_temp.reference.safetensors /tmp
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnnad/rnnad.h"
#include "support.h"

enum { kStreams = 3, kWarmup = 64 };

/* Scores a stream's callback received, by stream row. */
typedef struct recorder {
  double* scores;
  int64_t capacity;
  int64_t rows_seen;    /* rows delivered */
  int64_t next_row;     /* row expected next (rows arrive in order) */
  int64_t anomalies;
  int bad_rows;         /* rows out of order, past capacity, or inconsistent with their verdict */
} recorder;

/* The pool's callback: user_data is the array of recorders, indexed by stream id - 1. */
static void record_row(const rnnad_scored_row* row, void* user_data) {
  recorder* r = &((recorder*)user_data)[row->stream - 1];
  const int judged = row->verdict == RNNAD_VERDICT_NORMAL || row->verdict == RNNAD_VERDICT_ANOMALY;
  if (row->row != r->next_row || row->row >= r->capacity || row->lag != 0 || row->n_contributions != 1 ||
      (row->verdict == RNNAD_VERDICT_ANOMALY) != (judged && row->score > row->threshold)) {
    ++r->bad_rows;
    return;
  }
  r->scores[row->row] = row->score;
  r->anomalies += row->verdict == RNNAD_VERDICT_ANOMALY;
  ++r->rows_seen;
  ++r->next_row;
}

/* Stream s (1-based) is fed rows first[s-1] + k, k = 0, 1, ... of the series (timestamps 300 k). */
static const int64_t first_row[kStreams] = {0, 0, 500};

/* Pushes stream rows [from, to) of every stream: stream 1 one sample at a time, streams 2 and 3
   interleaved in batches of 2 * 50 samples. Returns 0 when every sample was accepted. */
static int feed(rnnad_pool* pool, const double* series, int64_t from, int64_t to, recorder* rec) {
  int rejected = 0;
  for (int64_t k = from; k < to; ++k) {
    rnnad_sample_status status;
    CHECK_OK(rnnad_pool_push(pool, 1, 300 * k, &series[first_row[0] + k], 1, record_row, rec, &status));
    rejected += status != RNNAD_SAMPLE_ACCEPTED;
  }
  for (int64_t k0 = from; k0 < to; k0 += 50) {
    uint64_t ids[100];
    int64_t timestamps[100];
    double samples[100];
    uint8_t statuses[100];
    int64_t n = 0, accepted = 0;
    for (int64_t k = k0; k < k0 + 50 && k < to; ++k)
      for (uint64_t s = 2; s <= 3; ++s) {
        ids[n] = s;
        timestamps[n] = 300 * k;
        samples[n] = series[first_row[s - 1] + k];
        ++n;
      }
    CHECK_OK(rnnad_pool_push_batch(pool, n, ids, timestamps, samples, n, record_row, rec, statuses, &accepted));
    rejected += accepted != n;
  }
  return rejected;
}

/* Stream s's rows [from, to) against PyTorch's scores of the rows it was fed. */
static void check_stream(const recorder* rec, int s, int64_t from, int64_t to, const double* reference, double median) {
  int64_t mismatches = 0;
  for (int64_t k = from; k < to; ++k) {
    /* A window of 64 rows plus the row it predicts: stream row k >= 64 sees exactly the rows the
       batch saw for series row first_row + k (normalisation is the model file's). */
    const double expected = k < kWarmup ? NAN : reference[first_row[s - 1] + k];
    if (!scores_agree(rec[s - 1].scores[k], expected, median)) {
      if (mismatches++ < 3)
        fprintf(stderr, "stream %d row %lld: score %.9g, PyTorch %.9g\n", s, (long long)k, rec[s - 1].scores[k], expected);
    }
  }
  CHECK(mismatches == 0 && rec[s - 1].bad_rows == 0, "stream %d: %lld rows differ from PyTorch, %d bad rows", s,
        (long long)mismatches, rec[s - 1].bad_rows);
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s MODEL CSV REFERENCE SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  printf("rnnad %s (headers %s)\n", rnnad_version(), RNNAD_VERSION_STRING);
  CHECK(strcmp(rnnad_version(), RNNAD_VERSION_STRING) == 0, "library %s, headers %s", rnnad_version(), RNNAD_VERSION_STRING);

  int64_t rows = 0, n_ref = 0;
  double* series = read_csv_values(argv[2], &rows);
  double* reference = read_f64_tensor(argv[3], "scores", &n_ref);
  if (!series || !reference || n_ref < 2000 || rows < n_ref) return 1;
  const double median = median_abs(reference, n_ref);

  rnnad_model* model = NULL;
  CHECK_OK(rnnad_model_load(argv[1], &model));
  if (!model) return 1;
  rnnad_model_info info;
  CHECK_OK(rnnad_model_get_info(model, &info));
  printf("model %s: %s\n", info.source, info.summary);
  CHECK(info.kind == RNNAD_KIND_PREDICTION && info.input_size == 1 && info.seq_len == kWarmup &&
            info.rows_needed == kWarmup + 1 && info.score_features == 1 && info.has_scores,
        "unexpected model info (kind %s, input_size %lld, seq_len %lld)", info.kind_name, (long long)info.input_size,
        (long long)info.seq_len);

  /* ---- 1. The whole series through a detector, with the model file's threshold ---- */
  rnnad_detect_options options;
  CHECK_OK(rnnad_detect_options_init(model, &options));
  const double threshold = options.threshold.value; /* the model file's static threshold */
  CHECK(options.threshold.method == RNNAD_THRESHOLD_STATIC && isfinite(threshold), "model default threshold");
  rnnad_detector* detector = NULL;
  CHECK_OK(rnnad_detector_create(model, &options, &detector));
  double* scores = malloc((size_t)rows * sizeof *scores);
  double* thresholds = malloc((size_t)rows * sizeof *thresholds);
  uint8_t* flags = malloc((size_t)rows);
  rnnad_detect_summary summary;
  CHECK_OK(rnnad_detector_run(detector, series, rows, 1, scores, thresholds, flags, &summary));
  printf("detect: %lld rows, %lld scored, threshold %g, %lld anomalous rows in %lld events\n", (long long)summary.rows,
         (long long)summary.scored_rows, summary.initial_threshold, (long long)summary.anomalous_rows,
         (long long)summary.events);
  CHECK(summary.rows == rows && summary.scored_rows == rows - kWarmup && summary.judged_rows == rows - kWarmup &&
            summary.initial_threshold == threshold,
        "summary: %lld rows, %lld scored, %lld judged", (long long)summary.rows, (long long)summary.scored_rows,
        (long long)summary.judged_rows);
  int64_t mismatches = 0, flagged = 0, wrong_flags = 0;
  for (int64_t r = 0; r < rows; ++r) {
    flagged += flags[r];
    const int judged = r >= kWarmup;
    if (judged != !isnan(thresholds[r]) || (judged && thresholds[r] != threshold)) ++wrong_flags;
    if (r >= n_ref) continue;
    if (!scores_agree(scores[r], reference[r], median) && mismatches++ < 3)
      fprintf(stderr, "row %lld: score %.9g, PyTorch %.9g\n", (long long)r, scores[r], reference[r]);
    /* Flagged exactly when PyTorch's score is above the threshold (rows within tolerance of it excepted). */
    if (judged && !scores_agree(reference[r], threshold, median) && flags[r] != (reference[r] > threshold)) ++wrong_flags;
  }
  CHECK(mismatches == 0, "%lld of rows 0-%lld differ from PyTorch", (long long)mismatches, (long long)n_ref - 1);
  CHECK(wrong_flags == 0 && flagged == summary.anomalous_rows, "%lld rows with a wrong threshold or flag", (long long)wrong_flags);

  /* ---- 2. Live streams: 2 shards, the model file's static threshold, checkpoint half-way ---- */
  rnnad_pool_options pool_options;
  CHECK_OK(rnnad_pool_options_init(model, &pool_options));
  pool_options.shards = 2;
  rnnad_pool* pool = NULL;
  CHECK_OK(rnnad_pool_create(model, &pool_options, &pool));
  /* Stream rows fed: streams 1 and 2 read series rows 0-399, stream 3 rows 500-899; PyTorch's
     scores are above the threshold at rows 351-353, 857, 858 and 884 (all after the checkpoint). */
  const int64_t length = 400, half = 200;
  recorder rec[kStreams];
  for (int s = 0; s < kStreams; ++s) {
    rec[s] = (recorder){malloc((size_t)length * sizeof(double)), length, 0, 0, 0, 0};
    CHECK_OK(rnnad_pool_add_stream(pool, (uint64_t)s + 1));
  }
  CHECK(feed(pool, series, 0, half, rec) == 0, "samples rejected");

  /* Bad samples are rejected and counted, and change nothing. */
  const double nan_sample = NAN, sample = series[half - 1];
  rnnad_sample_status status;
  CHECK_OK(rnnad_pool_push(pool, 1, 300 * half, &nan_sample, 1, record_row, rec, &status));
  CHECK(status == RNNAD_SAMPLE_NON_FINITE, "NaN sample: status %d", (int)status);
  CHECK_OK(rnnad_pool_push(pool, 1, 300 * (half - 1), &sample, 1, record_row, rec, &status));
  CHECK(status == RNNAD_SAMPLE_DUPLICATE, "repeated timestamp: status %d", (int)status);
  CHECK_OK(rnnad_pool_push(pool, 99, 0, &sample, 1, record_row, rec, &status));
  CHECK(status == RNNAD_SAMPLE_UNKNOWN_STREAM, "unknown stream: status %d", (int)status);

  char checkpoint[4096];
  snprintf(checkpoint, sizeof checkpoint, "%s/c_example_pool.ckpt", argv[4]);
  CHECK_OK(rnnad_pool_save(pool, checkpoint));
  CHECK(feed(pool, series, half, length, rec) == 0, "samples rejected");
  for (int s = 1; s <= kStreams; ++s) check_stream(rec, s, 0, length, reference, median);
  rnnad_stream_counters counters;
  CHECK_OK(rnnad_pool_counters(pool, 1, &counters));
  CHECK(counters.accepted == length && counters.non_finite == 1 && counters.duplicates == 1,
        "stream 1 counters: %lld accepted, %lld non-finite, %lld duplicates", (long long)counters.accepted,
        (long long)counters.non_finite, (long long)counters.duplicates);
  int64_t unknown = 0;
  CHECK_OK(rnnad_pool_unknown_stream_samples(pool, &unknown));
  CHECK(unknown == 1, "unknown-stream samples: %lld", (long long)unknown);
  rnnad_pool_free(pool);

  /* A new pool (another shard count) restored from the checkpoint continues exactly. */
  pool_options.shards = 1;
  CHECK_OK(rnnad_pool_create(model, &pool_options, &pool));
  CHECK_OK(rnnad_pool_restore(pool, checkpoint));
  int64_t streams = 0;
  CHECK_OK(rnnad_pool_stream_count(pool, &streams));
  CHECK(streams == kStreams, "%lld streams after restore", (long long)streams);
  for (int s = 0; s < kStreams; ++s) {
    memset(rec[s].scores + half, 0, (size_t)(length - half) * sizeof(double));
    rec[s].next_row = half;
  }
  CHECK(feed(pool, series, half, length, rec) == 0, "samples rejected after restore");
  for (int s = 1; s <= kStreams; ++s) check_stream(rec, s, half, length, reference, median);
  printf("streams: %d x %lld samples, stream 1: %lld anomalies; restored from %s and continued\n", kStreams,
         (long long)length, (long long)rec[0].anomalies, checkpoint);
  remove(checkpoint);

  rnnad_pool_free(pool);
  rnnad_detector_free(detector);
  rnnad_model_free(model);
  for (int s = 0; s < kStreams; ++s) free(rec[s].scores);
  free(scores);
  free(thresholds);
  free(flags);
  free(series);
  free(reference);
  printf("%s\n", g_failures ? "FAILED" : "OK");
  return g_failures ? 1 : 0;
}
