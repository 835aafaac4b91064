/* The C API's error paths (docs/c_api.md, "Errors"): every failure returns its status code, and
 * rnnad_last_error() names the function and what failed; the message is per thread and kept
 * until the next failure; outputs are left untouched or NULL; nothing aborts.
 *
 * Usage: rnnad_c_errors MODEL SCRATCH_DIR   (MODEL: models/nab_machine_temp.safetensors)
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "rnnad/rnnad.h"
#include "support.h"

/* Checks that `status` is `expected` and the thread's message contains each of the NULL-ended texts. */
static void expect_error(const char* what, rnnad_status status, rnnad_status expected, ...) {
  const char* message = rnnad_last_error();
  CHECK(status == expected, "%s: got %s, want %s (%s)", what, rnnad_status_name(status), rnnad_status_name(expected),
        message);
  va_list texts;
  va_start(texts, expected);
  for (const char* text = va_arg(texts, const char*); text; text = va_arg(texts, const char*))
    CHECK(strstr(message, text) != NULL, "%s: message '%s' lacks '%s'", what, message, text);
  va_end(texts);
}

/* Writes `text` to `path`; returns 0 on success. */
static int write_file(const char* path, const char* text) {
  FILE* f = fopen(path, "wb");
  if (!f) return 1;
  const int failed = fputs(text, f) < 0;
  return fclose(f) != 0 || failed;
}

