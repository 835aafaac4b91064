/* Helpers of the C API tests (support.h). */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int g_failures = 0;

double* read_csv_values(const char* path, int64_t* rows) {
  FILE* f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "%s: cannot open\n", path);
    return NULL;
  }
  int64_t capacity = 1024, n = 0;
  double* values = malloc((size_t)capacity * sizeof *values);
  char line[512];
  int64_t line_number = 0;
  while (values && fgets(line, sizeof line, f)) {
    if (++line_number == 1) continue; /* header */
    const char* comma = strchr(line, ',');
    char* end = NULL;
    const double v = comma ? strtod(comma + 1, &end) : 0.0;
    if (!comma || end == comma + 1) {
      fprintf(stderr, "%s:%lld: no value after the first comma\n", path, (long long)line_number);
      free(values);
      values = NULL;
      break;
    }
    if (n == capacity) {
      capacity *= 2;
      double* grown = realloc(values, (size_t)capacity * sizeof *values);
      if (!grown) free(values);
      values = grown;
      if (!values) break;
    }
    values[n++] = v;
  }
  fclose(f);
  *rows = n;
  return values;
}

double* read_f64_tensor(const char* path, const char* name, int64_t* count) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open\n", path);
    return NULL;
  }
  double* values = NULL;
  char* header = NULL;
  unsigned char size_bytes[8];
  uint64_t header_size = 0;
  if (fread(size_bytes, 1, 8, f) != 8) goto done;
  for (int i = 7; i >= 0; --i) header_size = header_size << 8 | size_bytes[i]; /* little-endian u64 */
  if (header_size > (1u << 24)) goto done;
  header = malloc(header_size + 1);
  if (!header || fread(header, 1, header_size, f) != header_size) goto done;
  header[header_size] = '\0';
  /* {"name": {"dtype": "F64", "shape": [...], "data_offsets": [begin, end]}, ...} */
  char key[128];
  snprintf(key, sizeof key, "\"%s\"", name);
  const char* entry = strstr(header, key);
  const char* entry_end = entry ? strchr(entry, '}') : NULL;
  const char* dtype = entry ? strstr(entry, "\"F64\"") : NULL;
  const char* offsets = entry ? strstr(entry, "\"data_offsets\"") : NULL;
  long long begin = -1, end = -1;
  if (!entry_end || !dtype || dtype > entry_end || !offsets || offsets > entry_end ||
      sscanf(offsets, "\"data_offsets\" : [ %lld , %lld ]", &begin, &end) != 2 || begin < 0 || end < begin ||
      (end - begin) % 8 != 0)
    goto done;
  *count = (end - begin) / 8;
  values = malloc((size_t)(end - begin) + 1);
  if (!values || fseek(f, (long)(8 + header_size + (uint64_t)begin), SEEK_SET) != 0 ||
      fread(values, 1, (size_t)(end - begin), f) != (size_t)(end - begin)) { /* x86: little-endian doubles */
    free(values);
    values = NULL;
  }
done:
  if (!values) fprintf(stderr, "%s: no readable F64 tensor '%s'\n", path, name);
  free(header);
  fclose(f);
  return values;
}

int scores_agree(double a, double b, double median) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  return fabs(a - b) <= 1e-4 * fmax(fabs(b), median);
}

static int compare_doubles(const void* x, const void* y) {
  const double a = *(const double*)x, b = *(const double*)y;
  return (a > b) - (a < b);
}

double median_abs(const double* values, int64_t n) {
  double* finite = malloc((size_t)(n > 0 ? n : 1) * sizeof *finite);
  int64_t m = 0;
  for (int64_t i = 0; finite && i < n; ++i)
    if (isfinite(values[i])) finite[m++] = fabs(values[i]);
  double median = 0.0;
  if (m > 0) {
    qsort(finite, (size_t)m, sizeof *finite, compare_doubles);
    median = m % 2 ? finite[m / 2] : 0.5 * (finite[m / 2 - 1] + finite[m / 2]);
  }
  free(finite);
  return median;
}
