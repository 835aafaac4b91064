// Model file loading: rnnad.config parsing and validation of every tensor against it
// (docs/model_format.md §2-§3).
#include "rnnad/model.h"

#include <optional>
#include <set>

#include "json_strict.h"
#include "rnnad/error.h"

namespace rnnad {

namespace {

constexpr int64_t kMaxFeatureSize = int64_t{1} << 20;  // input_size, hidden_size, proj_size
constexpr int64_t kMaxLayers = 1024;

using nlohmann::json;

// Reads the fields of one JSON object with exact types, names the field in every error, and
// rejects fields it was not asked about.
class Fields {
 public:
  Fields(const json& obj, std::string where, std::string source)
      : m_obj(obj), m_where(std::move(where)), m_source(std::move(source)) {
    if (!m_obj.is_object()) throw error(m_where, "must be a JSON object");
  }
  FormatError error(const std::string& field, const std::string& msg) const {
    return FormatError(m_source + ": config field \"" + field + "\" " + msg);
  }
  std::string path(const char* key) const { return m_where.empty() ? key : m_where + "." + key; }
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
  else throw f.error("rnn.mode", "= \"" + mode + "\" is not one of LSTM, GRU, RNN_TANH, RNN_RELU");
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

ModelConfig parse_config(const std::string& text, const std::string& source) {
  const json j = detail::parse_json_strict(text, source, "__metadata__[\"rnnad.config\"]");
  Fields f(j, "", source);
  ModelConfig c;
  // The version is checked first so that a newer file gets the "newer version" message rather
  // than a complaint about a field this reader does not know.
  c.format_version = static_cast<int>(f.integer("format_version", 1, 1'000'000));
  if (c.format_version > kModelFormatVersion)
    throw UnsupportedError(source + ": model format version " + std::to_string(c.format_version) +
                           " is newer than this rnnad reads (" + std::to_string(kModelFormatVersion) +
                           "); upgrade rnnad or re-export with a matching tools/python/rnnad_export.py");
  c.kind = f.string("kind");
  if (c.kind != "rnn")
    throw UnsupportedError(source + ": config field \"kind\" = \"" + c.kind + "\" is not a model kind this rnnad knows (rnn)");
  c.producer = f.string("producer", std::string());
  c.rnn = parse_rnn(*f.get("rnn", true), source);
  f.reject_unknown();
  return c;
}

}  // namespace

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

std::vector<std::pair<std::string, std::vector<int64_t>>> expected_rnn_tensors(const RnnConfig& c) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
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

std::shared_ptr<const Model> Model::from_container(const SafetensorsFile& file) {
  const std::string& src = file.source();
  auto it = file.metadata().find("rnnad.config");
  if (it == file.metadata().end())
    throw FormatError(src + ": __metadata__ has no \"rnnad.config\" entry (not an rnnad model file; export it with "
                            "tools/python/rnnad_export.py)");
  std::shared_ptr<Model> m(new Model());
  m->m_source = src;
  m->m_config = parse_config(it->second, src);

  const auto expected = expected_rnn_tensors(m->m_config.rnn);
  std::set<std::string> expected_names;
  for (const auto& [name, shape] : expected) {
    expected_names.insert(name);
    const TensorEntry* e = file.find(name);
    if (!e) throw FormatError(src + ": missing tensor \"" + name + "\" (expected shape " + shape_string(shape) + ")");
    if (e->shape != shape)
      throw FormatError(src + ": tensor \"" + name + "\" has shape " + shape_string(e->shape) + ", the config (mode " +
                        cell_type_name(m->m_config.rnn.mode) + ", input_size " + std::to_string(m->m_config.rnn.input_size) +
                        ", hidden_size " + std::to_string(m->m_config.rnn.hidden_size) + ", proj_size " +
                        std::to_string(m->m_config.rnn.proj_size) + ") requires " + shape_string(shape));
    if (e->dtype == DType::F64)
      throw FormatError(src + ": tensor \"" + name + "\" is F64; weights must be F32, F16 or BF16");
  }
  for (const auto& e : file.tensors())
    if (!expected_names.count(e.name))
      throw FormatError(src + ": unexpected tensor \"" + e.name + "\" (not part of the configured " +
                        cell_type_name(m->m_config.rnn.mode) + " module)");
  for (const auto& [name, shape] : expected) {
    const TensorEntry* e = file.find(name);
    m->m_weights.emplace(name, Weight{shape, file.to_f32(*e), e->dtype});
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
