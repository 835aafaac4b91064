// Results measured outside rnnad_bench (benchmarks/torch_bench.py) merged into a run's rows, so the
// tables show them as further backends (--merge FILE.json).
#pragma once

#include <string>
#include <vector>

#include "machine.h"
#include "report.h"

namespace rnnad::bench {

/// Appends every result of the file `path` (rnnad_bench's --json format: `rows[].id`, the row's
/// shape fields and `rows[].results[]`, as torch_bench.py writes it) to the row of `rows` with the
/// same id; rows this run lacks are skipped. GFLOP/s, % of peak (per thread used) and windows/s are
/// recomputed from this run's FLOP counts and `cpu`. Returns how many results were merged. Throws
/// BenchError when the file cannot be read or parsed, or when a row's shape differs from this run's.
int merge_results(const std::string& path, std::vector<RowResult>& rows, const CpuInfo& cpu);

}  // namespace rnnad::bench
