// The CUDA backend end to end (issue 10): rnnad::Engine with Device::Cuda against PyTorch's
// golden references and against the Eigen reference kernel (Device::Cpu, CpuKernels::Reference)
// on fresh random inputs, with guard canaries around every host output; field case F20's size
// sweep; caller-supplied streams; device errors; bit-for-bit repeatability. Own main: without a
// usable device it prints one line and exits 77, which CTest reports as "Skipped"
// (tests/gpu/CMakeLists.txt).
#define CATCH_CONFIG_RUNNER
#include <cuda_runtime.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "cell_case.h"
#include "model_builder.h"
#include "rnnad/engine.h"
#include "rnnad/error.h"
#include "rnnad/half_bits.h"
#include "rnnad/scoring.h"
#include "rnnad/validate.h"

using namespace rnnad;
using rnnad::test::GuardedBuffer;

namespace {

std::filesystem::path env_dir(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::filesystem::path(v) : std::filesystem::path();
}

// Seed of this run's random inputs: fresh each run (never fixed), printed so a failure can be
// replayed with RNNAD_GPU_SEED.
std::uint32_t run_seed() {
  static const std::uint32_t seed = [] {
    const char* s = std::getenv("RNNAD_GPU_SEED");
    const std::uint32_t v = s ? static_cast<std::uint32_t>(std::strtoul(s, nullptr, 10)) : std::random_device{}();
    std::cout << "random inputs: RNNAD_GPU_SEED=" << v << "\n";
    return v;
  }();
  return seed;
}

std::vector<float> uniform(std::mt19937& rng, std::size_t n, float scale) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) {
    do x = d(rng);
    while (x == 0.0f);  // never zeros: a kernel that skips an element cannot pass by accident
  }
  return v;
}

// One forward of a kind-"rnn" model on a device; outputs in guarded host buffers.
struct ForwardResult {
  GuardedBuffer output, h_n, c_n;
};

ForwardResult run_forward(const std::shared_ptr<const Model>& model, Device device, int64_t T, int64_t B,
                          const std::vector<float>& x, const std::vector<float>& h0, const std::vector<float>& c0,
                          CUstream_st* stream = nullptr, CudaKernels kernels = CudaKernels::Auto) {
  const RnnConfig& c = model->config().rnn;
  const int64_t LD = c.num_layers * c.num_directions(), H = c.hidden_size;
  const bool lstm = c.mode == CellType::Lstm;
  EngineOptions o{device, 0, B, T};
  o.cuda_stream = stream;
  o.cuda_kernels = kernels;
  o.cpu_kernels = CpuKernels::Reference;  // the CPU side is the Eigen reference kernel
  Engine engine(model, o);
  ForwardResult r{GuardedBuffer(static_cast<std::size_t>(T * B * c.num_directions() * H), GuardedBuffer::canary()),
                  GuardedBuffer(static_cast<std::size_t>(LD * B * H), GuardedBuffer::canary()),
                  GuardedBuffer(lstm ? static_cast<std::size_t>(LD * B * H) : 0, GuardedBuffer::canary())};
  engine.forward({x.data(), {T, B, c.input_size}}, {h0.empty() ? nullptr : h0.data(), {LD, B, H}},
                 {c0.empty() ? nullptr : c0.data(), {LD, B, H}}, {r.output.data(), {T, B, c.num_directions() * H}},
                 {r.h_n.data(), {LD, B, H}}, {lstm ? r.c_n.data() : nullptr, {LD, B, H}});
  return r;
}

std::vector<float> payload(const GuardedBuffer& b) { return {b.data(), b.data() + b.size()}; }

// Weights as a model stored in F16 or BF16 holds them (each value rounded to that format).
enum class Weights16 { None, F16, BF16 };

