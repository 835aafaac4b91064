// What the benchmark runs on: CPU and GPU descriptions, their fp32 peaks (the denominators of
// "% of peak"), and memory high-water marks.
#pragma once

#include <cstdint>
#include <string>

namespace rnnad::bench {

/// The host CPU. Peak = threads x FMA units x fp32 lanes x 2 FLOP x clock, per thread used.
struct CpuInfo {
  std::string model;             ///< /proc/cpuinfo "model name"
  int logical_cpus = 0;          ///< processors in /proc/cpuinfo
  double ghz = 0;                ///< clock used for the peak
  std::string ghz_source;        ///< "/proc/cpuinfo cpu MHz (highest)" or "--cpu-ghz"
  int lanes = 4;                 ///< fp32 lanes per vector: 16 (avx512f), 8 (avx2 + fma), 4
  int fma_units = 2;             ///< FMA pipes per core (--cpu-fma-units)
  double peak_gflops_per_thread = 0;
  std::string formula;           ///< the peak's arithmetic, for the report
};

/// Reads /proc/cpuinfo; `ghz` > 0 overrides the clock read there.
CpuInfo cpu_info(double ghz, int fma_units);

/// The CUDA device used (device 0). Peak = SMs x fp32 lanes per SM x 2 FLOP x clock.
struct GpuInfo {
  bool available = false;
  std::string name;        ///< e.g. "NVIDIA H200", or why there is none
  int sms = 0, cc_major = 0, cc_minor = 0, lanes_per_sm = 0;
  double clock_mhz = 0;    ///< cudaDevAttrClockRate (the boost clock the driver reports)
  double memory_gib = 0;
  std::string runtime;     ///< "driver 13.0, runtime 13.0"
  double peak_gflops = 0;
  std::string formula;
};

/// Describes CUDA device 0 (available = false with the reason in `name` when there is none or
/// this binary was built without CUDA).
GpuInfo gpu_info();

/// Bytes in use on CUDA device 0 (total - free from cudaMemGetInfo); -1 without a device.
int64_t gpu_used_bytes();

/// Resident-set high-water mark of this process since begin(), in MiB above the RSS at begin()
/// (Linux: VmHWM after resetting it through /proc/self/clear_refs; where that reset is refused
/// the mark is the process's lifetime high-water, and reset_worked() says so: the harness then
/// reports no peak).
class RssWatch {
 public:
  /// Records the current RSS and resets the high-water mark.
  void begin();
  /// MiB the high-water mark rose above the RSS at begin() (never negative).
  double peak_mib() const;
  /// Whether the kernel accepted the reset (else peak_mib() spans the whole process life).
  bool reset_worked() const { return m_reset; }

 private:
  double m_start_kib = 0;
  bool m_reset = false;
};

}  // namespace rnnad::bench
