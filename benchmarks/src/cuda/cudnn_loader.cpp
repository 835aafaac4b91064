// Finds and loads libcudnn.so.9 at run time (cudnn_api.h says where it looks).
#include <dlfcn.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "../bench_error.h"
#include "cudnn_api.h"

namespace rnnad::bench::cudnn {

namespace {

struct Candidate {
  std::string path;  // absolute, or a bare soname for the dynamic loader's own search
  std::string origin;
};

// Prints the libcudnn.so.9 files of the pip packages nvidia-cudnn-* (the `nvidia` namespace
// package) and of torch/lib, for the python3 on PATH, without importing torch (fast).
constexpr const char* kPythonProbe =
    "python3 -c '"
    "import glob, importlib.util, os\n"
    "found = []\n"
    "spec = importlib.util.find_spec(\"nvidia\")\n"
    "for d in (list(spec.submodule_search_locations) if spec and spec.submodule_search_locations else []):\n"
    "    found += sorted(glob.glob(os.path.join(d, \"*\", \"lib\", \"libcudnn.so.9\")))\n"
    "torch = importlib.util.find_spec(\"torch\")\n"
    "if torch and torch.origin:\n"
    "    found += glob.glob(os.path.join(os.path.dirname(torch.origin), \"lib\", \"libcudnn.so.9\"))\n"
    "print(\"\\n\".join(found))\n"
    "' 2>/dev/null";

std::vector<std::string> python_cudnn_paths() {
  std::vector<std::string> out;
  FILE* p = popen(kPythonProbe, "r");
  if (!p) return out;
  std::array<char, 4096> line{};
  while (std::fgets(line.data(), static_cast<int>(line.size()), p)) {
    std::string s(line.data());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (!s.empty()) out.push_back(s);
  }
  pclose(p);
  return out;
}

std::vector<Candidate> candidates() {
  std::vector<Candidate> c;
  if (const char* root = std::getenv("CUDNN_ROOT"); root && *root)
    for (const char* lib : {"lib", "lib64"}) c.push_back({std::string(root) + "/" + lib + "/libcudnn.so.9", "CUDNN_ROOT"});
  for (const auto& p : python_cudnn_paths()) c.push_back({p, "PyTorch's bundled copy (python3)"});
  c.push_back({"libcudnn.so.9", "the system's library search path"});
  c.push_back({"/usr/local/cuda/lib64/libcudnn.so.9", "the CUDA toolkit's lib64"});
  return c;
}

// cuDNN 9's libcudnn.so.9 opens its sub-libraries by soname; loading them first from the same
// folder makes that work when the folder is not on the library path (pip wheels).
void preload_siblings(const std::filesystem::path& lib) {
  static constexpr const char* kSubLibraries[] = {
      "libcudnn_graph.so.9",     "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
      "libcudnn_heuristic.so.9", "libcudnn_ops.so.9",                 "libcudnn_cnn.so.9",
      "libcudnn_adv.so.9"};
  for (const char* name : kSubLibraries) {
    const auto p = lib.parent_path() / name;
    if (std::filesystem::exists(p)) dlopen(p.c_str(), RTLD_LAZY | RTLD_LOCAL);  // failures surface later
  }
}

template <typename Fn>
bool resolve(void* lib, const char* name, Fn& fn, std::string& missing) {
  void* sym = dlsym(lib, name);
  if (!sym) {
    missing += missing.empty() ? name : std::string(", ") + name;
    return false;
  }
  static_assert(sizeof(fn) == sizeof(sym));
  std::memcpy(&fn, &sym, sizeof fn);  // object -> function pointer without a pedantic cast
  return true;
}

// Resolves every entry point of `api` from `lib`; returns the names it could not find.
std::string resolve_all(void* lib, Api& a) {
  std::string m;
  resolve(lib, "cudnnGetVersion", a.GetVersion, m);
  resolve(lib, "cudnnGetErrorString", a.GetErrorString, m);
  resolve(lib, "cudnnCreate", a.Create, m);
  resolve(lib, "cudnnDestroy", a.Destroy, m);
  resolve(lib, "cudnnCreateTensorDescriptor", a.CreateTensorDescriptor, m);
  resolve(lib, "cudnnDestroyTensorDescriptor", a.DestroyTensorDescriptor, m);
  resolve(lib, "cudnnSetTensorNdDescriptor", a.SetTensorNdDescriptor, m);
  resolve(lib, "cudnnGetTensorNdDescriptor", a.GetTensorNdDescriptor, m);
  resolve(lib, "cudnnCreateRNNDescriptor", a.CreateRNNDescriptor, m);
  resolve(lib, "cudnnDestroyRNNDescriptor", a.DestroyRNNDescriptor, m);
  resolve(lib, "cudnnSetRNNDescriptor_v8", a.SetRNNDescriptor_v8, m);
  resolve(lib, "cudnnCreateRNNDataDescriptor", a.CreateRNNDataDescriptor, m);
  resolve(lib, "cudnnDestroyRNNDataDescriptor", a.DestroyRNNDataDescriptor, m);
  resolve(lib, "cudnnSetRNNDataDescriptor", a.SetRNNDataDescriptor, m);
  resolve(lib, "cudnnBuildRNNDynamic", a.BuildRNNDynamic, m);
  resolve(lib, "cudnnGetRNNWeightSpaceSize", a.GetRNNWeightSpaceSize, m);
  resolve(lib, "cudnnGetRNNWeightParams", a.GetRNNWeightParams, m);
  resolve(lib, "cudnnGetRNNTempSpaceSizes", a.GetRNNTempSpaceSizes, m);
  resolve(lib, "cudnnRNNForward", a.RNNForward, m);
  return m;
}

}  // namespace

const char* algo_name(int algo) {
  switch (algo) {
    case kAlgoStandard: return "STANDARD";
    case kAlgoPersistStatic: return "PERSIST_STATIC";
    case kAlgoPersistDynamic: return "PERSIST_DYNAMIC";
    case kAlgoPersistStaticSmallH: return "PERSIST_STATIC_SMALL_H";
    default: return "?";
  }
}

void Api::check(Status status, const char* call) const {
  if (status != kStatusSuccess)
    throw BenchError(std::string(call) + ": " + (GetErrorString ? GetErrorString(status) : "cuDNN error") + " (" +
                     std::to_string(status) + ")");
}

std::shared_ptr<const Api> load_cudnn() {
  std::string tried;
  auto note = [&](const Candidate& c, const std::string& why) {
    tried += (tried.empty() ? "" : "; ") + c.path + " (" + c.origin + "): " + why;
  };
  for (const Candidate& c : candidates()) {
    const bool absolute = c.path.find('/') != std::string::npos;
    if (absolute && !std::filesystem::exists(c.path)) {
      note(c, "not found");
      continue;
    }
    if (absolute) preload_siblings(c.path);
    void* lib = dlopen(c.path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      note(c, e ? e : "dlopen failed");
      continue;
    }
    auto api = std::make_shared<Api>();
    if (const std::string missing = resolve_all(lib, *api); !missing.empty()) {
      note(c, "missing " + missing);
      continue;  // the handle stays open: harmless, and closing cuDNN libraries is not safe
    }
    api->version = api->GetVersion();
    if (api->version < 90000 || api->version >= 100000) {
      note(c, "version " + std::to_string(api->version) + " is not cuDNN 9");
      continue;
    }
    char path[4096] = {};
    if (!absolute && dlinfo(lib, RTLD_DI_ORIGIN, path) == 0) api->path = std::string(path) + "/" + c.path;
    else api->path = c.path;
    api->origin = c.origin;
    return api;
  }
  throw BenchError("cuDNN 9 not found: " + tried);
}

}  // namespace rnnad::bench::cudnn