// GPU vs Eigen for one configuration; every output within design.md §7, guards intact.
void check_against_cpu(const RnnConfig& cfg, int64_t T, int64_t B, std::uint32_t seed, float weight_scale,
                       float input_scale, bool with_state, CudaKernels kernels = CudaKernels::Auto,
                       Weights16 weights16 = Weights16::None) {
  std::mt19937 rng(seed);
  test::WeightMap weights = test::random_rnn_weights(cfg, seed, weight_scale);
  for (auto& [name, values] : weights)
    for (float& v : values)
      v = weights16 == Weights16::F16    ? f16_bits_to_float(float_to_f16_bits(v))
          : weights16 == Weights16::BF16 ? bf16_bits_to_float(float_to_bf16_bits(v))
                                         : v;
  auto model = test::make_rnn_model(cfg, weights);
  const int64_t LD = cfg.num_layers * cfg.num_directions(), H = cfg.hidden_size;
  const std::vector<float> x = uniform(rng, static_cast<std::size_t>(T * B * cfg.input_size), input_scale);
  std::vector<float> h0, c0;
  if (with_state) {
    h0 = uniform(rng, static_cast<std::size_t>(LD * B * H), 1.0f);
    if (cfg.mode == CellType::Lstm) c0 = uniform(rng, static_cast<std::size_t>(LD * B * H), 1.0f);
  }
  INFO(cell_type_name(cfg.mode) << " I=" << cfg.input_size << " H=" << H << " L=" << cfg.num_layers
                                << " bi=" << cfg.bidirectional << " T=" << T << " B=" << B << " seed=" << seed
                                << " kernels=" << static_cast<int>(kernels)
                                << " weights16=" << static_cast<int>(weights16));
  const ForwardResult ref = run_forward(model, Device::Cpu, T, B, x, h0, c0);
  const ForwardResult got = run_forward(model, Device::Cuda, T, B, x, h0, c0, nullptr, kernels);
  CHECK(got.output.guard_damage("output") == "");
  CHECK(got.h_n.guard_damage("h_n") == "");
  CHECK(got.c_n.guard_damage("c_n") == "");
  CHECK(test::compare(payload(got.output), payload(ref.output), "output") == "");
  CHECK(test::compare(payload(got.h_n), payload(ref.h_n), "h_n") == "");
  CHECK(test::compare(payload(got.c_n), payload(ref.c_n), "c_n") == "");
}

RnnConfig rnn(CellType cell, int64_t I, int64_t H, int64_t L = 1, bool bi = false) {
  RnnConfig c;
  c.mode = cell;
  c.input_size = I;
  c.hidden_size = H;
  c.num_layers = L;
  c.bidirectional = bi;
  return c;
}

}  // namespace

TEST_CASE("gpu engine: every golden file validates against PyTorch on the GPU", "[gpu][golden]") {
  const std::filesystem::path golden = env_dir("RNNAD_GOLDEN_DIR"), models = env_dir("RNNAD_MODELS_DIR");
  REQUIRE(!golden.empty());
  const std::string suffix = ".reference.safetensors";
  int passed = 0, unsupported = 0;
  double worst = 0.0;
  for (const auto& dir : {golden, golden / "models", golden / "scoring", models}) {
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      auto model = Model::load(dir / (name.substr(0, name.size() - suffix.size()) + ".safetensors"));
      INFO(entry.path().string());
      if (model->config().model_kind == ModelKind::Rnn && model->config().rnn.proj_size > 0) {
        CHECK_THROWS_WITH(validate(model, entry.path(), Device::Cuda), Catch::Contains("proj_size"));
        ++unsupported;
        continue;
      }
      const ValidationReport r = validate(model, entry.path(), Device::Cuda);
      INFO(r.summary());
      CHECK(r.passed);
      CHECK(r.device.rfind("cuda", 0) == 0);
      passed += r.passed ? 1 : 0;
      worst = std::max(worst, r.worst_ratio);
    }
  }
  std::cout << "golden on the GPU: " << passed << " passed, " << unsupported
            << " LSTM-with-projection cases refused (CPU only), worst " << 100.0 * worst << "% of tolerance\n";
  CHECK(passed >= 150);
}

