// Test support: the golden models of tests/golden (RNNAD_GOLDEN_DIR, set by CTest).
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <string>

#include "rnnad/model.h"

namespace rnnad::test {

/// Loads RNNAD_GOLDEN_DIR/<path>.safetensors, e.g. golden_model("models/pred_telemanom");
/// the test fails (REQUIRE) when the variable is unset.
inline std::shared_ptr<const Model> golden_model(const std::string& path) {
  const char* dir = std::getenv("RNNAD_GOLDEN_DIR");
  REQUIRE(dir != nullptr);
  return Model::load(std::string(dir) + "/" + path + ".safetensors");
}

}  // namespace rnnad::test
