// The backend interface of rnnad_bench. A Backend (rnnad-cpu, rnnad-cuda, cudnn, ...) is probed
// once per run and prepares an Instance per row; an Instance runs one call at a time with host
// inputs and host outputs, synchronised, so every backend's timed call does the same work.
//
// Adding a backend (e.g. a oneDNN CPU peer): implement Backend and Instance in backend_<name>.cpp,
// add its factory to make_backends() (backends.cpp), with a stub for builds without its library
// (onednn_none.cpp). Results from outside this binary (torch_bench.py's JSON) come in through
// merge.h instead.
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "workload.h"

namespace rnnad::bench {

/// Which machine a backend computes on: selects the peak used for "% of peak" and the suite
/// whose rows it runs by default.
enum class DeviceClass { Cpu, Gpu };

/// Host buffers of one Instance: the outputs a call writes (Workload::outputs order) and, for
/// Mode::Step, the state carried from call to call.
class HostIO {
 public:
  /// Allocates the outputs; Mode::Step starts from the workload's h0 / c0.
  explicit HostIO(const Workload& w);
  /// Call before each run: from the second Step call on, the previous call's h_n / c_n become
  /// this call's input state (an O(1) swap with the buffers the call then overwrites).
  void next_call();
  std::vector<std::vector<float>> out;  ///< one buffer per Workload::outputs entry
  std::vector<float> h, c;              ///< Step: the state the next call starts from ([L, B, H]; c: LSTM)
  float* h_n() { return out.size() > 1 ? out[1].data() : nullptr; }  ///< Step/Forward: h_n buffer
  float* c_n() { return out.size() > 2 ? out[2].data() : nullptr; }  ///< Step/Forward: c_n buffer (LSTM)

 private:
  bool m_step = false;
  long m_calls = 0;
};

/// One backend prepared for one Workload.
class Instance {
 public:
  virtual ~Instance() = default;
  /// One call: the workload's host inputs in, host outputs written, all work finished on return
  /// (GPU: H2D copy, compute, D2H copy, synchronised). Throws on failure.
  virtual void run() = 0;
  /// The host outputs (written by the last run(); before the first, the buffers it will write).
  virtual HostIO& io() = 0;
  /// Device-only milliseconds of the last run() (CUDA events around the compute), NaN when the
  /// backend does not measure it.
  virtual double device_ms() const { return std::numeric_limits<double>::quiet_NaN(); }
  /// Free text for the report (e.g. the cuDNN algorithm that won and the others' times).
  virtual std::string notes() const { return {}; }
  /// Setup milliseconds the backend measured itself (cuDNN: the winning algorithm's setup without
  /// the selection among algorithms); NaN: the harness reports the time prepare() took.
  virtual double setup_ms() const { return std::numeric_limits<double>::quiet_NaN(); }
};

/// Result of comparing an Instance's outputs against the Eigen path (check.h).
struct CheckResult {
  bool ok = false;
  double max_abs_err = 0;     ///< largest |got - ref|
  double max_scaled_err = 0;  ///< largest |got - ref| / max(1, |ref|); the pass bar is 1e-5
  std::string message;        ///< what was compared, or the first failure
};

/// Poisons an Instance's outputs, runs it once and compares with the reference.
using CheckFn = std::function<CheckResult(Instance&)>;

/// What probe() found: whether the backend can run here, and its version/location or why not.
struct Probe {
  bool available = false;
  std::string detail;
};

/// A way of running the workloads.
class Backend {
 public:
  virtual ~Backend() = default;
  /// Name in tables and on the command line, e.g. "rnnad-cpu".
  virtual std::string name() const = 0;
  virtual DeviceClass device_class() const = 0;
  /// False for variants that run only when named with --backends (and in --quick).
  virtual bool by_default() const { return true; }
  /// Threads one call computes on; "% of peak" divides by this many times the per-thread peak.
  virtual int threads() const { return 1; }
  /// Once per run, before any row: can it run here (library loaded, device present)?
  virtual Probe probe() = 0;
  /// Sets up `w` (descriptors, weights, buffers; excluded from timing, reported as setup time).
  /// Backends that choose among algorithms use `check` to reject wrong ones. Throws
  /// NotApplicable when this backend does not run the row's model or mode; anything else thrown
  /// is a failure of the backend on this row.
  virtual std::unique_ptr<Instance> prepare(const Workload& w, const CheckFn& check) = 0;
};

/// Settings the backends are made with (rnnad_bench's options).
struct BackendOptions {
  int threads = 1;  ///< CPU threads per call: rnnad-cpu's EngineOptions::threads, oneDNN's OpenMP threads
};

/// Every backend this binary has, in report order. The extension point for new backends.
std::vector<std::unique_ptr<Backend>> make_backends(const BackendOptions& options);

}  // namespace rnnad::bench
