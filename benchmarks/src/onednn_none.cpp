// The oneDNN peer of a build without dnnl (CMake did not find libdnnl-dev, or
// RNNAD_BENCH_ONEDNN is OFF): listed, probed as unavailable, never run.
#include "backend_onednn.h"
#include "bench_error.h"

namespace rnnad::bench {

namespace {

constexpr const char* kNotBuilt =
    "not built (CMake found no dnnl: install libdnnl-dev, or RNNAD_BENCH_ONEDNN is OFF)";

class NoOnednn final : public Backend {
 public:
  std::string name() const override { return "onednn"; }
  DeviceClass device_class() const override { return DeviceClass::Cpu; }
  Probe probe() override { return {false, kNotBuilt}; }
  std::unique_ptr<Instance> prepare(const Workload&, const CheckFn&) override { throw NotApplicable(kNotBuilt); }
};

}  // namespace

std::unique_ptr<Backend> make_onednn_backend(const BackendOptions&) { return std::make_unique<NoOnednn>(); }

}  // namespace rnnad::bench
