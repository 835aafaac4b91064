#include "harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "bench_error.h"
#include "check.h"

namespace rnnad::bench {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// One backend on one row while it is measured.
struct Active {
  BackendResult result;
  std::unique_ptr<Instance> instance;
  std::vector<double> wall_ms, device_ms;
  int reps = 1;
};

// prepare + check + warm-up of one backend; memory is measured over exactly this span.
void prepare_one(Active& a, Backend& backend, const Workload& w, const Reference& ref, const ProtocolOptions& o) {
  BackendResult& r = a.result;
  const bool gpu = backend.device_class() == DeviceClass::Gpu;
  RssWatch rss;
  rss.begin();
  const int64_t gpu_before = gpu ? gpu_used_bytes() : -1;
  const CheckFn check = [&](Instance& inst) { return check_instance(inst, w, ref); };
  const auto t0 = Clock::now();
  try {
    a.instance = backend.prepare(w, check);
  } catch (const NotApplicable& e) {
    r.reason = e.what();
    return;
  } catch (const std::exception& e) {
    r.status = "failed";
    r.reason = std::string("setup: ") + e.what();
    return;
  }
  r.setup_ms = std::isnan(a.instance->setup_ms()) ? ms_since(t0) : a.instance->setup_ms();
  r.notes = a.instance->notes();
  try {
    r.check = check_instance(*a.instance, w, ref);
    r.checked = true;
    r.status = r.check.ok ? "ok" : "failed";
    if (!r.check.ok) r.reason = "check: " + r.check.message;
    if (!o.quick) {  // warm-up; its median sets the calls per round
      std::vector<double> warm;
      const auto tw = Clock::now();
      while (static_cast<int>(warm.size()) < o.min_warmup || (ms_since(tw) < o.warmup_ms && warm.size() < 10000)) {
        const auto tc = Clock::now();
        a.instance->run();
        warm.push_back(ms_since(tc));
      }
      const double per_call = std::max(summarize(warm).median, 1e-6);
      a.reps = std::clamp(static_cast<int>(o.time_per_row_s * 1000.0 / o.rounds / per_call), 1, o.max_reps);
    }
  } catch (const std::exception& e) {
    r.status = "failed";
    r.reason = std::string("run: ") + e.what();
    a.instance.reset();
    return;
  }
  if (gpu && gpu_before >= 0) r.peak_mem_mib = static_cast<double>(gpu_used_bytes() - gpu_before) / (1024.0 * 1024.0);
  if (!gpu && rss.reset_worked()) r.peak_mem_mib = rss.peak_mib();  // else unknown: "—"
}

void finish(Active& a, const Workload& w, const CpuInfo& cpu, const GpuInfo& gpu) {
  BackendResult& r = a.result;
  r.wall = summarize(a.wall_ms);
  r.device = summarize(a.device_ms);
  if (r.wall.calls == 0) return;
  const double s = r.wall.median / 1000.0;
  r.windows_per_s = static_cast<double>(w.B) / s;
  r.gflops = w.flop / s / 1e9;
  const double peak = r.device_class == DeviceClass::Gpu ? gpu.peak_gflops : cpu.peak_gflops_per_thread * r.threads;
  r.pct_peak = peak > 0 ? 100.0 * r.gflops / peak : std::nan("");
}

}  // namespace

RowResult run_row(const Row& row, const std::vector<ActiveBackend>& backends, const ProtocolOptions& o,
                  const CpuInfo& cpu, const GpuInfo& gpu) {
  RowResult out;
  out.row = row;
  Workload w;
  Reference ref;
  try {
    const auto t0 = Clock::now();
    w = make_workload(row);
    ref = compute_reference(w, plan_check(w, o.check_gflop));
    out.reference_ms = ms_since(t0);
  } catch (const std::exception& e) {
    out.error = std::string("could not build the row or its reference: ") + e.what();
    return out;
  }
  out.flop = w.flop;
  out.check_plan = ref.plan.describe(w);

  std::vector<Active> active(backends.size());
  for (std::size_t i = 0; i < backends.size(); ++i) {
    Active& a = active[i];
    a.result.backend = backends[i].backend->name();
    a.result.device_class = backends[i].backend->device_class();
    a.result.threads = backends[i].backend->threads();
    if (!backends[i].probe.available) {
      a.result.reason = "unavailable: " + backends[i].probe.detail;
      continue;
    }
    prepare_one(a, *backends[i].backend, w, ref, o);
  }
  if (!o.quick) {
    std::vector<Active*> timed;
    for (auto& a : active)
      if (a.instance) timed.push_back(&a);
    for (int round = 0; round < o.rounds && !timed.empty(); ++round) {
      if (round > 0) std::rotate(timed.begin(), timed.begin() + 1, timed.end());  // vary who goes first
      for (Active* a : timed) {
        if (!a->instance) continue;
        try {
          for (int k = 0; k < a->reps; ++k) {
            const auto tc = Clock::now();
            a->instance->run();
            a->wall_ms.push_back(ms_since(tc));
            a->device_ms.push_back(a->instance->device_ms());
          }
        } catch (const std::exception& e) {
          a->result.status = "failed";
          a->result.reason = std::string("run: ") + e.what();
          a->instance.reset();
        }
      }
    }
  }
  for (auto& a : active) {
    finish(a, w, cpu, gpu);
    a.instance.reset();
    out.backends.push_back(std::move(a.result));
  }
  return out;
}

}  // namespace rnnad::bench
