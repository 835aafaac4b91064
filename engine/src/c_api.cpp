// The C API (rnnad/rnnad.h, docs/c_api.md): errors, version, models, thresholds and the
// detector. The stream pool's functions are in c_api_pool.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "c_api_internal.h"
#include "rnnad/detector.h"
#include "rnnad/error.h"
#include "rnnad/series.h"
#include "rnnad/version.h"

namespace rnnad::capi {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One message per thread, written without allocating (a failure may be an out-of-memory one).
thread_local char t_last_error[4096] = "";

rnnad_status fail(rnnad_status status, const char* function, const char* message) noexcept {
  std::snprintf(t_last_error, sizeof t_last_error, "%s: %s", function, message);
  return status;
}

static_assert(static_cast<int>(Device::Auto) == RNNAD_DEVICE_AUTO && static_cast<int>(Device::Cpu) == RNNAD_DEVICE_CPU &&
              static_cast<int>(Device::Cuda) == RNNAD_DEVICE_CUDA);
static_assert(static_cast<int>(ThresholdMethod::Static) == RNNAD_THRESHOLD_STATIC &&
              static_cast<int>(ThresholdMethod::Ndt) == RNNAD_THRESHOLD_NDT &&
              static_cast<int>(ThresholdMethod::Spot) == RNNAD_THRESHOLD_SPOT &&
              static_cast<int>(ThresholdMethod::Dspot) == RNNAD_THRESHOLD_DSPOT);
static_assert(static_cast<int>(ModelKind::Rnn) == RNNAD_KIND_RNN &&
              static_cast<int>(ModelKind::Reconstruction) == RNNAD_KIND_RECONSTRUCTION &&
              static_cast<int>(ModelKind::Prediction) == RNNAD_KIND_PREDICTION &&
              static_cast<int>(ModelKind::Attention) == RNNAD_KIND_ATTENTION);

}  // namespace

rnnad_status fail_current(const char* function) noexcept {
  try {
    throw;
  } catch (const ArgumentError& e) {
    return fail(RNNAD_ERROR_INVALID_ARGUMENT, function, e.what());
  } catch (const NotFoundError& e) {
    return fail(RNNAD_ERROR_NOT_FOUND, function, e.what());
  } catch (const IoError& e) {
    return fail(RNNAD_ERROR_IO, function, e.what());
  } catch (const FormatError& e) {
    return fail(RNNAD_ERROR_FORMAT, function, e.what());
  } catch (const ShapeError& e) {
    return fail(RNNAD_ERROR_SHAPE, function, e.what());
  } catch (const UnsupportedError& e) {
    return fail(RNNAD_ERROR_UNSUPPORTED, function, e.what());
  } catch (const CudaError& e) {
    return fail(RNNAD_ERROR_CUDA, function, e.what());
  } catch (const Error& e) {
    return fail(RNNAD_ERROR, function, e.what());
  } catch (const std::bad_alloc&) {
    return fail(RNNAD_ERROR_OUT_OF_MEMORY, function, "out of memory");
  } catch (const std::exception& e) {
    return fail(RNNAD_ERROR_INTERNAL, function, e.what());
  } catch (...) {
    return fail(RNNAD_ERROR_INTERNAL, function, "unknown exception");
  }
}

ThresholdMethod to_method(int method) {
  require(method >= RNNAD_THRESHOLD_STATIC && method <= RNNAD_THRESHOLD_DSPOT,
          "threshold method must be RNNAD_THRESHOLD_STATIC, _NDT, _SPOT or _DSPOT");
  return static_cast<ThresholdMethod>(method);
}

Device to_device(int device) {
  require(device >= RNNAD_DEVICE_AUTO && device <= RNNAD_DEVICE_CUDA, "device must be RNNAD_DEVICE_AUTO, _CPU or _CUDA");
  return static_cast<Device>(device);
}

ThresholdSettings to_settings(const rnnad_threshold_options& o) {
  const ThresholdMethod method = to_method(raw_enum(o.method));
  ThresholdSettings s = threshold_settings(method, std::nullopt);
  require(!std::isinf(o.value), "threshold.value must be finite (NaN: mean + k * std of the calibration rows)");
  s.value = std::isnan(o.value) ? std::nullopt : std::optional<double>(o.value);
  s.k = o.k;
  s.spot.q = o.spot_q;
  s.spot.level = o.spot_level;
  if (method == ThresholdMethod::Dspot) {
    require(o.spot_depth >= 1, "threshold.spot_depth must be >= 1 for DSPOT");
    s.spot.depth = static_cast<std::size_t>(o.spot_depth);
  }
  s.calibration_rows = o.calibration_rows;
  return s;
}

