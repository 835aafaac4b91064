// The correctness gate run before any timing (performance.md §5.3): every backend's outputs,
// poisoned with NaN before the call, against rnnad's Eigen path on the same inputs. Large rows are
// checked on a subset whose reference costs at most a FLOP budget: batch columns spread over the
// batch (first and last included) and, for Mode::Forward, the first time steps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend.h"

namespace rnnad::bench {

/// Pass bar: |got - ref| <= kTolerance * max(1, |ref|) for every compared element (fp32).
inline constexpr double kTolerance = 1e-5;

/// Which part of a workload the reference recomputes.
struct CheckPlan {
  std::vector<int64_t> columns;  ///< batch columns compared (ascending)
  int64_t steps = 0;             ///< time steps compared (< T only for Mode::Forward)
  bool full = true;              ///< every column and step
  /// "all 3 columns, all 12 steps" or "64 of 8192 columns, first 20 of 1500 steps".
  std::string describe(const Workload& w) const;
};

/// The largest subset whose reference costs at most `gflop_budget` GFLOP (at least two columns,
/// or one when B == 1, and one step).
CheckPlan plan_check(const Workload& w, double gflop_budget);

/// Reference outputs of the planned subset, computed by rnnad-cpu.
struct Reference {
  CheckPlan plan;
  Workload sub;                          ///< the subset workload
  std::vector<std::vector<float>> outputs;  ///< its outputs (Workload::outputs order)
};

/// Runs rnnad-cpu on the planned subset of `w`. Throws what the engine throws.
Reference compute_reference(const Workload& w, const CheckPlan& plan);

/// Poisons `instance`'s outputs with NaN, runs it once and compares every output with `ref`:
/// non-finite values anywhere fail; compared elements must meet kTolerance. Exceptions from
/// run() propagate.
CheckResult check_instance(Instance& instance, const Workload& w, const Reference& ref);

}  // namespace rnnad::bench
