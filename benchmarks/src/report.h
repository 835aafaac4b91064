// Results of a run and their two renderings: JSON (--json) and Markdown (--markdown, stdout).
//
// Results measured outside this binary (torch_bench.py's JSON) are merged by appending
// BackendResult entries to the RowResult with the same row id (merge.h), so they show up as
// further backends in both renderings.
#pragma once

#include <string>
#include <vector>

#include "backend.h"
#include "machine.h"
#include "rows.h"
#include "stats.h"

namespace rnnad::bench {

/// One backend on one row.
struct BackendResult {
  std::string backend;
  DeviceClass device_class = DeviceClass::Cpu;
  int threads = 1;                 ///< CPU threads a call used (the peak is per thread used)
  std::string status = "skipped";  ///< "ok", "failed" (check or run failed) or "skipped"
  std::string reason;              ///< why skipped or failed
  std::string notes;               ///< backend's own notes (cuDNN: the algorithm that won and the others)
  bool checked = false;
  CheckResult check;
  double setup_ms = 0;  ///< prepare(): descriptors, weight packing, plan builds, allocation
  Stats wall;           ///< host wall time per call, synchronised (GPU: H2D + compute + D2H)
  Stats device;         ///< device-only time per call (CUDA events), where the backend measures it
  double peak_mem_mib = -1;  ///< CPU: RSS high-water above the start; GPU: cudaMemGetInfo delta
  double gflops = 0, pct_peak = 0, windows_per_s = 0;  ///< from wall.median
};

/// One row: its workload's arithmetic, how it was checked, every backend's result.
struct RowResult {
  Row row;
  double flop = 0;
  std::string check_plan;   ///< CheckPlan::describe
  double reference_ms = 0;  ///< the reference's cost (model build and check subset)
  std::string error;        ///< set when the row itself could not be built or was not run
  std::vector<BackendResult> backends;
};

/// The run's description.
struct RunInfo {
  std::string command;      ///< the command line
  std::string suite;
  bool quick = false;
  int rounds = 0;
  int threads = 1;          ///< --threads: the multi-threaded CPU peers' threads
  std::vector<std::string> merged;  ///< files merged in (--merge)
  double time_per_row_s = 0, check_gflop = 0;
  CpuInfo cpu;
  GpuInfo gpu;
  std::vector<std::pair<std::string, Probe>> backends;  ///< every selected backend's probe
  std::string rnnad_version;
};

/// Writes the run as JSON to `path`. Throws BenchError when the file cannot be written.
void write_json(const std::string& path, const RunInfo& info, const std::vector<RowResult>& rows);

/// The run as Markdown: machine, a summary (row x backend medians) and the full table.
std::string markdown(const RunInfo& info, const std::vector<RowResult>& rows);

/// Writes `text` to `path` (replacing it). Throws BenchError when it cannot.
void write_text(const std::string& path, const std::string& text);

/// "2.52 µs", "1.02 ms", "1.20 s" (three significant digits); "—" for NaN.
std::string format_ms(double ms);

}  // namespace rnnad::bench
