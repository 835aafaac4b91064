// Checks of option values shared by the subcommands (docs/cli.md, "Exit codes and errors"): a
// value outside its choices or a number that is not finite is a usage error (CLI11 throws
// ValidationError, exit 2) that names the option and the value; a CUDA device that this machine
// cannot provide is bad input (rnnad::Error, exit 3) that names the device as given.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "rnnad/device.h"
#include "rnnad/error.h"

namespace rnnad::cli {

/// Accepts exactly one of `choices`. Otherwise CLI11 reports (exit 2)
/// "--fill: 'zero' is not one of error, interpolate, ffill". --help shows "TEXT:{a,b,c}".
inline CLI::Validator one_of(std::vector<std::string> choices) {
  std::string listed, braced;
  for (const std::string& c : choices) {
    listed += (listed.empty() ? "" : ", ") + c;
    braced += (braced.empty() ? "" : ",") + c;
  }
  return CLI::Validator(
      [choices = std::move(choices), listed](std::string& value) -> std::string {
        for (const std::string& c : choices)
          if (value == c) return "";
        return "'" + value + "' is not one of " + listed;
      },
      "{" + braced + "}");
}

/// Accepts a finite decimal number (std::strtod, the whole text). Otherwise CLI11 reports (exit
/// 2) "--threshold-value: 'nan' is not a finite number" (also inf, 1e999, abc).
inline CLI::Validator finite_number() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v))
          return "'" + value + "' is not a finite number";
        return "";
      },
      "");
}

/// Accepts what rnnad::parse_device accepts: auto, cpu, cuda, cuda:N. Otherwise CLI11 reports
/// (exit 2) "--device: 'gpu' is not one of auto, cpu, cuda, cuda:N".
inline CLI::Validator device_choice() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          parse_device(value);
          return "";
        } catch (const Error&) {
          return "'" + value + "' is not one of auto, cpu, cuda, cuda:N";
        }
      },
      "{auto,cpu,cuda,cuda:N}");
}

/// For a --device value that device_choice() accepted: returns the device and writes the CUDA
/// ordinal to *index (0 unless cuda:N). Before anything is read, throws UnsupportedError (exit
/// 3) naming the device as given when it is cuda or cuda:N and this machine cannot provide it:
/// "--device cuda:1: this rnnad was built without CUDA ...", "--device cuda: no CUDA device is
/// available", "--device cuda:1: there is 1 CUDA device (cuda:0)". The engine checks the same
/// when it starts; this check names the option and fails before the input is read.
inline Device checked_device(const std::string& text, int* index) {
  *index = 0;
  const Device device = parse_device(text, index);
  if (device != Device::Cuda) return device;
  const std::string what = "--device " + text + ": ";
  if (!cuda_built())
    throw UnsupportedError(what + "this rnnad was built without CUDA (nvcc was not found at configure time)");
  const int n = cuda_device_count();
  if (n == 0) throw UnsupportedError(what + "no CUDA device is available");
  if (*index >= n)
    throw UnsupportedError(what + (n == 1 ? "there is 1 CUDA device (cuda:0)"
                                          : "there are " + std::to_string(n) +
                                                " CUDA devices (cuda:0 .. cuda:" + std::to_string(n - 1) + ")"));
  return device;
}

}  // namespace rnnad::cli