TEST_CASE("gpu engine: random sweep against the Eigen path (odd sizes, batch 1 to 4096)", "[gpu][sweep]") {
  std::mt19937 pick(run_seed());
  int cases = 0;
  for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnTanh, CellType::RnnRelu})
    for (int64_t H : {1, 33, 80, 127})
      for (int64_t B : {1, 33, 513, 4096}) {
        const int64_t I = 1 + static_cast<int64_t>(pick() % 40), L = 1 + static_cast<int64_t>(pick() % 2);
        const bool bi = pick() % 2 == 1, state = pick() % 2 == 1;
        const int64_t T = B >= 4096 ? 1 + static_cast<int64_t>(pick() % 4) : 1 + static_cast<int64_t>(pick() % 24);
        // Weights in PyTorch's init range U(-1/sqrt(H), 1/sqrt(H)): well-conditioned, as trained
        // models are (a chaotic random RNN amplifies fp32 rounding past any fp32 tolerance).
        const float scale = 1.0f / std::sqrt(static_cast<float>(H));
        check_against_cpu(rnn(cell, I, H, L, bi), T, B, static_cast<std::uint32_t>(pick()), scale, 2.0f, state);
        ++cases;
      }
  std::cout << "random sweep: " << cases << " configurations\n";
}

TEST_CASE("gpu engine: every recurrence strategy matches the Eigen path", "[gpu][strategy]") {
  std::mt19937 pick(run_seed() + 1);
  for (CudaKernels k : {CudaKernels::Step, CudaKernels::Persistent, CudaKernels::Gemm})
    for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnTanh, CellType::RnnRelu})
      for (int64_t H : {1, 33, 80})
        for (int64_t B : {1, 9, 300}) {
          const float scale = 1.0f / std::sqrt(static_cast<float>(H));
          check_against_cpu(rnn(cell, 25, H, 2, pick() % 2 == 1), 1 + static_cast<int64_t>(pick() % 60), B,
                            static_cast<std::uint32_t>(pick()), scale, 2.0f, pick() % 2 == 1, k);
        }
  // Telemanom's shape (performance.md AD1): 2 x LSTM 80, T = 250, every strategy.
  for (CudaKernels k : {CudaKernels::Step, CudaKernels::Persistent, CudaKernels::Gemm})
    check_against_cpu(rnn(CellType::Lstm, 25, 80, 2), 250, 1, run_seed(), 1.0f / std::sqrt(80.0f), 2.0f, false, k);
  // Auto's GEMM strategy at a large batch (B x G >= kGemmMinElements), one step and many.
  check_against_cpu(rnn(CellType::Lstm, 25, 80, 2), 1, 4096, run_seed() + 5, 1.0f / std::sqrt(80.0f), 2.0f, true);
  check_against_cpu(rnn(CellType::Gru, 38, 64), 30, 2000, run_seed() + 6, 0.125f, 2.0f, false);
  // Beyond one SM: clusters of 2-8 blocks (LSTM 200 at B 9, LSTM 300 at B 2) and a grid-wide
  // group (GRU 500 at B 1: 16 blocks, cooperative launch), forced and as Auto picks them.
  for (CudaKernels k : {CudaKernels::Auto, CudaKernels::Persistent}) {
    check_against_cpu(rnn(CellType::Lstm, 25, 200), 20, 9, run_seed() + 2, 1.0f / std::sqrt(200.0f), 2.0f, true, k);
    check_against_cpu(rnn(CellType::Lstm, 25, 300), 20, 2, run_seed() + 3, 1.0f / std::sqrt(300.0f), 2.0f, true, k);
    check_against_cpu(rnn(CellType::Gru, 38, 500), 20, 1, run_seed() + 4, 1.0f / std::sqrt(500.0f), 2.0f, true, k);
  }
  // Weights exact in F16 / BF16 (field case F21): W_hh as 16-bit pairs in shared memory where
  // fp32 would need a larger group (LSTM 150 and GRU 180 in one block at batch 1, LSTM 400 in a
  // cluster of 8, LSTM 180 at 8 rows per block in a cluster of 2), forced and as Auto picks them.
  for (Weights16 w : {Weights16::F16, Weights16::BF16})
    for (CudaKernels k : {CudaKernels::Auto, CudaKernels::Persistent}) {
      check_against_cpu(rnn(CellType::Lstm, 25, 150), 30, 1, run_seed() + 7, 1.0f / std::sqrt(150.0f), 2.0f, true, k,
                        w);
      check_against_cpu(rnn(CellType::Gru, 38, 180, 2), 30, 1, run_seed() + 8, 1.0f / std::sqrt(180.0f), 2.0f, true, k,
                        w);
      check_against_cpu(rnn(CellType::Lstm, 25, 400), 20, 2, run_seed() + 9, 1.0f / std::sqrt(400.0f), 2.0f, true, k,
                        w);
      check_against_cpu(rnn(CellType::Lstm, 25, 180), 20, 300, run_seed() + 10, 1.0f / std::sqrt(180.0f), 2.0f, false,
                        k, w);
    }
  // No plan for 8 rows per block at H 500 (a batch of 1000): a clear error, not a failed launch.
  const RnnConfig big = rnn(CellType::Lstm, 3, 500);
  CHECK_THROWS_WITH(Engine(test::make_rnn_model(big, test::random_rnn_weights(big, 1, 0.05f)),
                           [] {
                             EngineOptions o{Device::Cuda, 0, 1000, 4};
                             o.cuda_kernels = CudaKernels::Persistent;
                             return o;
                           }()),
                    Catch::Contains("does not fit"));
}

