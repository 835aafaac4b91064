// Model file loading: rnnad.config parsing and validation of every tensor against it
// (docs/model_format.md §2-§3).
#include "rnnad/model.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "json_strict.h"
#include "rnnad/error.h"

namespace rnnad {

namespace {

constexpr int64_t kMaxFeatureSize = int64_t{1} << 20;  // input_size, hidden_size, proj_size
constexpr int64_t kMaxLayers = 1024;

using nlohmann::json;

using detail::quote;

// Reads the fields of one JSON object with exact types, names the field in every error, and
// rejects fields it was not asked about.
class Fields {
 public:
  Fields(const json& obj, std::string where, std::string source)
      : m_obj(obj), m_where(std::move(where)), m_source(std::move(source)) {
    if (!m_obj.is_object()) {
      if (m_where.empty()) throw FormatError(m_source + ": rnnad.config must be a JSON object");
      throw error(m_where, "must be a JSON object");
    }
  }
  FormatError error(const std::string& field, const std::string& msg) const {
    return FormatError(m_source + ": config field " + quote(field) + " " + msg);
  }
  std::string path(const char* key) const { return m_where.empty() ? key : m_where + "." + key; }
  const std::string& source() const { return m_source; }
  const json* get(const char* key, bool required) {
    m_seen.insert(key);
    auto it = m_obj.find(key);
    if (it == m_obj.end()) {
      if (required) throw error(path(key), "is missing");
      return nullptr;
    }
    return &*it;
  }
  int64_t integer(const char* key, int64_t lo, int64_t hi, std::optional<int64_t> def = std::nullopt) {
    const json* v = get(key, !def);
    if (!v) return *def;
    if (!v->is_number_integer()) throw error(path(key), "must be an integer");
    const bool in_range = v->is_number_unsigned() ? v->get<std::uint64_t>() <= static_cast<std::uint64_t>(hi) &&
                                                        static_cast<int64_t>(v->get<std::uint64_t>()) >= lo
                                                  : v->get<int64_t>() >= lo && v->get<int64_t>() <= hi;
    if (!in_range)
      throw error(path(key), "= " + v->dump() + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    const int64_t x = v->get<int64_t>();
    return x;
  }
  bool boolean(const char* key, bool def) {
    const json* v = get(key, false);
    if (!v) return def;
    if (!v->is_boolean()) throw error(path(key), "must be true or false");
    return v->get<bool>();
  }
  std::string string(const char* key, std::optional<std::string> def = std::nullopt) {
    const json* v = get(key, !def);
    if (!v) return *def;
    if (!v->is_string()) throw error(path(key), "must be a string");
    return v->get<std::string>();
  }
  /// A finite number.
  double number(const char* key, std::optional<double> def = std::nullopt) {
    const json* v = get(key, !def);
    if (!v) return *def;
    if (!v->is_number() || !std::isfinite(v->get<double>())) throw error(path(key), "must be a finite number");
    return v->get<double>();
  }
  /// A list of exactly `count` finite numbers.
  std::vector<double> numbers(const char* key, int64_t count) {
    const json* v = get(key, true);
    if (!v->is_array() || static_cast<int64_t>(v->size()) != count)
      throw error(path(key), "must be a list of " + std::to_string(count) + " numbers (one per input feature)");
    std::vector<double> out;
    for (const auto& e : *v) {
      if (!e.is_number() || !std::isfinite(e.get<double>()))
        throw error(path(key), "entry " + std::to_string(out.size()) + " is not a finite number");
      out.push_back(e.get<double>());
    }
    return out;
  }
  /// A list of exactly `count` strings, or empty when absent.
  std::vector<std::string> strings(const char* key, int64_t count) {
    const json* v = get(key, false);
    if (!v) return {};
    if (!v->is_array() || static_cast<int64_t>(v->size()) != count)
      throw error(path(key), "must be a list of " + std::to_string(count) + " strings");
    std::vector<std::string> out;
    for (const auto& e : *v) {
      if (!e.is_string()) throw error(path(key), "entries must be strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  /// Index of the value among `options` (a string field).
  std::size_t choice(const char* key, const std::vector<const char*>& options, std::optional<std::size_t> def = std::nullopt) {
    const json* v = get(key, !def);
    if (!v) return *def;
    std::string all;
    for (std::size_t i = 0; i < options.size(); ++i) {
      if (v->is_string() && v->get<std::string>() == options[i]) return i;
      all += (i ? ", " : "") + std::string(options[i]);
    }
    throw error(path(key), "= " + v->dump() + " is not one of " + all);
  }
  /// A non-empty list of distinct integers in [lo, hi].
  std::vector<int64_t> distinct_ints(const char* key, int64_t lo, int64_t hi) {
    const json* v = get(key, true);
    if (!v->is_array() || v->empty()) throw error(path(key), "must be a non-empty list of integers");
    std::vector<int64_t> out;
    std::set<int64_t> seen;  // not a linear search: a list of 2^20 targets would take minutes
    for (const auto& e : *v) {
      if (!e.is_number_integer() || e.get<int64_t>() < lo || e.get<int64_t>() > hi)
        throw error(path(key), "entries must be integers in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + e.dump());
      if (!seen.insert(e.get<int64_t>()).second) throw error(path(key), "lists " + e.dump() + " twice");
      out.push_back(e.get<int64_t>());
    }
    return out;
  }
  void reject_unknown() const {
    for (const auto& [k, v] : m_obj.items()) {
      (void)v;
      if (!m_seen.count(k)) throw error(m_where.empty() ? k : m_where + "." + k, "is not part of format version " +
                                                                std::to_string(kModelFormatVersion));
    }
  }

 private:
  const json& m_obj;
  std::string m_where, m_source;
  std::set<std::string> m_seen;
};

RnnConfig parse_rnn(const json& j, const std::string& source) {
  Fields f(j, "rnn", source);
  RnnConfig c;
  const std::string mode = f.string("mode");
  if (mode == "LSTM") c.mode = CellType::Lstm;
  else if (mode == "GRU") c.mode = CellType::Gru;
  else if (mode == "RNN_TANH") c.mode = CellType::RnnTanh;
  else if (mode == "RNN_RELU") c.mode = CellType::RnnRelu;
  else throw f.error("rnn.mode", "= " + quote(mode) + " is not one of LSTM, GRU, RNN_TANH, RNN_RELU");
  c.input_size = f.integer("input_size", 1, kMaxFeatureSize);
  c.hidden_size = f.integer("hidden_size", 1, kMaxFeatureSize);
  c.num_layers = f.integer("num_layers", 1, kMaxLayers, 1);
  c.bidirectional = f.boolean("bidirectional", false);
  c.bias = f.boolean("bias", true);
  c.proj_size = f.integer("proj_size", 0, kMaxFeatureSize, 0);
  c.prefix = f.string("prefix", std::string());
  f.reject_unknown();
  if (c.proj_size > 0 && c.mode != CellType::Lstm)
    throw f.error("rnn.proj_size", "= " + std::to_string(c.proj_size) + " is only valid for mode LSTM");
  if (c.proj_size >= c.hidden_size)
    throw f.error("rnn.proj_size", "= " + std::to_string(c.proj_size) + " must be smaller than hidden_size = " +
                                       std::to_string(c.hidden_size));
  return c;
}

constexpr int64_t kMaxSeqLen = int64_t{1} << 24;
constexpr int64_t kMaxHorizon = 1 << 16;

CellType parse_cell(Fields& f) {
  return f.choice("cell", {"LSTM", "GRU"}) == 0 ? CellType::Lstm : CellType::Gru;
}

ReconstructionConfig parse_reconstruction(Fields& f) {
  ReconstructionConfig c;
  c.cell = parse_cell(f);
  c.input_size = f.integer("input_size", 1, kMaxFeatureSize);
  c.hidden_size = f.integer("hidden_size", 1, kMaxFeatureSize);
  c.num_layers = f.integer("num_layers", 1, kMaxLayers, 1);
  c.bidirectional_encoder = f.boolean("bidirectional_encoder", false);
  c.decode = f.choice("decode", {"reverse", "forward"}) == 0 ? ReconstructionConfig::Decode::Reverse
                                                            : ReconstructionConfig::Decode::Forward;
  c.seq_len = f.integer("seq_len", 1, kMaxSeqLen);
  return c;
}

PredictionConfig parse_prediction(Fields& f) {
  PredictionConfig c;
  c.cell = parse_cell(f);
  c.input_size = f.integer("input_size", 1, kMaxFeatureSize);
  c.hidden_size = f.integer("hidden_size", 1, kMaxFeatureSize);
  c.num_layers = f.integer("num_layers", 1, kMaxLayers, 1);
  c.horizon = f.integer("horizon", 1, kMaxHorizon);
  c.targets = f.distinct_ints("targets", 0, c.input_size - 1);
  c.output = f.choice("output", {"point", "gaussian"}) == 0 ? PredictionConfig::Output::Point
                                                           : PredictionConfig::Output::Gaussian;
  c.state = f.choice("state", {"windowed", "stateful"}) == 0 ? PredictionConfig::State::Windowed
                                                            : PredictionConfig::State::Stateful;
  if (c.state == PredictionConfig::State::Windowed) {
    c.seq_len = f.integer("seq_len", 1, kMaxSeqLen);
  } else if (f.get("seq_len", false)) {
    throw f.error("model.seq_len", "is not used by a stateful forecaster (it reads the whole series)");
  }
  return c;
}

AttentionConfig parse_attention(Fields& f) {
  AttentionConfig c;
  c.cell = parse_cell(f);
  c.input_size = f.integer("input_size", 1, kMaxFeatureSize);
  c.hidden_size = f.integer("hidden_size", 1, kMaxFeatureSize);
  c.num_layers = f.integer("num_layers", 1, kMaxLayers, 1);
  c.attention_size = f.integer("attention_size", 1, kMaxFeatureSize);
  c.seq_len = f.integer("seq_len", 1, kMaxSeqLen);
  return c;
}

// docs/scoring.md §1, with the constant-feature guard of field case F13.
NormalizationConfig parse_normalization(Fields& f, int64_t features) {
  NormalizationConfig n;
  const std::size_t method = f.choice("method", {"none", "zscore", "minmax"});
  n.features = f.strings("features", features);
  if (method == 0) {
    n.method = NormalizationConfig::Method::None;
    return n;
  }
  if (method == 1) {
    n.method = NormalizationConfig::Method::ZScore;
    n.center = f.numbers("mean", features);
    n.scale = f.numbers("std", features);
    for (std::size_t i = 0; i < n.scale.size(); ++i)
      if (n.scale[i] < 0) throw f.error("normalization.std", "entry " + std::to_string(i) + " is negative");
  } else {
    n.method = NormalizationConfig::Method::MinMax;
    n.center = f.numbers("min", features);
    const auto max = f.numbers("max", features);
    for (std::size_t i = 0; i < max.size(); ++i) {
      if (max[i] < n.center[i]) throw f.error("normalization.max", "entry " + std::to_string(i) + " is below min");
      n.scale.push_back(max[i] - n.center[i]);
    }
  }
  for (std::size_t i = 0; i < n.scale.size(); ++i) {
    if (n.scale[i] < 1e-12 * std::max(1.0, std::abs(n.center[i]))) {
      n.scale[i] = 1.0;
      n.constant_features.push_back(static_cast<int64_t>(i));
    }
  }
  return n;
}

// `threshold`: method, optional value, calibration text and SPOT settings (docs/model_format.md §5).
ThresholdDefaults parse_threshold(Fields& f) {
  ThresholdDefaults t;
  t.method = static_cast<ThresholdMethod>(f.choice("method", {"static", "ndt", "spot", "dspot"}));
  if (f.get("value", false)) t.value = f.number("value");
  t.calibration = f.string("calibration", std::string());
  if (const json* sp = f.get("spot", false)) {
    Fields s(*sp, "threshold.spot", f.source());
    if (s.get("level", false)) {
      t.spot_level = s.number("level");
      if (*t.spot_level < 0 || *t.spot_level >= 1) throw s.error("threshold.spot.level", "must lie in [0, 1)");
    }
    if (s.get("q", false)) {
      t.spot_q = s.number("q");
      const double level = t.spot_level.value_or(0.0);
      if (*t.spot_q <= 0 || *t.spot_q >= 1 - level)
        throw s.error("threshold.spot.q", "must lie in (0, 1 - level)");
    }
    if (s.get("depth", false)) t.spot_depth = s.integer("depth", 1, int64_t{1} << 30);
    s.reject_unknown();
  }
  return t;
}

ScoringConfig parse_scoring(Fields& f) {
  ScoringConfig s;
  s.method = static_cast<ScoringConfig::Method>(
      f.choice("method", {"absolute", "squared", "gaussian_nll", "mahalanobis", "lstm_ad"}));
  s.pooling = static_cast<ScoringConfig::Pooling>(f.choice("pooling", {"mean", "max", "last"}, 0));
  s.stride = f.integer("stride", 1, kMaxSeqLen, 1);
  s.ridge = f.number("ridge", 1e-6);
  if (s.ridge < 0) throw f.error("scoring.ridge", "must be >= 0");
  s.log_det = f.number("log_det", 0.0);
  return s;
}

ModelConfig parse_config(const std::string& text, const std::string& source) {
  const json j = detail::parse_json_strict(text, source, "__metadata__[\"rnnad.config\"]");
  Fields f(j, "", source);
  ModelConfig c;
  // The version is checked first so that a newer file gets the "newer version" message rather
  // than a complaint about a field this reader does not know.
  c.format_version = static_cast<int>(f.integer("format_version", 1, 2'147'483'647));
  if (c.format_version > kModelFormatVersion)
    throw UnsupportedError(source + ": model format version " + std::to_string(c.format_version) +
                           " is newer than this rnnad reads (" + std::to_string(kModelFormatVersion) +
                           "); upgrade rnnad or re-export with a matching tools/python/rnnad_export.py");
  c.kind = f.string("kind");
  const ModelKind kinds[] = {ModelKind::Rnn, ModelKind::Reconstruction, ModelKind::Prediction, ModelKind::Attention};
  bool known = false;
  for (ModelKind k : kinds)
    if (c.kind == model_kind_name(k)) c.model_kind = k, known = true;
  if (!known)
    throw UnsupportedError(source + ": config field \"kind\" = " + quote(c.kind) +
                           " is not a model kind this rnnad knows (rnn, reconstruction, prediction, attention)");
  c.producer = f.string("producer", std::string());
  if (c.model_kind == ModelKind::Rnn) {
    c.rnn = parse_rnn(*f.get("rnn", true), source);
  } else {
    Fields m(*f.get("model", true), "model", source);
    switch (c.model_kind) {
      case ModelKind::Reconstruction: c.reconstruction = parse_reconstruction(m); break;
      case ModelKind::Prediction: c.prediction = parse_prediction(m); break;
      case ModelKind::Attention: c.attention = parse_attention(m); break;
      case ModelKind::Rnn: break;
    }
    m.reject_unknown();
  }
  if (const json* n = f.get("normalization", false)) {
    Fields nf(*n, "normalization", source);
    c.normalization = parse_normalization(nf, c.input_size());
    nf.reject_unknown();
  }
  if (const json* sc = f.get("scoring", false)) {
    if (c.model_kind == ModelKind::Rnn) throw f.error("scoring", "is not used by a bare rnn model");
    Fields sf(*sc, "scoring", source);
    c.scoring = parse_scoring(sf);
    c.has_scoring = true;
    sf.reject_unknown();
  }
  if (const json* th = f.get("threshold", false)) {
    Fields tf(*th, "threshold", source);
    c.threshold = parse_threshold(tf);
    tf.reject_unknown();
  }
  f.reject_unknown();
  return c;
}

RnnConfig make_rnn(CellType cell, int64_t input, int64_t hidden, int64_t layers, bool bidir, const char* prefix) {
  RnnConfig r;
  r.mode = cell;
  r.input_size = input;
  r.hidden_size = hidden;
  r.num_layers = layers;
  r.bidirectional = bidir;
  r.prefix = prefix;
  return r;
}

void add_linear(TensorShapes& out, const std::string& name, int64_t out_features, int64_t in_features, bool bias) {
  out.push_back({name + ".weight", {out_features, in_features}});
  if (bias) out.push_back({name + ".bias", {out_features}});
}

void append(TensorShapes& out, const TensorShapes& more) { out.insert(out.end(), more.begin(), more.end()); }

}  // namespace

const char* threshold_method_name(ThresholdMethod method) {
  switch (method) {
    case ThresholdMethod::Static: return "static";
    case ThresholdMethod::Ndt: return "ndt";
    case ThresholdMethod::Spot: return "spot";
    case ThresholdMethod::Dspot: return "dspot";
  }
  return "?";
}

const char* model_kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::Rnn: return "rnn";
    case ModelKind::Reconstruction: return "reconstruction";
    case ModelKind::Prediction: return "prediction";
    case ModelKind::Attention: return "attention";
  }
  return "?";
}

RnnConfig ReconstructionConfig::encoder() const {
  return make_rnn(cell, input_size, hidden_size, num_layers, bidirectional_encoder, "encoder.");
}
RnnConfig ReconstructionConfig::decoder() const {
  return make_rnn(cell, input_size, hidden_size, num_layers, false, "decoder.");
}
RnnConfig PredictionConfig::rnn() const { return make_rnn(cell, input_size, hidden_size, num_layers, false, "rnn."); }
RnnConfig AttentionConfig::encoder() const {
  return make_rnn(cell, input_size, hidden_size, num_layers, false, "encoder.");
}
RnnConfig AttentionConfig::decoder() const {
  return make_rnn(cell, input_size + hidden_size, hidden_size, num_layers, false, "decoder.");
}

int64_t ModelConfig::seq_len() const {
  switch (model_kind) {
    case ModelKind::Reconstruction: return reconstruction.seq_len;
    case ModelKind::Prediction: return prediction.seq_len;
    case ModelKind::Attention: return attention.seq_len;
    case ModelKind::Rnn: return 0;
  }
  return 0;
}

int64_t ModelConfig::input_size() const {
  switch (model_kind) {
    case ModelKind::Reconstruction: return reconstruction.input_size;
    case ModelKind::Prediction: return prediction.input_size;
    case ModelKind::Attention: return attention.input_size;
    case ModelKind::Rnn: return rnn.input_size;
  }
  return 0;
}

int64_t scoring_statistics_size(const ModelConfig& c) {
  if (!c.has_scoring) return 0;
  if (c.scoring.method == ScoringConfig::Method::Mahalanobis) return c.input_size();
  if (c.scoring.method == ScoringConfig::Method::LstmAd)
    return c.prediction.horizon * static_cast<int64_t>(c.prediction.targets.size());
  return 0;
}

TensorShapes expected_tensors(const ModelConfig& c) {
  TensorShapes t = expected_weight_tensors(c);
  if (const int64_t k = scoring_statistics_size(c)) {
    t.push_back({"scoring.mean", {k}});
    t.push_back({"scoring.precision", {k, k}});
  }
  return t;
}

TensorShapes expected_weight_tensors(const ModelConfig& c) {
  TensorShapes t;
  switch (c.model_kind) {
    case ModelKind::Rnn: return expected_rnn_tensors(c.rnn);
    case ModelKind::Reconstruction: {
      const auto& r = c.reconstruction;
      append(t, expected_rnn_tensors(r.encoder()));
      append(t, expected_rnn_tensors(r.decoder()));
      add_linear(t, "output", r.input_size, r.hidden_size, true);
      if (r.bidirectional_encoder) {
        add_linear(t, "bridge_h", r.hidden_size, 2 * r.hidden_size, true);
        if (r.cell == CellType::Lstm) add_linear(t, "bridge_c", r.hidden_size, 2 * r.hidden_size, true);
      }
      return t;
    }
    case ModelKind::Prediction: {
      const auto& p = c.prediction;
      append(t, expected_rnn_tensors(p.rnn()));
      add_linear(t, "head", p.prediction_size(), p.hidden_size, true);
      return t;
    }
    case ModelKind::Attention: {
      const auto& a = c.attention;
      append(t, expected_rnn_tensors(a.encoder()));
      append(t, expected_rnn_tensors(a.decoder()));
      add_linear(t, "attention.query", a.attention_size, a.hidden_size, false);
      add_linear(t, "attention.key", a.attention_size, a.hidden_size, true);
      add_linear(t, "attention.v", 1, a.attention_size, false);
      add_linear(t, "output", a.input_size, a.hidden_size, true);
      return t;
    }
  }
  return t;
}

const char* cell_type_name(CellType cell) {
  switch (cell) {
    case CellType::RnnTanh: return "RNN_TANH";
    case CellType::RnnRelu: return "RNN_RELU";
    case CellType::Lstm: return "LSTM";
    case CellType::Gru: return "GRU";
  }
  return "?";
}

int64_t RnnConfig::gate_size() const {
  switch (mode) {
    case CellType::Lstm: return 4 * hidden_size;
    case CellType::Gru: return 3 * hidden_size;
    default: return hidden_size;
  }
}

std::string RnnConfig::param_name(const char* base, int64_t layer, int64_t direction) const {
  return prefix + base + "_l" + std::to_string(layer) + (direction ? "_reverse" : "");
}

TensorShapes expected_rnn_tensors(const RnnConfig& c) {
  TensorShapes out;
  const int64_t g = c.gate_size();
  for (int64_t l = 0; l < c.num_layers; ++l) {
    for (int64_t d = 0; d < c.num_directions(); ++d) {
      out.push_back({c.param_name("weight_ih", l, d), {g, c.layer_input_size(l)}});
      out.push_back({c.param_name("weight_hh", l, d), {g, c.output_size()}});
      if (c.bias) {
        out.push_back({c.param_name("bias_ih", l, d), {g}});
        out.push_back({c.param_name("bias_hh", l, d), {g}});
      }
      if (c.proj_size > 0) out.push_back({c.param_name("weight_hr", l, d), {c.proj_size, c.hidden_size}});
    }
  }
  return out;
}

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path) {
  return from_container(SafetensorsFile::read(path));
}

std::shared_ptr<const Model> Model::parse(std::vector<unsigned char> bytes, std::string source) {
  return from_container(SafetensorsFile::parse(std::move(bytes), std::move(source)));
}

ModelConfig parse_model_config(const std::string& json_text, const std::string& source) {
  return parse_config(json_text, source);
}

std::string config_summary(const ModelConfig& c) {
  auto sizes = [](CellType cell, int64_t in, int64_t hidden, int64_t layers) {
    return std::string("cell ") + cell_type_name(cell) + ", input_size " + std::to_string(in) + ", hidden_size " +
           std::to_string(hidden) + ", num_layers " + std::to_string(layers);
  };
  std::string s = std::string("kind ") + model_kind_name(c.model_kind) + ", ";
  switch (c.model_kind) {
    case ModelKind::Rnn:
      return s + sizes(c.rnn.mode, c.rnn.input_size, c.rnn.hidden_size, c.rnn.num_layers) +
             (c.rnn.bidirectional ? ", bidirectional" : "") + ", proj_size " + std::to_string(c.rnn.proj_size) +
             (c.rnn.bias ? "" : ", no bias");
    case ModelKind::Reconstruction: {
      const auto& r = c.reconstruction;
      return s + sizes(r.cell, r.input_size, r.hidden_size, r.num_layers) +
             (r.bidirectional_encoder ? ", bidirectional encoder" : "") + ", decode " +
             (r.decode == ReconstructionConfig::Decode::Reverse ? "reverse" : "forward") + ", seq_len " +
             std::to_string(r.seq_len);
    }
    case ModelKind::Prediction: {
      const auto& p = c.prediction;
      return s + sizes(p.cell, p.input_size, p.hidden_size, p.num_layers) + ", horizon " + std::to_string(p.horizon) +
             ", " + std::to_string(p.targets.size()) + " targets, " +
             (p.output == PredictionConfig::Output::Gaussian ? "gaussian" : "point") + ", " +
             (p.state == PredictionConfig::State::Stateful ? "stateful" : "windowed, seq_len " + std::to_string(p.seq_len));
    }
    case ModelKind::Attention: {
      const auto& a = c.attention;
      return s + sizes(a.cell, a.input_size, a.hidden_size, a.num_layers) + ", attention_size " +
             std::to_string(a.attention_size) + ", seq_len " + std::to_string(a.seq_len);
    }
  }
  return s;
}

std::shared_ptr<const Model> Model::from_container(const SafetensorsFile& file) {
  const std::string& src = file.source();
  auto it = file.metadata().find("rnnad.config");
  if (it == file.metadata().end())
    throw FormatError(src + ": __metadata__ has no \"rnnad.config\" entry (not an rnnad model file; export it with "
                            "tools/python/rnnad_export.py)");
  std::shared_ptr<Model> m(new Model());
  m->m_source = src;
  m->m_config = parse_config(it->second, src);

  const auto expected = expected_tensors(m->m_config);
  std::set<std::string> expected_names;
  for (const auto& [name, shape] : expected) {
    expected_names.insert(name);
    const TensorEntry* e = file.find(name);
    if (!e) throw FormatError(src + ": missing tensor " + quote(name) + " (expected shape " + shape_string(shape) + ")");
    if (e->shape != shape)
      throw FormatError(src + ": tensor " + quote(name) + " has shape " + shape_string(e->shape) + ", the config (" +
                        config_summary(m->m_config) + ") requires " + shape_string(shape));
    const bool statistic = name.rfind("scoring.", 0) == 0;
    if (statistic && e->dtype != DType::F64)
      throw FormatError(src + ": tensor " + quote(name) + " is " + dtype_name(e->dtype) +
                        "; scoring statistics must be F64");
    if (!statistic && e->dtype == DType::F64)
      throw FormatError(src + ": tensor " + quote(name) + " is F64; weights must be F32, F16 or BF16");
  }
  for (const auto& e : file.tensors())
    if (!expected_names.count(e.name))
      throw FormatError(src + ": unexpected tensor " + quote(e.name) + " (not part of a " + m->m_config.kind + " model with this config)");
  for (const auto& [name, shape] : expected) {
    const TensorEntry* e = file.find(name);
    if (name == "scoring.mean") m->m_config.scoring.mean = file.to_f64(*e);
    else if (name == "scoring.precision") m->m_config.scoring.precision = file.to_f64(*e);
    else m->m_weights.emplace(name, Weight{shape, file.to_f32(*e), e->dtype});
  }
  return m;
}

const Weight& Model::weight(const std::string& name) const {
  auto it = m_weights.find(name);
  if (it == m_weights.end()) throw Error(m_source + ": model has no tensor \"" + name + "\"");
  return it->second;
}

int64_t Model::parameter_count() const {
  int64_t n = 0;
  for (const auto& [name, w] : m_weights) n += static_cast<int64_t>(w.values.size());
  return n;
}

}  // namespace rnnad
