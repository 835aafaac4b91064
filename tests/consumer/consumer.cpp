// The C++ API from an out-of-tree project against the installed librnnad.so (test
// install_consumer): the version, an Engine, a Detector on the NAB reference series compared with
// PyTorch's scores (score tolerance of design.md §7), and a library exception caught by type.
// Usage: rnnad_consumer MODEL REFERENCE (models/nab_machine_temp{,.reference}.safetensors)
#include <rnnad/detector.h>
#include <rnnad/engine.h>
#include <rnnad/error.h>
#include <rnnad/safetensors.h>
#include <rnnad/tolerance.h>
#include <rnnad/version.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: rnnad_consumer MODEL REFERENCE\n";
    return 2;
  }
  int failures = 0;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) {
      ++failures;
      std::cerr << "FAILED: " << what << "\n";
    }
  };
  check(std::strcmp(rnnad::version(), RNNAD_VERSION_STRING) == 0, "library version equals the headers'");

  const auto model = rnnad::Model::load(argv[1]);
  rnnad::Engine engine(model, {.device = rnnad::Device::Cpu, .max_batch = 4, .max_seq_len = 64});
  std::cout << "rnnad " << rnnad::version() << ", " << rnnad::config_summary(model->config()) << ", "
            << engine.backend_name() << "\n";

  // PyTorch's scores of the reference rows; the detector must reproduce them.
  const auto ref = rnnad::SafetensorsFile::read(argv[2]);
  const std::vector<double> raw = ref.to_f64(*ref.find("series"));
  const std::vector<double> expected = ref.to_f64(*ref.find("scores"), true);
  rnnad::Series series;
  series.source = argv[2];
  series.columns = {"value"};
  series.values.assign(raw.begin(), raw.end());
  rnnad::DetectorOptions options;
  options.threshold = rnnad::threshold_settings(rnnad::ThresholdMethod::Static, model->config().threshold);
  rnnad::Detector detector(model, options);
  const rnnad::SeriesSegment all{0, series.rows()};
  const rnnad::DetectionResult result = detector.run(series, {&all, 1});

  std::vector<double> magnitudes;
  for (double s : expected)
    if (std::isfinite(s)) magnitudes.push_back(std::abs(s));
  std::nth_element(magnitudes.begin(), magnitudes.begin() + magnitudes.size() / 2, magnitudes.end());
  const double median = magnitudes[magnitudes.size() / 2];
  int64_t mismatches = 0;
  for (std::size_t r = 0; r < expected.size(); ++r) {
    const double a = result.scores[r], b = expected[r];
    if (std::isnan(a) != std::isnan(b) ||
        (!std::isnan(b) && std::abs(a - b) > rnnad::tolerance::kScore * std::max(std::abs(b), median)))
      ++mismatches;
  }
  check(mismatches == 0, std::to_string(mismatches) + " scores differ from PyTorch's");
  std::cout << "detector: " << result.scored_rows << " of " << result.rows << " rows scored, " << result.events.size()
            << " events; " << mismatches << " scores differ from PyTorch's\n";

  // An exception thrown inside librnnad.so is caught by its type here.
  try {
    rnnad::Model::parse({'x', 'y'}, "consumer-bytes");
    check(false, "parsing garbage did not throw");
  } catch (const rnnad::FormatError& e) {
    check(std::string(e.what()).find("consumer-bytes") != std::string::npos, "FormatError names the source");
  }
  std::cout << (failures ? "FAILED" : "OK") << "\n";
  return failures ? 1 : 0;
}