TEST_CASE("gpu engine: stacked layers overlapped in chunks match the Eigen path", "[gpu][strategy]") {
  // Unidirectional stacks of 2 and 3 layers on the persistent kernel overlap their layers
  // (cuda::RnnStack::pipelines: layer l runs chunk c while layer l + 1 runs chunk c − 1, each on
  // its own stream), and with RNNAD_CUDA_PIPELINE=0 run one layer after the other: both against
  // the CPU, with initial states, as Auto and forced, T 100 (chunks of 10) and Telemanom's 250.
  std::mt19937 pick(run_seed() + 11);
  struct Unset {  // the variable is gone after the test, even when a check throws
    ~Unset() { unsetenv("RNNAD_CUDA_PIPELINE"); }
  } unset;
  for (const char* pipeline : {"1", "0"}) {
    REQUIRE(setenv("RNNAD_CUDA_PIPELINE", pipeline, 1) == 0);
    for (CellType cell : {CellType::Lstm, CellType::Gru})
      for (int64_t L : {2, 3})
        for (int64_t B : {1, 9})
          for (CudaKernels k : {CudaKernels::Auto, CudaKernels::Persistent}) {
            INFO("RNNAD_CUDA_PIPELINE=" << pipeline);
            check_against_cpu(rnn(cell, 25, 80, L), 100, B, static_cast<std::uint32_t>(pick()), 1.0f / std::sqrt(80.0f),
                              2.0f, true, k);
          }
    check_against_cpu(rnn(CellType::Lstm, 25, 80, 2), 250, 1, run_seed() + 12, 1.0f / std::sqrt(80.0f), 2.0f, false);
    // Clusters (LSTM 200: 4 blocks a layer) launched concurrently by two layers.
    check_against_cpu(rnn(CellType::Lstm, 25, 200, 2), 100, 1, run_seed() + 13, 1.0f / std::sqrt(200.0f), 2.0f, true);
  }
}

TEST_CASE("F20: CUDA sizes across batch and hidden-size boundaries match the CPU", "[gpu][field]") {
  const std::uint32_t seed = run_seed();
  for (CellType cell : {CellType::Lstm, CellType::Gru})
    for (int64_t B : {1, 31, 32, 33, 109, 110, 111, 127, 128, 129, 1000, 65535, 65536, 70000})
      for (int64_t H : {1, 7, 32, 33, 127, 257}) {
        if (B >= 1000 && H != 1 && H != 33) continue;  // the field case trims large batches
        check_against_cpu(rnn(cell, 3, H), 5, B, seed + static_cast<std::uint32_t>(B * 7 + H), 0.5f, 2.0f, false);
      }
}

