/* Helpers of the C API tests (example.c, errors.c): reading the test data and checking results.
   Plain C11. */
#ifndef RNNAD_TESTS_C_API_SUPPORT_H
#define RNNAD_TESTS_C_API_SUPPORT_H

#include <stdint.h>

/** Failed checks so far (CHECK). */
extern int g_failures;

/** Counts and reports a failed condition with its file, line and message. */
#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      ++g_failures;                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fputc('\n', stderr);                                            \
    }                                                                 \
  } while (0)

/** Calls `call` (an rnnad_* function) and counts a failure, with rnnad_last_error(), unless it returns RNNAD_OK. */
#define CHECK_OK(call)                                                                                     \
  do {                                                                                                     \
    rnnad_status check_ok_status_ = (call);                                                                \
    CHECK(check_ok_status_ == RNNAD_OK, "%s -> %s: %s", #call, rnnad_status_name(check_ok_status_), rnnad_last_error()); \
  } while (0)

/** The second column of a CSV file with a header line and `timestamp,value` rows (a NAB file):
    malloc'ed [*rows] values, or NULL (with a message on stderr) when it cannot be read. */
double* read_csv_values(const char* path, int64_t* rows);

/** The F64 tensor `name` of a safetensors file (a PyTorch reference written by
    tools/python/train.py): malloc'ed [*count] values, or NULL (with a message) on any problem. */
double* read_f64_tensor(const char* path, const char* name, int64_t* count);

/** The score tolerance of design.md §7 (rnnad/tolerance.h kScore): |a - b| <= 1e-4 * max(|b|, median),
    `median` = the median |reference score|. Two NaNs agree; a NaN and a number do not. */
int scores_agree(double a, double b, double median);

/** Median of |values| over the finite values of [n] (0 when there is none). */
double median_abs(const double* values, int64_t n);

#endif
