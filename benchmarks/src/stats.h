// Order statistics of per-call times.
#pragma once

#include <vector>

namespace rnnad::bench {

/// Summary of per-call times in milliseconds; NaN fields when calls == 0.
struct Stats {
  int calls = 0;
  double median, p25, p75, min, max, p99;  ///< p25/p75 interpolated; p99 nearest rank
};

/// Summarises `ms` (any order; NaN entries are dropped).
Stats summarize(std::vector<double> ms);

}  // namespace rnnad::bench