TEST_CASE("gpu engine: windowed scoring of the bundled models equals the CPU", "[gpu][models]") {
  const std::filesystem::path models = env_dir("RNNAD_MODELS_DIR");
  REQUIRE(!models.empty());
  std::mt19937 rng(run_seed());
  for (const char* name : {"nab_machine_temp.safetensors", "smd_machine-1-7.safetensors"}) {
    INFO(name);
    auto model = Model::load(models / name);
    const ModelConfig& mc = model->config();
    const int64_t T = mc.seq_len(), I = mc.input_size(), rows = T + 300, B = 64;
    const std::vector<float> series = uniform(rng, static_cast<std::size_t>(rows * I), 1.0f);
    Engine cpu(model, {.device = Device::Cpu, .max_batch = B, .max_seq_len = T, .cpu_kernels = CpuKernels::Reference});
    Engine gpu(model, {Device::Cuda, 0, B, T});
    // Strides 1 and 7 gather on the device (the rows go up once), T + 2 on the host.
    for (const int64_t stride : {int64_t{1}, int64_t{7}, T + 2}) {
      INFO("stride " << stride);
      const int64_t windows = cpu.window_count(rows, stride);
      for (int64_t first = 0; first < windows; first += B) {
        const int64_t n = std::min(B, windows - first);
        const WindowOutputs a = cpu.run_windows(series.data(), rows, stride, first, n);
        const std::vector<float> ref =
            a.prediction.data
                ? std::vector<float>(a.prediction.data, a.prediction.data + n * mc.prediction.prediction_size())
                : std::vector<float>(a.reconstruction.data, a.reconstruction.data + T * n * I);
        const WindowOutputs b = gpu.run_windows(series.data(), rows, stride, first, n);
        const std::vector<float> got =
            b.prediction.data
                ? std::vector<float>(b.prediction.data, b.prediction.data + n * mc.prediction.prediction_size())
                : std::vector<float>(b.reconstruction.data, b.reconstruction.data + T * n * I);
        CHECK(test::compare(got, ref, "windows " + std::to_string(first)) == "");
      }
    }
  }
}

namespace {

// Device scoring (docs/scoring.md §8) against the host scoring of the same GPU outputs: the
// reconstructions or predictions are identical (same inputs, same batches) and the score kernels
// are built without contraction like engine/, so scores and contributions are equal bit for bit
// (gaussian_nll: within float64 rounding, as CUDA's exp is not glibc's); the output spread
// (merged in another order) within float64 rounding; a second device run repeats exactly.
void check_device_scoring(const std::shared_ptr<const Model>& model, int64_t rows, int64_t batch, std::mt19937& rng) {
  const int64_t I = model->config().input_size();
  const bool exact = model->config().scoring.method != ScoringConfig::Method::GaussianNll;
  const std::vector<float> series = uniform(rng, static_cast<std::size_t>(rows * I), 1.5f);
  Scorer device(model, batch, Device::Cuda), host(model, batch, Device::Cuda);
  host.set_device_scoring(false);
  REQUIRE(device.device_scoring());
  REQUIRE(!host.device_scoring());
  const SeriesScores a = device.score(series.data(), rows), b = host.score(series.data(), rows);
  const SeriesScores again = device.score(series.data(), rows);
  auto close = [](double x, double y) { return std::abs(x - y) <= 1e-12 * (1.0 + std::abs(y)); };
  auto same = [&](double x, double y) { return std::isnan(y) ? std::isnan(x) : exact ? x == y : close(x, y); };
  const int64_t F = device.features();
  int64_t scored = 0;
  for (int64_t r = 0; r < rows; ++r) {
    INFO("row " << r);
    REQUIRE(same(a.scores[static_cast<std::size_t>(r)], b.scores[static_cast<std::size_t>(r)]));
    scored += std::isnan(b.scores[static_cast<std::size_t>(r)]) ? 0 : 1;
    for (int64_t f = 0; f < F; ++f)
      REQUIRE(same(a.contributions[static_cast<std::size_t>(r * F + f)],
                   b.contributions[static_cast<std::size_t>(r * F + f)]));
  }
  CHECK(scored > 0);
  CHECK(std::memcmp(a.scores.data(), again.scores.data(), a.scores.size() * sizeof(double)) == 0);
  CHECK(std::memcmp(a.contributions.data(), again.contributions.data(), a.contributions.size() * sizeof(double)) == 0);
  const OutputSpread& sa = device.output_spread();
  const OutputSpread& sb = host.output_spread();
  CHECK(sa.windows == 2 * sb.windows);
  for (std::size_t f = 0; f < sa.output.size(); ++f) {
    CHECK(sa.output[f].count == 2 * sb.output[f].count);
    CHECK(close(sa.output[f].mean, sb.output[f].mean));
    CHECK(close(sa.input[f].stddev(), sb.input[f].stddev()));
  }
  CHECK(sa.echo.count == 2 * sb.echo.count);
  CHECK(close(sa.echo.mean, sb.echo.mean));
  CHECK(close(sa.step.stddev(), sb.step.stddev()));
}

std::shared_ptr<const Model> window_model(const std::string& kind, const std::string& cell, const std::string& scoring,
                                          std::uint32_t seed) {
  const std::string extra = kind == "attention" ? R"(, "attention_size": 8)" : R"(, "decode": "reverse")";
  const std::string config = R"({"format_version": 1, "kind": ")" + kind + R"(", "model": {"cell": ")" + cell +
                             R"(", "input_size": 5, "hidden_size": 16, "num_layers": 1, "seq_len": 12)" + extra +
                             R"(}, "scoring": )" + scoring + "}";
  return Model::parse(test::build_model(config, test::random_model_weights(config, seed, 0.4f)), kind + "-" + cell);
}

}  // namespace