void init_threshold(const rnnad_model* model, int method, rnnad_threshold_options* options) {
  require(options != nullptr, "options is NULL");
  const std::optional<ThresholdDefaults> defaults = model ? model->model->config().threshold : std::nullopt;
  ThresholdMethod m = ThresholdMethod::Static;
  if (method == RNNAD_THRESHOLD_MODEL_DEFAULT) {
    require(model != nullptr, "RNNAD_THRESHOLD_MODEL_DEFAULT needs a model");
    if (defaults) m = defaults->method;
  } else {
    m = to_method(method);
  }
  const ThresholdSettings s = threshold_settings(m, defaults);
  options->method = static_cast<rnnad_threshold_method>(m);
  options->value = s.value ? *s.value : kNaN;
  options->k = s.k;
  options->spot_q = s.spot.q;
  options->spot_level = s.spot.level;
  options->spot_depth = m == ThresholdMethod::Dspot ? static_cast<int64_t>(s.spot.depth)
                                                     : static_cast<int64_t>(ThresholdSettings::kDspotDepth);
  options->calibration_rows = s.calibration_rows;
}

namespace {

/// The series of rnnad_detector_run as a Series: float values (as the CSV reader keeps them), the
/// model's feature names when it has input_size of them, else "column N".
Series make_series(const ModelConfig& config, const double* values, int64_t rows, int64_t features) {
  Series s;
  s.source = "series";
  const std::vector<std::string>& names = config.normalization.features;
  for (int64_t f = 0; f < features; ++f)
    s.columns.push_back(static_cast<int64_t>(names.size()) == features ? names[static_cast<std::size_t>(f)]
                                                                        : "column " + std::to_string(f + 1));
  s.values.assign(values, values + rows * features);  // double -> float per element
  return s;
}

/// rnnad_detect_options_init's defaults.
void detect_defaults(const rnnad_model* model, rnnad_detect_options* options) {
  require(model != nullptr, "model is NULL");
  require(options != nullptr, "options is NULL");
  const DetectorOptions d;
  options->device = static_cast<rnnad_device>(d.device);
  options->device_index = d.device_index;
  options->batch = d.batch;
  options->missing = RNNAD_MISSING_ERROR;
  init_threshold(model, RNNAD_THRESHOLD_MODEL_DEFAULT, &options->threshold);
}

MissingPolicy to_missing(int missing) {
  switch (missing) {
    case RNNAD_MISSING_ERROR: return MissingPolicy::Error;
    case RNNAD_MISSING_INTERPOLATE: return MissingPolicy::Interpolate;
    case RNNAD_MISSING_FFILL: return MissingPolicy::ForwardFill;
  }
  throw ArgumentError("missing must be RNNAD_MISSING_ERROR, _INTERPOLATE or _FFILL");
}

}  // namespace
}  // namespace rnnad::capi

using namespace rnnad;
using namespace rnnad::capi;

/// The C handle of a detector: the C++ Detector (one engine) and the input policy of its series.
struct rnnad_detector {
  std::shared_ptr<const Model> model;
  MissingPolicy missing = MissingPolicy::Error;
  std::unique_ptr<Detector> detector;
};

