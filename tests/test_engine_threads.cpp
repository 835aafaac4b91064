// Threads and determinism (docs/architecture.md, "Threads and determinism"): an engine that
// splits its batch over threads still matches PyTorch on every golden model, repeats bit for bit,
// allocates nothing per call; one Model serves many engines on many threads; the Scorer's scores
// are bit-identical run to run at a given thread count. Labelled tsan too: the same test runs
// under ThreadSanitizer in CI.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "alloc_counter.h"
#include "model_builder.h"
#include "rnnad/engine.h"
#include "rnnad/error.h"
#include "rnnad/safetensors.h"
#include "rnnad/scoring.h"
#include "rnnad/tolerance.h"
#include "rnnad/validate.h"

using namespace rnnad;
namespace fs = std::filesystem;

namespace {

std::string env_dir(const char* name) {
  const char* d = std::getenv(name);
  REQUIRE(d != nullptr);
  return d;
}

// A golden case: a model and its PyTorch reference, the batch (middle) dimension tiled k times so
// that a call is large enough to be split.
struct Tiled {
  std::shared_ptr<const Model> model;
  int64_t T = 0, B = 0;  // B = reference batch × k
  std::vector<float> x, h0, c0;
  struct Output {
    std::string name;
    std::array<int64_t, 3> shape;  // tiled
    std::vector<double> want;
  };
  std::vector<Output> outputs;
};

// [d0, b, d2] -> [d0, b*k, d2], column j of the result = column j % b of the input.
template <class V>
std::vector<V> tile(const std::vector<V>& v, const std::vector<int64_t>& shape, int64_t k) {
  const int64_t d0 = shape[0], b = shape[1], d2 = shape[2];
  std::vector<V> out(static_cast<std::size_t>(d0 * b * k * d2));
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < b * k; ++j)
      for (int64_t e = 0; e < d2; ++e) out[static_cast<std::size_t>((i * b * k + j) * d2 + e)] = v[static_cast<std::size_t>((i * b + j % b) * d2 + e)];
  return out;
}

int64_t parameter_count(const Model& m) {
  int64_t n = 0;
  for (const auto& [name, w] : m.weights()) {
    int64_t e = 1;
    for (int64_t d : w.shape) e *= d;
    n += e;
  }
  return n;
}

// Tiles so that T × B × parameters >= 2^21 multiply-adds: twice the engine's split threshold
// (models/parallel_runner.h, kMinParallelMacs); the test asserts the split happened.
Tiled load_tiled(const fs::path& model_path) {
  Tiled t;
  t.model = Model::load(model_path);
  const SafetensorsFile ref = SafetensorsFile::read(default_reference_path(model_path));
  const TensorEntry* in = ref.find("input");
  REQUIRE(in != nullptr);
  t.T = in->shape[0];
  const int64_t b = in->shape[1];
  const int64_t work = t.T * b * parameter_count(*t.model);
  const int64_t k = std::max<int64_t>(3, ((int64_t{1} << 21) + work - 1) / work);
  t.B = b * k;
  t.x = tile(ref.to_f32(*in), in->shape, k);
  for (const TensorEntry& e : ref.tensors()) {
    if (e.name == "input") continue;
    if (e.name == "h0") t.h0 = tile(ref.to_f32(e), e.shape, k);
    else if (e.name == "c0") t.c0 = tile(ref.to_f32(e), e.shape, k);
    else t.outputs.push_back({e.name, {e.shape[0], e.shape[1] * k, e.shape[2]}, tile(ref.to_f64(e), e.shape, k)});
  }
  return t;
}

// Engine values of each reference output, in t.outputs order.
using Outputs = std::vector<std::vector<float>>;

Outputs sized_outputs(const Tiled& t) {
  Outputs outs;
  for (const auto& o : t.outputs) outs.emplace_back(o.want.size(), NAN);
  return outs;
}

