// Every golden case in $RNNAD_GOLDEN_DIR (model + PyTorch float64 reference, made by
// tools/python/make_golden.py) validated on the CPU path under the fp32 tolerance. Prints the
// case count and the worst error per kind and cell type. $RNNAD_GOLDEN_MIN_CASES (default 150) guards
// against a directory that silently lost cases.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "rnnad/validate.h"

using namespace rnnad;

TEST_CASE("golden cases match PyTorch", "[golden]") {
  const char* dir_env = std::getenv("RNNAD_GOLDEN_DIR");
  REQUIRE(dir_env != nullptr);
  const std::filesystem::path dir(dir_env);
  const char* min_env = std::getenv("RNNAD_GOLDEN_MIN_CASES");
  const long min_cases = min_env ? std::atol(min_env) : 150;
  const std::string suffix = ".reference.safetensors";

  struct Worst {
    int cases = 0, failed = 0;
    double abs_err = 0, ratio = 0;
    std::string where;
  };
  std::map<std::string, Worst> per_cell;
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const auto model_path = dir / (name.substr(0, name.size() - suffix.size()) + ".safetensors");
    auto model = Model::load(model_path);
    const auto r = validate(model, entry.path(), Device::Cpu);
    const ModelConfig& mc = model->config();
    std::string cell;
    switch (mc.model_kind) {
      case ModelKind::Rnn: cell = std::string(cell_type_name(mc.rnn.mode)) + (mc.rnn.proj_size > 0 ? "+proj" : ""); break;
      case ModelKind::Reconstruction: cell = std::string("reconstruction ") + cell_type_name(mc.reconstruction.cell); break;
      case ModelKind::Prediction: cell = std::string("prediction ") + cell_type_name(mc.prediction.cell); break;
      case ModelKind::Attention: cell = std::string("attention ") + cell_type_name(mc.attention.cell); break;
    }
    auto& w = per_cell[cell];
    ++w.cases;
    ++cases;
    if (!r.passed) ++w.failed;
    if (r.worst_ratio >= w.ratio) {
      w.ratio = r.worst_ratio;
      w.where = name;
    }
    w.abs_err = std::max(w.abs_err, r.max_abs_error);
    INFO(name << ": " << r.summary());
    CHECK(r.passed);
  }
  std::cout << "golden cases in " << dir << ": " << cases << "\n";
  for (const auto& [cell, w] : per_cell)
    std::cout << "  " << cell << ": " << w.cases << " cases, " << w.failed << " failed, max |err| " << w.abs_err
              << ", worst " << 100.0 * w.ratio << "% of tolerance (" << w.where << ")\n";
  CHECK(cases >= min_cases);
}