TEST_CASE("gpu engine: scores computed on the device equal host scoring", "[gpu][scoring]") {
  std::mt19937 rng(run_seed());
  const std::filesystem::path models = env_dir("RNNAD_MODELS_DIR");
  REQUIRE(!models.empty());
  SECTION("SMD model: mahalanobis, mean pooling, stride 1, 64 windows a batch") {
    auto smd = Model::load(models / "smd_machine-1-7.safetensors");
    check_device_scoring(smd, smd->config().seq_len() + 300, 64, rng);
  }
  SECTION("every method and pooling, strides 1 to seq_len") {
    check_device_scoring(
        window_model("reconstruction", "LSTM", R"({"method": "absolute", "pooling": "max", "stride": 5})", 1), 200, 4,
        rng);
    check_device_scoring(
        window_model("reconstruction", "GRU", R"({"method": "squared", "pooling": "last", "stride": 12})", 2), 200, 3,
        rng);
    check_device_scoring(
        window_model("reconstruction", "GRU", R"({"method": "absolute", "pooling": "mean", "stride": 1})", 3), 97, 7,
        rng);
    check_device_scoring(
        window_model("attention", "LSTM", R"({"method": "squared", "pooling": "mean", "stride": 2})", 4), 150, 16, rng);
  }
  SECTION("windowed forecasters: absolute, squared, gaussian_nll, lstm_ad (history across batches)") {
    const std::filesystem::path golden = env_dir("RNNAD_GOLDEN_DIR");
    REQUIRE(!golden.empty());
    check_device_scoring(Model::load(models / "nab_machine_temp.safetensors"), 500, 64, rng);
    for (const char* name : {"predw_absolute_s2", "predw_squared", "predw_gauss_nll", "predw_lstm_ad"})
      for (int64_t batch : {1, 5, 64}) {
        INFO(name << " batch " << batch);
        auto model = Model::load(golden / "scoring" / (std::string(name) + ".safetensors"));
        check_device_scoring(model, model->config().seq_len() + 90, batch, rng);
      }
  }
  SECTION("stride above seq_len and stateful forecasters are scored on the host") {
    CHECK(!Scorer(window_model("reconstruction", "LSTM", R"({"method": "absolute", "stride": 13})", 5), 4, Device::Cuda)
               .device_scoring());
    const std::filesystem::path golden = env_dir("RNNAD_GOLDEN_DIR");
    REQUIRE(!golden.empty());
    CHECK(!Scorer(Model::load(golden / "scoring" / "preds_gauss_nll.safetensors"), 64, Device::Cuda).device_scoring());
  }
}

