#include "machine.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace rnnad::bench {

namespace {

// "key : value" lines of /proc/cpuinfo.
std::string after_colon(const std::string& line) {
  const auto p = line.find(':');
  return p == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", p + 1));
}

// A "VmRSS:   1234 kB" field of /proc/self/status, in KiB (0 when absent).
double status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0) return std::stod(after_colon(line));
  return 0;
}

}  // namespace

CpuInfo cpu_info(double ghz, int fma_units) {
  CpuInfo c;
  c.fma_units = fma_units;
  std::ifstream f("/proc/cpuinfo");
  double mhz = 0;
  std::string flags;
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("processor", 0) == 0) ++c.logical_cpus;
    else if (line.rfind("model name", 0) == 0 && c.model.empty()) c.model = after_colon(line);
    else if (line.rfind("cpu MHz", 0) == 0) mhz = std::max(mhz, std::stod(after_colon(line)));
    else if (line.rfind("flags", 0) == 0 && flags.empty()) flags = " " + after_colon(line) + " ";
  }
  c.lanes = flags.find(" avx512f ") != std::string::npos                                          ? 16
            : flags.find(" avx2 ") != std::string::npos && flags.find(" fma ") != std::string::npos ? 8
                                                                                                  : 4;
  c.ghz = ghz > 0 ? ghz : mhz / 1000.0;
  c.ghz_source = ghz > 0 ? "--cpu-ghz" : "/proc/cpuinfo cpu MHz (highest)";
  c.peak_gflops_per_thread = c.fma_units * c.lanes * 2.0 * c.ghz;
  char buf[200];
  std::snprintf(buf, sizeof buf, "%d FMA units x %d fp32 lanes x 2 FLOP x %.2f GHz (%s) = %.1f GFLOP/s per thread",
                c.fma_units, c.lanes, c.ghz, c.ghz_source.c_str(), c.peak_gflops_per_thread);
  c.formula = buf;
  return c;
}

void RssWatch::begin() {
  m_start_kib = status_kib("VmRSS:");
  std::ofstream f("/proc/self/clear_refs");
  f << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
  f.flush();
  m_reset = static_cast<bool>(f) && status_kib("VmHWM:") <= m_start_kib + 1024;
}

double RssWatch::peak_mib() const { return std::max(0.0, status_kib("VmHWM:") - m_start_kib) / 1024.0; }

}  // namespace rnnad::bench
