// Forward passes allocate nothing once the engine exists (design.md §5), at batch 1 and 1024.
#include <catch2/catch.hpp>
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
