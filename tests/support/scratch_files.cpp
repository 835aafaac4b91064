// Test support: scratch files (scratch_files.h).
#include "scratch_files.h"

#include <unistd.h>

#include <fstream>
#include <system_error>

namespace rnnad::test {
namespace {

struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() : path(std::filesystem::temp_directory_path() / ("rnnad_test_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

std::filesystem::path scratch() {
  static const ScratchDir dir;
  return dir.path;
}

std::filesystem::path write_file(const std::string& name, const std::string& bytes) {
  const std::filesystem::path p = scratch() / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

}  // namespace rnnad::test
