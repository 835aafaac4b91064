// Model file loading: valid files load with the right config, each rule of
// docs/model_format.md rejects with a message naming the file and the tensor or field.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model_builder.h"
#include "rnnad/error.h"
#include "rnnad/half_bits.h"
#include "rnnad/model.h"

using namespace rnnad;
using Catch::Matchers::Contains;

namespace {

RnnConfig lstm_config() {
  RnnConfig c;
  c.mode = CellType::Lstm;
  c.input_size = 3;
  c.hidden_size = 4;
  c.num_layers = 2;
  c.bidirectional = true;
  c.proj_size = 2;
  c.prefix = "encoder.";
  return c;
}

// Rebuilds a model after editing its tensors or its config JSON.
std::vector<unsigned char> rebuild(std::vector<test::RawTensor> tensors, const nlohmann::json& config) {
  return test::build_safetensors(tensors, {{"rnnad.config", config.dump()}});
}

std::vector<test::RawTensor> tensors_of(const RnnConfig& c, const test::WeightMap& w) {
  std::vector<test::RawTensor> t;
  for (const auto& [name, shape] : expected_rnn_tensors(c)) t.push_back(test::f32_tensor(name, shape, w.at(name)));
  return t;
}

void require_format_error(const std::vector<unsigned char>& bytes, const std::string& fragment) {
  try {
    Model::parse(bytes, "model.safetensors");
    FAIL("no error; expected one containing: " << fragment);
  } catch (const Error& e) {
    INFO(e.what());
    CHECK_THAT(e.what(), Contains("model.safetensors") && Contains(fragment));
  }
}

}  // namespace

TEST_CASE("a valid model loads with its config and weights", "[model]") {
  const auto c = lstm_config();
  const auto w = test::random_rnn_weights(c, 1, 0.5f);
  auto m = test::make_rnn_model(c, w);
  CHECK(m->config().kind == "rnn");
  CHECK(m->config().rnn.proj_size == 2);
  CHECK(m->weight("encoder.weight_hh_l1_reverse").shape == std::vector<int64_t>{16, 2});
  CHECK(m->weight("encoder.weight_ih_l1").shape == std::vector<int64_t>{16, 4});
  CHECK(m->weight("encoder.weight_hr_l0").values == w.at("encoder.weight_hr_l0"));
  CHECK(m->parameter_count() == 2 * (16 * 3 + 16 * 2 + 32 + 8) + 2 * (16 * 4 + 16 * 2 + 32 + 8));
}

TEST_CASE("a model loads from disk and a missing file is an IoError", "[model]") {
  const auto c = lstm_config();
  const auto bytes = test::build_rnn_model(c, test::random_rnn_weights(c, 2, 0.5f));
  const auto path = std::filesystem::temp_directory_path() / "rnnad_test_model_file.safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  CHECK(Model::load(path)->config().rnn.hidden_size == 4);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(Model::load(path), IoError);
  // A directory (or a pipe, a device) is refused before anything is read or allocated.
  CHECK_THROWS_WITH(Model::load(std::filesystem::temp_directory_path()),
                    Contains("not a regular file (a directory, device or pipe)"));
}

TEST_CASE("F16 and BF16 weights are upcast exactly", "[model]") {
  RnnConfig c;
  c.mode = CellType::RnnTanh;
  c.input_size = 1;
  c.hidden_size = 2;
  c.bias = false;
  // weight_ih [2, 1] as F16: 1.0 (0x3C00), smallest subnormal 2^-24 (0x0001);
  // weight_hh [2, 2] as BF16: 1.0 (0x3F80), -2.0 (0xC000), 0.5 (0x3F00), 0.
  test::RawTensor ih{"weight_ih_l0", "F16", {2, 1}, {0x00, 0x3C, 0x01, 0x00}};
  test::RawTensor hh{"weight_hh_l0", "BF16", {2, 2}, {0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3F, 0x00, 0x00}};
  auto m = Model::parse(test::build_safetensors({ih, hh}, {{"rnnad.config", test::rnn_config_json(c)}}), "half");
  CHECK(m->weight("weight_ih_l0").values == std::vector<float>{1.0f, std::ldexp(1.0f, -24)});
  CHECK(m->weight("weight_hh_l0").values == std::vector<float>{1.0f, -2.0f, 0.5f, 0.0f});
  CHECK(m->weight("weight_hh_l0").stored_dtype == DType::BF16);
  // F16 infinity (0x7C00) is rejected like any non-finite weight.
  test::RawTensor inf{"weight_ih_l0", "F16", {2, 1}, {0x00, 0x7C, 0x00, 0x3C}};
  require_format_error(test::build_safetensors({inf, hh}, {{"rnnad.config", test::rnn_config_json(c)}}),
                       "tensor \"weight_ih_l0\" has a non-finite value at flat index 0");
}

