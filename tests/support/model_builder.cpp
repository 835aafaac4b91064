#include "model_builder.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace rnnad::test {

namespace {
template <typename T>
RawTensor make_tensor(const std::string& name, const char* dtype, std::vector<int64_t> shape, const std::vector<T>& v) {
  RawTensor t{name, dtype, std::move(shape), std::vector<unsigned char>(v.size() * sizeof(T))};
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());  // x86: little-endian
  return t;
}
}  // namespace

RawTensor f32_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
  return make_tensor(name, "F32", std::move(shape), values);
}

RawTensor f64_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<double>& values) {
  return make_tensor(name, "F64", std::move(shape), values);
}

std::vector<unsigned char> build_safetensors(const std::vector<RawTensor>& tensors,
                                             const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::size_t total = 8 + text.size();
  for (const auto& t : tensors) total += t.bytes.size();
  std::vector<unsigned char> out(total);
  const std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<unsigned char>(n >> (8 * i));
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::size_t pos = 8 + text.size();
  for (const auto& t : tensors) {
    if (!t.bytes.empty()) std::memcpy(out.data() + pos, t.bytes.data(), t.bytes.size());
    pos += t.bytes.size();
  }
  return out;
}

std::string rnn_config_json(const RnnConfig& c) {
  nlohmann::ordered_json rnn = {{"mode", cell_type_name(c.mode)},   {"input_size", c.input_size},
                                {"hidden_size", c.hidden_size},     {"num_layers", c.num_layers},
                                {"bidirectional", c.bidirectional}, {"bias", c.bias},
                                {"proj_size", c.proj_size},         {"prefix", c.prefix}};
  nlohmann::ordered_json j = {{"format_version", 1}, {"kind", "rnn"}, {"producer", "tests/support"}, {"rnn", rnn}};
  return j.dump();
}

namespace {

/// Uniform(-scale, scale) values for every tensor of `shapes`, drawn in order.
WeightMap random_weights(const TensorShapes& shapes, std::uint32_t seed, float scale) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  WeightMap w;
  for (const auto& [name, shape] : shapes) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    auto& v = w[name];
    v.resize(n);
    for (auto& x : v) x = dist(gen);
  }
  return w;
}

}  // namespace

WeightMap random_rnn_weights(const RnnConfig& config, std::uint32_t seed, float scale) {
  return random_weights(expected_rnn_tensors(config), seed, scale);
}

WeightMap random_model_weights(const std::string& config_json, std::uint32_t seed, float scale) {
  return random_weights(expected_weight_tensors(parse_model_config(config_json, "test-config")), seed, scale);
}

std::vector<unsigned char> build_rnn_model(const RnnConfig& config, const WeightMap& weights) {
  std::vector<RawTensor> tensors;
  for (const auto& [name, shape] : expected_rnn_tensors(config)) tensors.push_back(f32_tensor(name, shape, weights.at(name)));
  return build_safetensors(tensors, {{"rnnad.config", rnn_config_json(config)}});
}

std::vector<unsigned char> build_model(const std::string& config_json, const WeightMap& weights,
                                       const std::map<std::string, std::vector<double>>& statistics, float fill) {
  const ModelConfig config = parse_model_config(config_json, "test-config");
  std::vector<RawTensor> tensors;
  for (const auto& [name, shape] : expected_tensors(config)) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    if (auto it = statistics.find(name); it != statistics.end()) {
      tensors.push_back(f64_tensor(name, shape, it->second));
    } else if (auto w = weights.find(name); w != weights.end()) {
      tensors.push_back(f32_tensor(name, shape, w->second));
    } else {
      tensors.push_back(f32_tensor(name, shape, std::vector<float>(n, fill)));
    }
  }
  return build_safetensors(tensors, {{"rnnad.config", config_json}});
}

std::vector<unsigned char> constant_model_file(const std::vector<float>& bias, const std::string& extras,
                                               const std::map<std::string, std::vector<double>>& statistics) {
  const std::string features = std::to_string(bias.size());
  const std::string config = R"({"format_version": 1, "kind": "reconstruction", "model": {"cell": "LSTM", "input_size": )" +
                             features + R"(, "hidden_size": 4, "num_layers": 1, "decode": "reverse", "seq_len": 5})" +
                             extras + "}";
  WeightMap w;
  w["output.bias"] = bias;
  w["encoder.weight_ih_l0"] = std::vector<float>(16 * bias.size(), 0.3f);  // non-zero: the state moves
  return build_model(config, w, statistics);
}

std::shared_ptr<const Model> constant_model(const std::vector<float>& bias, const std::string& extras,
                                            const std::map<std::string, std::vector<double>>& statistics) {
  return Model::parse(constant_model_file(bias, extras, statistics), "constant-model");
}

std::shared_ptr<const Model> make_rnn_model(const RnnConfig& config, const WeightMap& weights,
                                            const std::string& source) {
  return Model::parse(build_rnn_model(config, weights), source);
}

}  // namespace rnnad::test