// Runs the engine on the tiled case into `outs` (sized_outputs); allocates nothing itself.
void run_into(Engine& engine, const Tiled& t, Outputs& outs) {
  const ModelConfig& mc = t.model->config();
  auto b = [&](const char* name) -> Tensor3 {
    for (std::size_t i = 0; i < t.outputs.size(); ++i)
      if (t.outputs[i].name == name) return {outs[i].data(), t.outputs[i].shape};
    return {};
  };
  const int64_t I = mc.input_size();
  const ConstTensor3 x{t.x.data(), {t.T, t.B, I}};
  switch (mc.model_kind) {
    case ModelKind::Rnn: {
      const RnnConfig& c = mc.rnn;
      const int64_t LD = c.num_layers * c.num_directions();
      engine.forward(x, {t.h0.empty() ? nullptr : t.h0.data(), {LD, t.B, c.output_size()}},
                     {t.c0.empty() ? nullptr : t.c0.data(), {LD, t.B, c.hidden_size}}, b("output"), b("h_n"), b("c_n"));
      break;
    }
    case ModelKind::Reconstruction:
    case ModelKind::Attention: engine.reconstruct(x, b("reconstruction"), b("attention")); break;
    case ModelKind::Prediction:
      if (mc.prediction.state == PredictionConfig::State::Stateful) engine.predict_stateful(x, b("prediction"));
      else engine.predict(x, b("prediction"));
      break;
  }
}

Outputs run(Engine& engine, const Tiled& t) {
  Outputs outs = sized_outputs(t);
  run_into(engine, t, outs);
  return outs;
}

std::vector<fs::path> golden_models() {
  std::vector<fs::path> paths;
  const fs::path dir = env_dir("RNNAD_GOLDEN_DIR");
  for (const fs::path& d : {dir / "models", dir})
    for (const auto& e : fs::directory_iterator(d)) {
      const std::string name = e.path().filename().string();
      if (name.ends_with(".safetensors") && !name.ends_with(".reference.safetensors")) paths.push_back(e.path());
    }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

TEST_CASE("a batch split over threads matches PyTorch on every golden model and repeats bit for bit", "[threads]") {
  const std::vector<fs::path> models = golden_models();
  REQUIRE(models.size() >= 37);
  int split_calls = 0;
  for (const fs::path& path : models) {
    const Tiled t = load_tiled(path);
    const ModelConfig& mc = t.model->config();
    const bool stateful = mc.model_kind == ModelKind::Prediction && mc.prediction.state == PredictionConfig::State::Stateful;
    for (int threads : {2, 3}) {
      INFO(path.filename().string() << ": T " << t.T << ", batch " << t.B << ", threads " << threads);
      // A stateful forecaster runs in chunks of max_seq_len steps: 16 < T exercises the carry.
      const EngineOptions o{.device = Device::Cpu, .max_batch = t.B, .max_seq_len = stateful ? 16 : t.T, .threads = threads};
      Engine engine(t.model, o);
      CHECK(engine.backend_name().find(std::to_string(threads) + " threads") != std::string::npos);
      const auto first = run(engine, t);
      REQUIRE(engine.last_call_threads() == threads);
      ++split_calls;
      for (std::size_t k = 0; k < t.outputs.size(); ++k) {
        const Tiled::Output& o2 = t.outputs[k];
        const std::vector<float>& got = first[k];
        double worst = 0.0;
        std::size_t at = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
          const double ratio = std::abs(double(got[i]) - o2.want[i]) / tolerance::fp32_bound(o2.want[i]);
          if (!(ratio <= worst)) {
            worst = ratio;
            at = i;
          }
        }
        INFO(o2.name << "[" << at << "] = " << got[at] << ", PyTorch " << o2.want[at]);
        CHECK(worst <= 1.0);
      }
      // The same call again, and on a second engine: identical bits.
      Engine other(t.model, o);
      const bool again_same = run(engine, t) == first, other_same = run(other, t) == first;
      CHECK(again_same);
      CHECK(other_same);
    }
  }
  CHECK(split_calls == 2 * static_cast<int>(models.size()));
}

TEST_CASE("small calls and batch 1 stay on the calling thread", "[threads]") {
  const fs::path dir = fs::path(env_dir("RNNAD_GOLDEN_DIR")) / "models";
  auto model = Model::load(dir / "pred_telemanom.safetensors");
  Engine engine(model, {.device = Device::Cpu, .max_batch = 8, .max_seq_len = 250, .threads = 2});
  const int64_t I = model->config().input_size(), P = model->config().prediction.prediction_size();
  std::vector<float> x(static_cast<std::size_t>(250 * 8 * I), 0.1f), pred(static_cast<std::size_t>(8 * P));
  engine.predict({x.data(), {250, 1, I}}, {pred.data(), {1, 1, P}});
  CHECK(engine.last_call_threads() == 1);
  engine.predict({x.data(), {1, 2, I}}, {pred.data(), {1, 2, P}});  // 2 rows of one step: too small
  CHECK(engine.last_call_threads() == 1);
  engine.predict({x.data(), {250, 8, I}}, {pred.data(), {1, 8, P}});
  CHECK(engine.last_call_threads() == 2);
}