TEST_CASE("16-bit conversions: widening exact, narrowing to nearest with ties to even", "[model][half]") {
  // Hand-computed values (IEEE 754 binary16: 1 + 10 mantissa bits, bias 15; bfloat16: 1 + 7).
  CHECK(f16_bits_to_float(0x3C00) == 1.0f);
  CHECK(f16_bits_to_float(0x7BFF) == 65504.0f);
  CHECK(f16_bits_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_bits_to_float(0x03FF) == std::ldexp(1023.0f, -24));
  CHECK(f16_bits_to_float(0xC000) == -2.0f);
  CHECK(bf16_bits_to_float(0x3F80) == 1.0f);
  CHECK(bf16_bits_to_float(0xC040) == -3.0f);
  CHECK(float_to_f16_bits(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);      // tie: to even (down)
  CHECK(float_to_f16_bits(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);  // tie: to even (up)
  CHECK(float_to_f16_bits(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)) == 0x3C01);
  CHECK(float_to_f16_bits(65519.0f) == 0x7BFF);
  CHECK(float_to_f16_bits(65520.0f) == 0x7C00);  // the tie above the largest finite goes to infinity
  CHECK(float_to_f16_bits(-1e9f) == 0xFC00);
  CHECK(float_to_f16_bits(std::ldexp(1.0f, -25)) == 0x0000);     // tie between 0 and 2^-24: 0
  CHECK(float_to_f16_bits(std::ldexp(3.0f, -25)) == 0x0002);     // tie between 1 and 2 units: 2
  CHECK(float_to_f16_bits(std::ldexp(2047.0f, -25)) == 0x0400);  // rounds up into the normals
  CHECK(float_to_f16_bits(-0.0f) == 0x8000);
  CHECK((float_to_f16_bits(std::nanf("")) & 0x7E00) == 0x7E00);
  CHECK(float_to_bf16_bits(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);      // tie: to even (down)
  CHECK(float_to_bf16_bits(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82);  // tie: to even (up)
  CHECK(float_to_bf16_bits(-3.0f) == 0xC040);
  // Every finite binary16 survives the round trip; each midpoint between neighbours rounds to the
  // even one, and anything just past it to the far neighbour.
  int bad = 0;
  for (unsigned b = 0; b < 0x7C00; ++b) {
    const auto h = static_cast<std::uint16_t>(b);
    const float v = f16_bits_to_float(h);
    bad += float_to_f16_bits(v) != h || float_to_f16_bits(-v) != (h | 0x8000u) || !exact_in_f16(v);
    if (b + 1 < 0x7C00) {
      const float next = f16_bits_to_float(static_cast<std::uint16_t>(b + 1));
      const float mid = v + (next - v) / 2;  // exact in float
      bad += float_to_f16_bits(mid) != ((b % 2 == 0) ? b : b + 1);
      bad += float_to_f16_bits(std::nextafter(mid, 1e9f)) != b + 1;
      bad += float_to_f16_bits(std::nextafter(mid, 0.0f)) != b;
      bad += exact_in_f16(mid);
    }
  }
  CHECK(bad == 0);
  CHECK(exact_in_bf16(-3.0f));
  CHECK_FALSE(exact_in_bf16(1.0f + std::ldexp(1.0f, -9)));
  CHECK_FALSE(exact_in_f16(0.1f));
}

TEST_CASE("tensor rules name the tensor", "[model]") {
  const auto c = lstm_config();
  const auto w = test::random_rnn_weights(c, 3, 0.5f);
  const auto config = nlohmann::json::parse(test::rnn_config_json(c));
  auto t = tensors_of(c, w);

  SECTION("missing tensor") {
    auto missing = t;
    missing.erase(missing.begin() + 1);
    require_format_error(rebuild(missing, config), "missing tensor \"" + t[1].name + "\"");
  }
  SECTION("unexpected tensor") {
    auto extra = t;
    extra.push_back(test::f32_tensor("decoder.weight", {1}, {0.0f}));
    require_format_error(rebuild(extra, config), "unexpected tensor \"decoder.weight\"");
  }
  SECTION("shape mismatch gives both shapes") {
    auto bad = t;
    bad[0] = test::f32_tensor(t[0].name, {16, 4}, std::vector<float>(64, 0.0f));
    require_format_error(rebuild(bad, config), "tensor \"" + t[0].name + "\" has shape [16, 4]");
  }
  SECTION("F64 weights") {
    auto bad = t;
    bad[2] = test::f64_tensor(t[2].name, t[2].shape, std::vector<double>(16, 0.0));
    require_format_error(rebuild(bad, config), "tensor \"" + t[2].name + "\" is F64");
  }
  SECTION("unsupported dtype") {
    auto bad = t;
    bad[2].dtype = "I32";
    require_format_error(rebuild(bad, config), "unsupported dtype I32");
  }
  SECTION("NaN weight") {
    auto bad = t;
    const float nan = NAN;
    std::memcpy(bad[3].bytes.data() + 8, &nan, 4);
    require_format_error(rebuild(bad, config), "tensor \"" + t[3].name + "\" has a non-finite value at flat index 2");
  }
}

TEST_CASE("config rules name the field", "[model]") {
  const auto c = lstm_config();
  const auto t = tensors_of(c, test::random_rnn_weights(c, 4, 0.5f));
  auto config = nlohmann::json::parse(test::rnn_config_json(c));

  SECTION("newer format version") {
    config["format_version"] = 2;
    CHECK_THROWS_AS(Model::parse(rebuild(t, config), "m"), UnsupportedError);
  }
  SECTION("unknown kind") {
    config["kind"] = "transformer";
    CHECK_THROWS_AS(Model::parse(rebuild(t, config), "m"), UnsupportedError);
  }
  SECTION("unknown field") {
    config["rnn"]["dropout"] = 0.1;
    require_format_error(rebuild(t, config), "config field \"rnn.dropout\" is not part of format version 1");
  }
  SECTION("wrong type") {
    config["rnn"]["hidden_size"] = "4";
    require_format_error(rebuild(t, config), "config field \"rnn.hidden_size\" must be an integer");
  }
  SECTION("out of range") {
    config["rnn"]["num_layers"] = 0;
    require_format_error(rebuild(t, config), "config field \"rnn.num_layers\" = 0 is outside [1, 1024]");
  }
  SECTION("proj_size on a GRU") {
    config["rnn"]["mode"] = "GRU";
    require_format_error(rebuild(t, config), "config field \"rnn.proj_size\" = 2 is only valid for mode LSTM");
  }
  SECTION("no rnnad.config") {
    require_format_error(test::build_safetensors(t, {{"format", "pt"}}), "no \"rnnad.config\"");
  }
  SECTION("config is not JSON") {
    require_format_error(test::build_safetensors(t, {{"rnnad.config", "{\"format_version\": 1,"}}), "is not valid JSON");
  }
}

TEST_CASE("container rules", "[model][safetensors]") {
  const auto c = lstm_config();
  const auto good = test::build_rnn_model(c, test::random_rnn_weights(c, 5, 0.5f));
  SECTION("short file") { require_format_error({1, 2, 3}, "shorter than the 8-byte header length"); }
  SECTION("huge header length") {
    auto bad = good;
    for (int i = 0; i < 8; ++i) bad[i] = 0xff;
    require_format_error(bad, "exceeds the limit");
  }
  SECTION("header past the end") {
    auto bad = good;
    bad.resize(100);
    require_format_error(bad, "runs past the end");
  }
  SECTION("trailing bytes") {
    auto bad = good;
    bad.push_back(0);
    require_format_error(bad, "trailing bytes");
  }
  SECTION("truncated data") {
    auto bad = good;
    bad.pop_back();
    require_format_error(bad, "past the");
  }
  SECTION("duplicate key") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    std::vector<unsigned char> bad(8);
    bad[0] = static_cast<unsigned char>(header.size());
    bad.insert(bad.end(), header.begin(), header.end());
    bad.insert(bad.end(), 4, 0);
    require_format_error(bad, "duplicate key \"a\"");
  }
  SECTION("overlapping tensors") {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
    std::vector<unsigned char> bad(8);
    bad[0] = static_cast<unsigned char>(header.size());
    bad.insert(bad.end(), header.begin(), header.end());
    bad.insert(bad.end(), 8, 0);
    require_format_error(bad, "overlaps the previous tensor");
  }
}
