// Validation of an engine against a reference file computed by PyTorch (docs/model_format.md §4).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "rnnad/engine.h"

namespace rnnad {

/// Outcome of comparing the engine's outputs with a reference file. `worst_*` describe the
/// element with the largest error relative to its bound (tolerance::fp32_bound).
struct ValidationReport {
  bool passed = false;
  int64_t seq_len = 0, batch = 0;
  int64_t elements = 0;          ///< values compared (output, h_n, c_n)
  double worst_abs_error = 0.0;  ///< |engine - reference| at the worst element
  double worst_ratio = 0.0;      ///< that error / its bound; <= 1 passes
  std::string worst_tensor;      ///< "output", "h_n" or "c_n"
  int64_t worst_index = 0;       ///< flat index into that tensor
  double worst_value = 0.0, worst_expected = 0.0;
  double max_abs_error = 0.0;    ///< largest |engine - reference| over all elements
  bool all_finite = true;        ///< engine produced no NaN/inf
  double forward_ms = 0.0;       ///< wall time of the forward pass
  std::string description;       ///< the reference file's description
  std::string device;            ///< backend that ran
  /// One line: "PASS output/h_n/c_n: 1234 values, worst |err| 3.1e-07 (3.1% of tolerance) at ...".
  std::string summary() const;
};

/// Runs `model` on the inputs in `reference_path` and compares every output and final state
/// with the stored float64 reference under the fp32 rule of tolerance.h. The engine is created
/// with `device` and sized for the reference's batch and seq_len. Throws IoError, FormatError
/// (reference malformed or not matching the model's shapes, naming the tensor), ShapeError.
ValidationReport validate(std::shared_ptr<const Model> model, const std::filesystem::path& reference_path,
                          Device device = Device::Auto);

/// The conventional reference file of a model file: "X.safetensors" -> "X.reference.safetensors".
std::filesystem::path default_reference_path(const std::filesystem::path& model_path);

}  // namespace rnnad
