// Forward passes allocate nothing once the engine exists (design.md §5), at batch 1 and 1024.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "model_builder.h"
#include "rnnad/engine.h"

using namespace rnnad;

TEST_CASE("the allocation counter counts", "[alloc]") { REQUIRE(test::allocation_counting_works()); }

TEST_CASE("forward passes allocate nothing", "[alloc]") {
  struct Case {
    const char* name;
    CellType mode;
    int64_t in, hidden, layers, proj;
    bool bidir;
  };
  const Case cases[] = {
      {"Telemanom LSTM 25->80 x2", CellType::Lstm, 25, 80, 2, 0, false},
      {"bidirectional GRU x3", CellType::Gru, 3, 16, 3, 0, true},
      {"LSTM proj_size", CellType::Lstm, 3, 16, 2, 8, true},
      {"RNN relu", CellType::RnnRelu, 38, 64, 1, 0, false},
  };
  const int64_t batches[] = {1, 1024};
  for (const auto& c : cases) {
    for (int64_t B : batches) {
      const int64_t T = B == 1 ? 250 : 12;
      RnnConfig cfg;
      cfg.mode = c.mode;
      cfg.input_size = c.in;
      cfg.hidden_size = c.hidden;
      cfg.num_layers = c.layers;
      cfg.proj_size = c.proj;
      cfg.bidirectional = c.bidir;
      Engine engine(test::make_rnn_model(cfg, test::random_rnn_weights(cfg, 7, 0.2f)), {Device::Cpu, 0, B, T});
      const int64_t LD = cfg.num_layers * cfg.num_directions(), Ho = cfg.output_size(), H = cfg.hidden_size;
      const bool lstm = c.mode == CellType::Lstm;
      std::vector<float> x(T * B * c.in, 0.3f), h0(LD * B * Ho, 0.1f), c0(LD * B * H, -0.1f);
      std::vector<float> out(T * B * cfg.num_directions() * Ho), hn(LD * B * Ho), cn(LD * B * H);
      auto forward = [&](int64_t t, int64_t b, bool states) {
        engine.forward({x.data(), {t, b, c.in}}, {states ? h0.data() : nullptr, {LD, b, Ho}},
                       {states && lstm ? c0.data() : nullptr, {LD, b, H}}, {out.data(), {t, b, cfg.num_directions() * Ho}},
                       {hn.data(), {LD, b, Ho}}, {lstm ? cn.data() : nullptr, {LD, b, H}});
      };
      test::AllocationRegion region;
      forward(T, B, true);
      forward(T, B, false);
      forward(1, B, true);          // shorter sequence reuses the same buffers
      forward(T, (B + 1) / 2, true);  // smaller batch too
      region.stop();
      INFO(c.name << " batch " << B << " seq_len " << T);
      CHECK(region.count() == 0);
    }
  }
}

TEST_CASE("model kinds allocate nothing per call", "[alloc][models]") {
  const char* dir = std::getenv("RNNAD_GOLDEN_DIR");
  REQUIRE(dir != nullptr);
  for (const char* name : {"recon_lstm_rev_bi1_l2", "recon_gru_fwd_bi0_l2", "attn_lstm_l2", "pred_gru_gauss_windowed_l2",
                           "pred_telemanom", "pred_lstm_point_stateful_l2"}) {
    auto model = Model::load(std::string(dir) + "/models/" + name + ".safetensors");
    const ModelConfig& mc = model->config();
    const int64_t I = mc.input_size();
    const bool stateful = mc.model_kind == ModelKind::Prediction && mc.prediction.state == PredictionConfig::State::Stateful;
    for (int64_t B : {int64_t{1}, int64_t{1024}}) {
      const int64_t T = stateful ? 40 : mc.seq_len();
      Engine engine(model, {Device::Cpu, 0, B, stateful ? 16 : T});
      std::vector<float> x(static_cast<std::size_t>(T * B * I), 0.2f), out(static_cast<std::size_t>(T * B * (I + T + 64)));
      auto run = [&] {
        switch (mc.model_kind) {
          case ModelKind::Prediction:
            if (stateful) {
              const int64_t P = mc.prediction.prediction_size();
              engine.predict_stateful({x.data(), {T, B, I}}, {out.data(), {T, B, P}});
            } else {
              engine.predict({x.data(), {T, B, I}}, {out.data(), {1, B, mc.prediction.prediction_size()}});
            }
            break;
          case ModelKind::Attention:
            engine.reconstruct({x.data(), {T, B, I}}, {out.data(), {T, B, I}}, {out.data() + T * B * I, {T, B, T}});
            break;
          default: engine.reconstruct({x.data(), {T, B, I}}, {out.data(), {T, B, I}}); break;
        }
      };
      const std::vector<float> series(static_cast<std::size_t>((T + 4) * I), 0.1f);
      test::AllocationRegion region;
      run();
      if (!stateful) engine.run_windows(series.data(), T + 4, 1, 0, std::min<int64_t>(B, 5));
      region.stop();
      INFO(name << " batch " << B);
      CHECK(region.count() == 0);
    }
  }
}