/* A failure on another thread leaves this thread's message alone. */
static int fail_on_thread(void* arg) {
  (void)arg;
  rnnad_model* model = NULL;
  const rnnad_status s = rnnad_model_load("/nonexistent/other-thread.safetensors", &model);
  return s == RNNAD_ERROR_IO && strstr(rnnad_last_error(), "other-thread") != NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  char bad_model[4096], bad_checkpoint[4096];
  snprintf(bad_model, sizeof bad_model, "%s/c_errors_bad.safetensors", argv[2]);
  snprintf(bad_checkpoint, sizeof bad_checkpoint, "%s/c_errors_bad.ckpt", argv[2]);
  if (write_file(bad_model, "not a safetensors file") || write_file(bad_checkpoint, "not a checkpoint")) {
    fprintf(stderr, "cannot write to %s\n", argv[2]);
    return 1;
  }

  /* ---- Status names and the empty message ---- */
  CHECK(strcmp(rnnad_last_error(), "") == 0, "message before any failure: '%s'", rnnad_last_error());
  CHECK(strcmp(rnnad_status_name(RNNAD_OK), "ok") == 0 && strcmp(rnnad_status_name(RNNAD_ERROR_SHAPE), "shape") == 0 &&
            strcmp(rnnad_status_name((rnnad_status)42), "unknown") == 0,
        "status names");

  /* ---- Loading ---- */
  rnnad_model* model = (rnnad_model*)&g_failures; /* must be reset to NULL on failure */
  expect_error("missing file", rnnad_model_load("/nonexistent/model.safetensors", &model), RNNAD_ERROR_IO,
               "rnnad_model_load", "/nonexistent/model.safetensors", NULL);
  CHECK(model == NULL, "model not reset to NULL");
  expect_error("malformed file", rnnad_model_load(bad_model, &model), RNNAD_ERROR_FORMAT, "c_errors_bad.safetensors", NULL);
  expect_error("malformed bytes", rnnad_model_load_memory("xyz", 3, "my-bytes", &model), RNNAD_ERROR_FORMAT, "my-bytes", NULL);
  expect_error("NULL path", rnnad_model_load(NULL, &model), RNNAD_ERROR_INVALID_ARGUMENT, "rnnad_model_load", "path", NULL);
  expect_error("NULL out", rnnad_model_load(argv[1], NULL), RNNAD_ERROR_INVALID_ARGUMENT, "model is NULL", NULL);
  rnnad_model_info info;
  expect_error("info of NULL", rnnad_model_get_info(NULL, &info), RNNAD_ERROR_INVALID_ARGUMENT, "rnnad_model_get_info", NULL);

  /* The message is per thread: a failure elsewhere does not replace this one. */
  thrd_t thread;
  int other_ok = 0;
  CHECK(thrd_create(&thread, fail_on_thread, NULL) == thrd_success && thrd_join(thread, &other_ok) == thrd_success,
        "thread");
  CHECK(other_ok == 1, "the other thread did not see its own message");
  CHECK(strstr(rnnad_last_error(), "rnnad_model_get_info") != NULL, "message replaced by another thread: '%s'",
        rnnad_last_error());

  CHECK_OK(rnnad_model_load(argv[1], &model));
  if (!model) return 1;
  /* Success leaves the last message unchanged. */
  CHECK(strstr(rnnad_last_error(), "rnnad_model_get_info") != NULL, "message changed by a success");
  CHECK_OK(rnnad_model_get_info(model, &info));

  /* ---- Options and detection ---- */
  rnnad_threshold_options threshold;
  expect_error("unknown method", rnnad_threshold_options_init(model, (rnnad_threshold_method)9, &threshold),
               RNNAD_ERROR_INVALID_ARGUMENT, "threshold method", NULL);
  expect_error("model default without a model", rnnad_threshold_options_init(NULL, RNNAD_THRESHOLD_MODEL_DEFAULT, &threshold),
               RNNAD_ERROR_INVALID_ARGUMENT, "needs a model", NULL);
  rnnad_detect_options options;
  CHECK_OK(rnnad_detect_options_init(model, &options));
  rnnad_detector* detector = NULL;
  options.batch = 0;
  expect_error("batch 0", rnnad_detector_create(model, &options, &detector), RNNAD_ERROR_INVALID_ARGUMENT, "batch", NULL);
  options.batch = 64;
  options.device = (rnnad_device)7;
  expect_error("unknown device", rnnad_detector_create(model, &options, &detector), RNNAD_ERROR_INVALID_ARGUMENT, "device",
               NULL);
  options.device = RNNAD_DEVICE_CPU;
  options.missing = (rnnad_missing_policy)-5;
  expect_error("unknown missing policy", rnnad_detector_create(model, &options, &detector), RNNAD_ERROR_INVALID_ARGUMENT,
               "missing", NULL);
  options.missing = RNNAD_MISSING_ERROR;
  options.threshold.spot_depth = 0;
  options.threshold.method = RNNAD_THRESHOLD_DSPOT;
  expect_error("DSPOT depth 0", rnnad_detector_create(model, &options, &detector), RNNAD_ERROR_INVALID_ARGUMENT,
               "spot_depth", NULL);
  CHECK(detector == NULL, "detector not NULL after a failure");
  CHECK_OK(rnnad_detect_options_init(model, &options));
  CHECK_OK(rnnad_detector_create(model, &options, &detector));

  enum { kRows = 200 };
  double series[2 * kRows], scores[kRows];
  for (int r = 0; r < 2 * kRows; ++r) series[r] = 70.0 + sin(0.1 * r);
  for (int r = 0; r < kRows; ++r) scores[r] = -1.0;
  expect_error("two features", rnnad_detector_run(detector, series, kRows, 2, scores, NULL, NULL, NULL), RNNAD_ERROR_SHAPE,
               "input_size", NULL);
  expect_error("shorter than a window", rnnad_detector_run(detector, series, 10, 1, scores, NULL, NULL, NULL),
               RNNAD_ERROR_SHAPE, "10 rows", NULL);
  CHECK(scores[0] == -1.0, "outputs written by a failed call");
  series[100] = NAN;
  expect_error("missing cell", rnnad_detector_run(detector, series, kRows, 1, scores, NULL, NULL, NULL), RNNAD_ERROR_FORMAT,
               "rnnad_detector_run: series:101: column 'value'", NULL); /* 1-based row */
  expect_error("NULL detector", rnnad_detector_run(NULL, series, kRows, 1, scores, NULL, NULL, NULL),
               RNNAD_ERROR_INVALID_ARGUMENT, "detector is NULL", NULL);
  expect_error("no rows", rnnad_detector_run(detector, series, 0, 1, scores, NULL, NULL, NULL), RNNAD_ERROR_INVALID_ARGUMENT,
               "rows", NULL);
  rnnad_detector_free(detector);
  options.missing = RNNAD_MISSING_INTERPOLATE;
  CHECK_OK(rnnad_detector_create(model, &options, &detector));
  CHECK_OK(rnnad_detector_run(detector, series, kRows, 1, scores, NULL, NULL, NULL));
  CHECK(isnan(scores[0]) && isfinite(scores[kRows - 1]), "interpolated series: scores %g, %g", scores[0], scores[kRows - 1]);
  rnnad_detector_free(detector);

  /* ---- Stream pool ---- */
  rnnad_pool_options pool_options;
  CHECK_OK(rnnad_pool_options_init(model, &pool_options));
  rnnad_pool* pool = NULL;
  pool_options.threshold.method = RNNAD_THRESHOLD_NDT;
  expect_error("NDT in a pool", rnnad_pool_create(model, &pool_options, &pool), RNNAD_ERROR_UNSUPPORTED, "ndt", NULL);
  pool_options.threshold.method = RNNAD_THRESHOLD_STATIC;
  pool_options.shards = 0;
  expect_error("0 shards", rnnad_pool_create(model, &pool_options, &pool), RNNAD_ERROR, "shards", NULL);
  CHECK_OK(rnnad_pool_create(model, NULL, &pool));
  if (!pool) return 1;

  const double sample[2] = {70.0, 71.0};
  rnnad_sample_status status = RNNAD_SAMPLE_ACCEPTED;
  expect_error("push to NULL", rnnad_pool_push(NULL, 1, 0, sample, 1, NULL, NULL, &status), RNNAD_ERROR_INVALID_ARGUMENT,
               "pool is NULL", NULL);
  expect_error("NULL sample", rnnad_pool_push(pool, 1, 0, NULL, 1, NULL, NULL, &status), RNNAD_ERROR_INVALID_ARGUMENT,
               "sample is NULL", NULL);
  CHECK_OK(rnnad_pool_add_stream(pool, 1));
  expect_error("stream added twice", rnnad_pool_add_stream(pool, 1), RNNAD_ERROR, "already exists", NULL);
  CHECK_OK(rnnad_pool_push(pool, 1, 0, sample, 2, NULL, NULL, &status));
  CHECK(status == RNNAD_SAMPLE_WRONG_FEATURES, "two features: status %d", (int)status);
  const uint64_t ids[2] = {1, 1};
  const int64_t timestamps[2] = {1, 2};
  uint8_t statuses[2] = {0, 0};
  expect_error("batch sizes", rnnad_pool_push_batch(pool, 2, ids, timestamps, sample, 1, NULL, NULL, statuses, NULL),
               RNNAD_ERROR_SHAPE, "rnnad_pool_push_batch", NULL);
  CHECK_OK(rnnad_pool_push_batch(pool, 2, ids, timestamps, sample, 2, NULL, NULL, statuses, NULL));
  CHECK(statuses[0] == RNNAD_SAMPLE_ACCEPTED && statuses[1] == RNNAD_SAMPLE_ACCEPTED, "batch statuses %d %d", statuses[0],
        statuses[1]);
  rnnad_stream_counters counters;
  CHECK_OK(rnnad_pool_counters(pool, 1, &counters));
  CHECK(counters.accepted == 2 && counters.wrong_features == 1, "counters: %lld accepted, %lld wrong features",
        (long long)counters.accepted, (long long)counters.wrong_features);
  expect_error("counters of an unknown stream", rnnad_pool_counters(pool, 5, &counters), RNNAD_ERROR_NOT_FOUND, "stream 5",
               NULL);
  expect_error("flush unknown", rnnad_pool_flush(pool, 5, NULL, NULL), RNNAD_ERROR_NOT_FOUND, "rnnad_pool_flush", NULL);
  expect_error("reset unknown", rnnad_pool_reset(pool, 5), RNNAD_ERROR_NOT_FOUND, "rnnad_pool_reset", NULL);
  expect_error("remove unknown", rnnad_pool_remove_stream(pool, 5), RNNAD_ERROR_NOT_FOUND, "rnnad_pool_remove_stream", NULL);
  expect_error("restore missing", rnnad_pool_restore(pool, "/nonexistent/pool.ckpt"), RNNAD_ERROR_IO, "/nonexistent/pool.ckpt",
               NULL);
  expect_error("restore garbage", rnnad_pool_restore(pool, bad_checkpoint), RNNAD_ERROR_FORMAT, "c_errors_bad.ckpt", NULL);
  expect_error("save to a directory that does not exist", rnnad_pool_save(pool, "/nonexistent/dir/pool.ckpt"),
               RNNAD_ERROR_IO, "rnnad_pool_save", NULL);
  /* A failed restore changed nothing. */
  CHECK_OK(rnnad_pool_counters(pool, 1, &counters));
  CHECK(counters.accepted == 2, "stream changed by a failed restore");
  CHECK_OK(rnnad_pool_remove_stream(pool, 1));

  rnnad_pool_free(pool);
  rnnad_model_free(model);
  rnnad_model_free(NULL);
  rnnad_detector_free(NULL);
  rnnad_pool_free(NULL);
  remove(bad_model);
  remove(bad_checkpoint);
  printf("%s\n", g_failures ? "FAILED" : "OK");
  return g_failures ? 1 : 0;
}