TEST_CASE("a bare LSTM/GRU stack splits its own calls over the threads: the same bits as one thread", "[threads]") {
  // The tiled kernel splits batch 1 and 3 of a layer with >= 256 KiB of recurrent weights (LSTM
  // 200: 640 KB per layer; GRU 300: 1.1 MB) by hidden units, and batches 7 and 50 (and any batch
  // of the small LSTM 24, over kMinParallelMacs from batch 3) into shares of rows; seq_len 60
  // spans two hoisted chunks of the GRU.
  for (const auto& [mode, I, H, L] : {std::tuple{CellType::Lstm, 7, 200, 2}, std::tuple{CellType::Gru, 38, 300, 1},
                                      std::tuple{CellType::Lstm, 3, 24, 2}}) {
    RnnConfig c;
    c.mode = mode;
    c.input_size = I;
    c.hidden_size = H;
    c.num_layers = L;
    const auto model = test::make_rnn_model(c, test::random_rnn_weights(c, 11, 0.08f));
    const int64_t T = 60;
    const bool lstm = mode == CellType::Lstm;
    for (int64_t B : {1, 3, 7, 50}) {
      std::vector<float> x(static_cast<std::size_t>(T * B * I)), h0(static_cast<std::size_t>(L * B * H)), c0(h0.size());
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
      for (std::size_t i = 0; i < h0.size(); ++i) h0[i] = 0.5f * std::cos(0.11f * static_cast<float>(i)), c0[i] = 2 * h0[i];
      struct Run {
        std::vector<float> out, h_n, c_n;
        int threads_used;
      };
      auto run = [&](int threads, CpuKernels kernels, bool state) {
        Engine e(model,
                 {.device = Device::Cpu, .max_batch = B, .max_seq_len = T, .cpu_kernels = kernels, .threads = threads});
        Run r{std::vector<float>(static_cast<std::size_t>(T * B * H)), std::vector<float>(h0.size()),
              std::vector<float>(h0.size()), 0};
        e.forward({x.data(), {T, B, I}}, {state ? h0.data() : nullptr, {L, B, H}},
                  {state && lstm ? c0.data() : nullptr, {L, B, H}}, {r.out.data(), {T, B, H}}, {r.h_n.data(), {L, B, H}},
                  {lstm ? r.c_n.data() : nullptr, {L, B, H}});
        r.threads_used = e.last_call_threads();
        return r;
      };
      for (bool state : {false, true}) {
        const Run one = run(1, CpuKernels::Auto, state), ref = run(1, CpuKernels::Reference, state);
        CHECK(one.threads_used == 1);
        for (int threads : {2, 3}) {
          INFO((lstm ? "LSTM" : "GRU") << " H " << H << ", batch " << B << ", threads " << threads
                                       << (state ? ", h0/c0 given" : ", zero state"));
          const Run many = run(threads, CpuKernels::Auto, state);
          const bool split = H >= 200 || B >= 3;
          CHECK(many.threads_used == (split ? threads : 1));
          CHECK(many.out == one.out);
          CHECK(many.h_n == one.h_n);
          CHECK(many.c_n == one.c_n);
          double worst = 0;
          for (std::size_t i = 0; i < ref.out.size(); ++i)
            worst = std::max(worst, std::abs(static_cast<double>(many.out[i]) - ref.out[i]));
          CHECK(worst <= 1e-5);
        }
      }
    }
    // Both splits allocate nothing (the part states are sized when the engine is created).
    REQUIRE(test::allocation_counting_works());
    const int64_t B = 50;
    Engine e(model, {.device = Device::Cpu, .max_batch = B, .max_seq_len = T, .threads = 2});
    std::vector<float> x(static_cast<std::size_t>(T * B * I), 0.25f), out(static_cast<std::size_t>(T * B * H)),
        h_n(static_cast<std::size_t>(L * B * H));
    auto call = [&](int64_t b) {
      e.forward({x.data(), {T, b, I}}, {}, {}, {out.data(), {T, b, H}}, {h_n.data(), {L, b, H}}, {});
    };
    call(1);
    call(B);
    test::AllocationRegion region;
    call(1);
    call(B);
    region.stop();
    CHECK(region.count() == 0);
    CHECK(e.last_call_threads() == 2);
  }
}

