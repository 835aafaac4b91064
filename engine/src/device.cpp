#include "rnnad/device.h"

#include "rnnad/error.h"

#ifdef RNNAD_HAVE_CUDA
#include "rnnad/cuda/device_query.h"
#endif

namespace rnnad {

const char* device_name(Device device) {
  switch (device) {
    case Device::Auto: return "auto";
    case Device::Cpu: return "cpu";
    case Device::Cuda: return "cuda";
  }
  return "?";
}

Device parse_device(const std::string& text, int* index) {
  if (text == "auto") return Device::Auto;
  if (text == "cpu") return Device::Cpu;
  if (text == "cuda") return Device::Cuda;
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() < 9 &&
      text.find_first_not_of("0123456789", 5) == std::string::npos) {
    if (index) *index = std::stoi(text.substr(5));
    return Device::Cuda;
  }
  throw Error("device \"" + text + "\" is not one of auto, cpu, cuda, cuda:N");
}

bool cuda_built() {
#ifdef RNNAD_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef RNNAD_HAVE_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

}  // namespace rnnad