TEST_CASE("gpu engine: a non-finite reconstruction scored on the device names its row", "[gpu][scoring]") {
  const std::string config =
      R"({"format_version": 1, "kind": "reconstruction", "model": {"cell": "LSTM", "input_size": 1,
                                 "hidden_size": 4, "num_layers": 1, "decode": "forward", "seq_len": 3},
                                 "scoring": {"method": "absolute"}})";
  test::WeightMap w;
  w["output.weight"] = std::vector<float>(4, 3e38f);
  w["encoder.weight_ih_l0"] = std::vector<float>(16, 1.0f);
  w["decoder.bias_ih_l0"] = std::vector<float>(16, 1.0f);
  auto model = Model::parse(test::build_model(config, w), "overflow-model");
  const double raw[] = {1, 2, 3, 4};
  Scorer device(model, 2, Device::Cuda), host(model, 2, Device::Cuda);
  host.set_device_scoring(false);
  std::string dev_msg, host_msg;
  try {
    device.score(raw, 4);
  } catch (const Error& e) {
    dev_msg = e.what();
  }
  try {
    host.score(raw, 4);
  } catch (const Error& e) {
    host_msg = e.what();
  }
  CHECK(dev_msg.find("overflow-model: the model's output for row") != std::string::npos);
  CHECK(dev_msg == host_msg);
}

TEST_CASE("gpu engine: a caller-supplied stream is used and left alive; results repeat bit for bit", "[gpu]") {
  cudaStream_t stream = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess);
  const RnnConfig cfg = rnn(CellType::Lstm, 25, 80, 2);
  auto model = test::make_rnn_model(cfg, test::random_rnn_weights(cfg, 11, 0.3f));
  std::mt19937 rng(run_seed());
  const std::vector<float> x = uniform(rng, 250 * 3 * 25, 2.0f);
  const ForwardResult a = run_forward(model, Device::Cuda, 250, 3, x, {}, {}, stream);
  const ForwardResult b = run_forward(model, Device::Cuda, 250, 3, x, {}, {}, stream);
  const ForwardResult ref = run_forward(model, Device::Cpu, 250, 3, x, {}, {});
  CHECK(test::compare(payload(a.output), payload(ref.output), "output") == "");
  CHECK(std::memcmp(a.output.data(), b.output.data(), a.output.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(a.c_n.data(), b.c_n.data(), a.c_n.size() * sizeof(float)) == 0);
  CHECK(cudaStreamQuery(stream) == cudaSuccess);  // still a valid stream after both engines are gone
  CHECK(cudaStreamDestroy(stream) == cudaSuccess);
}

TEST_CASE("gpu engine: device errors and the automatic choice are explicit", "[gpu]") {
  RnnConfig proj = rnn(CellType::Lstm, 3, 8);
  proj.proj_size = 4;
  auto pmodel = test::make_rnn_model(proj, test::random_rnn_weights(proj, 3, 0.5f));
  CHECK_THROWS_WITH(Engine(pmodel, {Device::Cuda, 0, 1, 4}), Catch::Contains("proj_size"));
  Engine fallback(pmodel, {Device::Auto, 0, 1, 4});
  CHECK(fallback.device() == Device::Cpu);
  CHECK_THROWS_AS(Engine(pmodel, {Device::Cuda, 0, 1, 4}), UnsupportedError);
  CHECK_THROWS_WITH(Engine(pmodel, {Device::Cuda, 99, 1, 4}), Catch::Contains("cuda:99"));
  CHECK(fallback.notice().find("proj_size") != std::string::npos);

  const RnnConfig cfg = rnn(CellType::Gru, 3, 8);
  Engine automatic(test::make_rnn_model(cfg, test::random_rnn_weights(cfg, 3, 0.5f)), {Device::Auto, 0, 1, 4});
  CHECK(automatic.device() == Device::Cuda);
  CHECK(automatic.backend_name().rfind("cuda (", 0) == 0);
  CHECK(automatic.notice().find("running on cuda") != std::string::npos);
}

int main(int argc, char** argv) {
  if (cuda_device_count() == 0) {
    std::printf(
        "SKIP: no usable CUDA device (cudaGetDeviceCount reported none or an error, e.g. no driver): "
        "GPU engine tests not run\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