extern "C" {

const char* rnnad_last_error(void) { return t_last_error; }

const char* rnnad_status_name(rnnad_status status) {
  switch (raw_enum(status)) {
    case RNNAD_OK: return "ok";
    case RNNAD_ERROR: return "error";
    case RNNAD_ERROR_INVALID_ARGUMENT: return "invalid_argument";
    case RNNAD_ERROR_NOT_FOUND: return "not_found";
    case RNNAD_ERROR_IO: return "io";
    case RNNAD_ERROR_FORMAT: return "format";
    case RNNAD_ERROR_SHAPE: return "shape";
    case RNNAD_ERROR_UNSUPPORTED: return "unsupported";
    case RNNAD_ERROR_CUDA: return "cuda";
    case RNNAD_ERROR_OUT_OF_MEMORY: return "out_of_memory";
    case RNNAD_ERROR_INTERNAL: return "internal";
  }
  return "unknown";
}

const char* rnnad_version(void) { return rnnad::version(); }

rnnad_status rnnad_model_load(const char* path, rnnad_model** model) {
  if (model) *model = nullptr;
  return guarded(__func__, [&] {
    require(path != nullptr, "path is NULL");
    require(model != nullptr, "model is NULL");
    auto loaded = Model::load(path);
    *model = new rnnad_model{loaded, config_summary(loaded->config())};
  });
}

rnnad_status rnnad_model_load_memory(const void* data, size_t size, const char* source, rnnad_model** model) {
  if (model) *model = nullptr;
  return guarded(__func__, [&] {
    require(data != nullptr || size == 0, "data is NULL");
    require(model != nullptr, "model is NULL");
    const auto* bytes = static_cast<const unsigned char*>(data);
    auto loaded = Model::parse(std::vector<unsigned char>(bytes, bytes + size), source ? source : "<memory>");
    *model = new rnnad_model{loaded, config_summary(loaded->config())};
  });
}

void rnnad_model_free(rnnad_model* model) { delete model; }

rnnad_status rnnad_model_get_info(const rnnad_model* model, rnnad_model_info* info) {
  return guarded(__func__, [&] {
    require(model != nullptr, "model is NULL");
    require(info != nullptr, "info is NULL");
    const ModelConfig& c = model->model->config();
    const bool scores = c.model_kind != ModelKind::Rnn;
    info->kind = static_cast<rnnad_model_kind>(c.model_kind);
    info->kind_name = model_kind_name(c.model_kind);
    info->summary = model->summary.c_str();
    info->source = model->model->source().c_str();
    info->input_size = c.input_size();
    info->seq_len = c.seq_len();
    info->rows_needed = rows_needed(c);
    info->score_features = !scores ? 0
                           : c.model_kind == ModelKind::Prediction ? static_cast<int64_t>(c.prediction.targets.size())
                                                                   : c.input_size();
    info->parameter_count = model->model->parameter_count();
    info->has_scores = scores ? 1 : 0;
    info->default_threshold =
        static_cast<rnnad_threshold_method>(c.threshold ? c.threshold->method : ThresholdMethod::Static);
  });
}

rnnad_status rnnad_threshold_options_init(const rnnad_model* model, rnnad_threshold_method method,
                                          rnnad_threshold_options* options) {
  return guarded(__func__, [&] { init_threshold(model, raw_enum(method), options); });
}

rnnad_status rnnad_detect_options_init(const rnnad_model* model, rnnad_detect_options* options) {
  return guarded(__func__, [&] { detect_defaults(model, options); });
}

rnnad_status rnnad_detector_create(const rnnad_model* model, const rnnad_detect_options* options,
                                   rnnad_detector** detector) {
  if (detector) *detector = nullptr;
  return guarded(__func__, [&] {
    require(model != nullptr, "model is NULL");
    require(detector != nullptr, "detector is NULL");
    rnnad_detect_options o{};
    if (options)
      o = *options;
    else
      detect_defaults(model, &o);
    require(o.batch >= 1, "options.batch must be >= 1");
    DetectorOptions d;
    d.device = to_device(raw_enum(o.device));
    d.device_index = o.device_index;
    d.batch = o.batch;
    d.threshold = to_settings(o.threshold);
    auto made = std::make_unique<rnnad_detector>();
    made->model = model->model;
    made->missing = to_missing(raw_enum(o.missing));
    made->detector = std::make_unique<Detector>(model->model, d);
    *detector = made.release();
  });
}

void rnnad_detector_free(rnnad_detector* detector) { delete detector; }

rnnad_status rnnad_detector_run(rnnad_detector* detector, const double* series, int64_t rows, int64_t features,
                                double* scores, double* thresholds, uint8_t* flags, rnnad_detect_summary* summary) {
  return guarded(__func__, [&] {
    require(detector != nullptr, "detector is NULL");
    require(series != nullptr, "series is NULL");
    require(rows >= 1 && features >= 1, "rows and features must be >= 1");
    require(rows <= std::numeric_limits<int64_t>::max() / features, "rows * features overflows");
    const ModelConfig& config = detector->model->config();
    Series s = make_series(config, series, rows, features);
    InputPolicy policy;
    policy.missing = detector->missing;
    const PrepareReport report = prepare_series(s, policy);
    const ModelFit fit = check_model_fit(s, report, config);
    const DetectionResult r = detector->detector->run(s, fit.usable);
    const auto n = static_cast<std::size_t>(rows);
    if (scores) std::copy_n(r.scores.begin(), n, scores);
    if (thresholds) std::copy_n(r.threshold.threshold.begin(), n, thresholds);
    if (flags) std::copy_n(r.threshold.flags.begin(), n, flags);
    if (summary) {
      summary->rows = r.rows;
      summary->scored_rows = r.scored_rows;
      summary->calibration_rows = r.threshold.calibration_rows;
      summary->judged_rows = r.threshold.judged_rows;
      summary->anomalous_rows = std::count(r.threshold.flags.begin(), r.threshold.flags.end(), uint8_t{1});
      summary->events = static_cast<int64_t>(r.events.size());
      summary->initial_threshold = r.threshold.initial;
    }
  });
}

}  // extern "C"