TEST_CASE("thread options are checked", "[threads]") {
  const fs::path dir = fs::path(env_dir("RNNAD_GOLDEN_DIR")) / "models";
  auto model = Model::load(dir / "pred_telemanom.safetensors");
  try {
    Engine bad(model, {.device = Device::Cpu, .threads = -1});
    FAIL("threads -1 accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("EngineOptions::threads must be >= 0") != std::string::npos);
  }
  Engine all(model, {.device = Device::Cpu, .threads = 0});
  CHECK(all.options().threads == std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  Engine one(model, {.device = Device::Cpu});
  CHECK(one.backend_name().find("1 thread)") != std::string::npos);
}

TEST_CASE("split calls allocate nothing", "[threads][alloc]") {
  REQUIRE(test::allocation_counting_works());
  const fs::path dir = fs::path(env_dir("RNNAD_GOLDEN_DIR")) / "models";
  for (const char* name : {"pred_telemanom", "recon_lstm_rev_bi1_l2", "attn_gru_l2", "pred_lstm_gauss_stateful_l2"}) {
    const Tiled t = load_tiled(dir / (std::string(name) + ".safetensors"));
    const bool stateful = std::string(name).find("stateful") != std::string::npos;
    Engine engine(t.model, {.device = Device::Cpu, .max_batch = t.B, .max_seq_len = stateful ? 16 : t.T, .threads = 2});
    Outputs outs = sized_outputs(t);
    test::AllocationRegion region;
    run_into(engine, t, outs);
    run_into(engine, t, outs);
    region.stop();
    INFO(name << ": batch " << t.B);
    CHECK(engine.last_call_threads() == 2);
    CHECK(region.count() == 0);
  }
}

TEST_CASE("one model, many engines on many threads: the same bits as one thread", "[threads][concurrency]") {
  const fs::path dir = fs::path(env_dir("RNNAD_GOLDEN_DIR")) / "models";
  const Tiled t = load_tiled(dir / "pred_telemanom.safetensors");
  Engine alone(t.model, {.device = Device::Cpu, .max_batch = t.B, .max_seq_len = t.T});
  const auto want = run(alone, t);
  Engine alone2(t.model, {.device = Device::Cpu, .max_batch = t.B, .max_seq_len = t.T, .threads = 2});
  const auto want2 = run(alone2, t);
  std::vector<int> same(4, 0);
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      const int threads = w % 2 == 0 ? 1 : 2;  // engines with their own worker threads too
      Engine engine(t.model, {.device = Device::Cpu, .max_batch = t.B, .max_seq_len = t.T, .threads = threads});
      for (int rep = 0; rep < 3; ++rep) same[static_cast<std::size_t>(w)] += run(engine, t) == (threads == 1 ? want : want2) ? 1 : 0;
    });
  }
  for (auto& th : workers) th.join();
  CHECK(same == std::vector<int>(4, 3));
}

TEST_CASE("the Scorer's scores are bit-identical run to run, at 1 and 2 threads, and match PyTorch", "[threads][determinism]") {
  const fs::path models = env_dir("RNNAD_MODELS_DIR");
  auto model = Model::load(models / "nab_machine_temp.safetensors");
  const SafetensorsFile ref = SafetensorsFile::read(models / "nab_machine_temp.reference.safetensors");
  const std::vector<double> series = ref.to_f64(*ref.find("series"));
  const std::vector<double> want = ref.to_f64(*ref.find("scores"), true);
  const auto rows = static_cast<int64_t>(series.size());
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    std::vector<double> first;
    for (int rep = 0; rep < 2; ++rep) {
      Scorer scorer(model, 256, EngineOptions{.device = Device::Cpu, .threads = threads});
      const SeriesScores s = scorer.score(series.data(), rows);
      CHECK(scorer.engine().last_call_threads() == threads);
      if (rep == 0) {
        first = s.scores;
        // Against PyTorch (tools/python/train.py) by the kScore rule of rnnad validate:
        // |a - b| <= kScore * max(|b|, median |reference scores|).
        std::vector<double> mags;
        for (double v : want)
          if (!std::isnan(v)) mags.push_back(std::abs(v));
        std::nth_element(mags.begin(), mags.begin() + static_cast<std::ptrdiff_t>(mags.size() / 2), mags.end());
        const double median = mags[mags.size() / 2];
        REQUIRE(s.scores.size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
          INFO("row " << i << ": " << s.scores[i] << ", PyTorch " << want[i]);
          if (std::isnan(want[i])) REQUIRE(std::isnan(s.scores[i]));
          else REQUIRE(std::abs(s.scores[i] - want[i]) <= tolerance::kScore * std::max(std::abs(want[i]), median));
        }
      } else {
        // NaN != NaN: compare bit patterns.
        REQUIRE(s.scores.size() == first.size());
        CHECK(std::memcmp(s.scores.data(), first.data(), first.size() * sizeof(double)) == 0);
      }
    }
  }
}
