// The GPU side of a build without CUDA (RNNAD_HAVE_CUDA off): no device, and a cuDNN backend that
// says why it cannot run. The CUDA build compiles cuda/*.cpp instead.
#include "backend_cudnn.h"
#include "bench_error.h"
#include "machine.h"

namespace rnnad::bench {

namespace {

constexpr const char* kNoCuda = "this rnnad_bench was built without CUDA (RNNAD_HAVE_CUDA is OFF)";

class NoCudnn final : public Backend {
 public:
  std::string name() const override { return "cudnn"; }
  DeviceClass device_class() const override { return DeviceClass::Gpu; }
  Probe probe() override { return {false, kNoCuda}; }
  std::unique_ptr<Instance> prepare(const Workload&, const CheckFn&) override { throw NotApplicable(kNoCuda); }
};

}  // namespace

GpuInfo gpu_info() {
  GpuInfo g;
  g.name = std::string("none: ") + kNoCuda;
  return g;
}

int64_t gpu_used_bytes() { return -1; }

std::unique_ptr<Backend> make_cudnn_backend() { return std::make_unique<NoCudnn>(); }

}  // namespace rnnad::bench
