#include "gpu_runtime.h"

#include <cstdio>
#include <string>

#include "../bench_error.h"
#include "../machine.h"

namespace rnnad::bench {

void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw BenchError(std::string("CUDA ") + what + ": " + cudaGetErrorString(status));
}

void copy_to_device(float* dst, const float* src, std::size_t count) {
  cuda_check(cudaMemcpy(dst, src, count * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy host to device");
}

void copy_to_host(float* dst, const float* src, std::size_t count) {
  cuda_check(cudaMemcpy(dst, src, count * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy device to host");
}

EventTimer::EventTimer() {
  cuda_check(cudaEventCreate(&m_start), "cudaEventCreate");
  cuda_check(cudaEventCreate(&m_stop), "cudaEventCreate");
}

EventTimer::~EventTimer() {
  cudaEventDestroy(m_start);
  cudaEventDestroy(m_stop);
}

void EventTimer::start() { cuda_check(cudaEventRecord(m_start, nullptr), "cudaEventRecord"); }
void EventTimer::stop() { cuda_check(cudaEventRecord(m_stop, nullptr), "cudaEventRecord"); }

double EventTimer::ms() const {
  cuda_check(cudaEventSynchronize(m_stop), "cudaEventSynchronize");
  float ms = 0;
  cuda_check(cudaEventElapsedTime(&ms, m_start, m_stop), "cudaEventElapsedTime");
  return ms;
}

namespace {

// fp32 FMA lanes per SM by compute capability (CUDA C++ Programming Guide, arithmetic throughput).
int fp32_lanes_per_sm(int major, int minor) {
  if (major == 7 || (major == 8 && minor == 0)) return 64;
  if (major >= 8) return 128;  // 8.6, 8.7, 8.9, 9.0 (Hopper), 10.x, 12.x
  return 64;
}

std::string cuda_version(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

}  // namespace

GpuInfo gpu_info() {
  GpuInfo g;
  int count = 0;
  if (const cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess || count == 0) {
    g.name = std::string("none: cudaGetDeviceCount: ") + (e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    cudaGetLastError();  // clear the error so later runtime calls start clean
    return g;
  }
  cudaDeviceProp p{};
  cuda_check(cudaGetDeviceProperties(&p, 0), "cudaGetDeviceProperties");
  int khz = 0, driver = 0, runtime = 0;
  cuda_check(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0), "cudaDeviceGetAttribute(clock rate)");
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  g.available = true;
  g.name = p.name;
  g.sms = p.multiProcessorCount;
  g.cc_major = p.major;
  g.cc_minor = p.minor;
  g.lanes_per_sm = fp32_lanes_per_sm(p.major, p.minor);
  g.clock_mhz = khz / 1000.0;
  g.memory_gib = static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
  g.runtime = "sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", driver " + cuda_version(driver) +
              ", runtime " + cuda_version(runtime);
  g.peak_gflops = g.sms * g.lanes_per_sm * 2.0 * g.clock_mhz / 1000.0;
  char buf[200];
  std::snprintf(buf, sizeof buf, "%d SMs x %d fp32 lanes x 2 FLOP x %.0f MHz (cudaDevAttrClockRate) = %.1f TFLOP/s fp32",
                g.sms, g.lanes_per_sm, g.clock_mhz, g.peak_gflops / 1000.0);
  g.formula = buf;
  return g;
}

int64_t gpu_used_bytes() {
  std::size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return static_cast<int64_t>(total - free);
}

}  // namespace rnnad::bench
