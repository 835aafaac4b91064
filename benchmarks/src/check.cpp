#include "check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "backend_rnnad.h"

namespace rnnad::bench {

namespace {

std::string fmt_err(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}

}  // namespace

std::string CheckPlan::describe(const Workload& w) const {
  const auto k = static_cast<int64_t>(columns.size());
  std::string s = k == w.B ? "all " + std::to_string(k) + " columns" : std::to_string(k) + " of " + std::to_string(w.B) + " columns";
  if (steps < w.T) s += ", first " + std::to_string(steps) + " of " + std::to_string(w.T) + " steps (h_n, c_n: finiteness only)";
  return s;
}

CheckPlan plan_check(const Workload& w, double gflop_budget) {
  const double budget = gflop_budget * 1e9, per_column = w.flop / static_cast<double>(w.B);
  CheckPlan p;
  int64_t k = w.B;
  p.steps = w.T;
  if (w.flop > budget) {
    k = std::clamp<int64_t>(static_cast<int64_t>(budget / per_column), std::min<int64_t>(w.B, 2), w.B);
    if (w.row.mode == Mode::Forward && per_column * static_cast<double>(k) > budget)
      p.steps = std::clamp<int64_t>(
          static_cast<int64_t>(budget / (per_column / static_cast<double>(w.T) * static_cast<double>(k))), 1, w.T);
  }
  for (int64_t j = 0; j < k; ++j)
    p.columns.push_back(k == w.B ? j : (k == 1 ? 0 : (j * (w.B - 1) + (k - 1) / 2) / (k - 1)));
  p.full = k == w.B && p.steps == w.T;
  return p;
}

Reference compute_reference(const Workload& w, const CheckPlan& plan) {
  Reference ref{plan, subset(w, plan.columns, plan.steps), {}};
  auto cpu = make_rnnad_instance(ref.sub, Device::Cpu, {CpuKernels::Reference, CudaKernels::Auto});
  cpu->run();
  ref.outputs = cpu->io().out;
  return ref;
}

CheckResult check_instance(Instance& instance, const Workload& w, const Reference& ref) {
  HostIO& io = instance.io();
  for (auto& o : io.out) std::fill(o.begin(), o.end(), std::numeric_limits<float>::quiet_NaN());
  instance.run();
  CheckResult r{true, 0, 0, ""};
  const auto k = static_cast<int64_t>(ref.plan.columns.size());
  int64_t compared = 0;
  for (std::size_t i = 0; i < w.outputs.size(); ++i) {
    const OutputSpec& spec = w.outputs[i];
    const std::vector<float>& got = io.out[i];
    const auto bad = std::find_if(got.begin(), got.end(), [](float v) { return !std::isfinite(v); });
    if (bad != got.end()) {
      r.ok = false;
      r.message = spec.name + ": element " + std::to_string(bad - got.begin()) + " of " + std::to_string(got.size()) +
                  " is not finite (" + (std::isnan(*bad) ? "NaN: never written?" : "inf") + ")";
      return r;
    }
    const int64_t A = ref.sub.outputs[i].shape[0], B = spec.shape[1], F = spec.shape[2];
    if (!spec.per_step && ref.plan.steps < w.T) continue;  // state after a prefix: not comparable
    const std::vector<float>& want = ref.outputs[i];
    for (int64_t a = 0; a < A; ++a)
      for (int64_t j = 0; j < k; ++j)
        for (int64_t f = 0; f < F; ++f) {
          const double g = got[static_cast<std::size_t>((a * B + ref.plan.columns[static_cast<std::size_t>(j)]) * F + f)];
          const double x = want[static_cast<std::size_t>((a * k + j) * F + f)];
          const double err = std::abs(g - x), scaled = err / std::max(1.0, std::abs(x));
          ++compared;
          r.max_abs_err = std::max(r.max_abs_err, err);
          if (scaled > r.max_scaled_err) r.max_scaled_err = scaled;
          if (!(scaled <= kTolerance) && r.ok) {
            r.ok = false;
            r.message = spec.name + "[" + std::to_string(a) + ", " + std::to_string(ref.plan.columns[static_cast<std::size_t>(j)]) +
                        ", " + std::to_string(f) + "] = " + std::to_string(g) + ", Eigen path " + std::to_string(x);
          }
        }
  }
  const std::string what = std::to_string(compared) + " values compared (" + ref.plan.describe(w) + ")";
  r.message = r.ok ? what : r.message + "; max scaled error " + fmt_err(r.max_scaled_err) + " > " + fmt_err(kTolerance) + "; " + what;
  return r;
}

}  // namespace rnnad::bench
