// The measurement protocol of one row (performance.md §1.3, §5): build the workload, compute the
// reference, prepare and check every backend, warm up, then time the backends interleaved over
// several rounds.
#pragma once

#include <memory>
#include <vector>

#include "backend.h"
#include "report.h"

namespace rnnad::bench {

/// Knobs of the protocol (rnnad_bench's options).
struct ProtocolOptions {
  bool quick = false;          ///< check only: no warm-up, no timing
  int rounds = 7;              ///< interleaved rounds (each backend runs `reps` calls per round)
  double warmup_ms = 100;      ///< untimed calls first: at least this long ...
  int min_warmup = 3;          ///< ... and at least this many
  double time_per_row_s = 1;   ///< timed budget per backend and row; sets the calls per round
  int max_reps = 1000;         ///< calls per round at most
  double check_gflop = 1;      ///< FLOP budget of a row's reference (check.h)
};

/// A backend selected for this run with what its probe said.
struct ActiveBackend {
  Backend* backend;
  Probe probe;
};

/// Runs `row` on every backend in `backends`. Never throws for a backend's failure (it is recorded
/// in the result); a row that cannot be built has RowResult::error set.
RowResult run_row(const Row& row, const std::vector<ActiveBackend>& backends, const ProtocolOptions& options,
                  const CpuInfo& cpu, const GpuInfo& gpu);

}  // namespace rnnad::bench
