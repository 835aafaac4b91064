// bench_forward: times the CPU forward pass of one recurrent stack shape (the full benchmark
// matrix of shared/docs/performance.md arrives with its own issue). Weights are seeded uniform
// in +-1/sqrt(H) (PyTorch's initialisation range), inputs N(0, 1).
//
//   bench_forward [--mode LSTM] [--input 25] [--hidden 80] [--layers 2] [--seq 250] [--batch 1]
//                 [--rounds 50] [--warmup 5]
//
// Prints median, 10th and 90th percentile per forward, per step, and GFLOP/s of the stack
// (2 FLOP per multiply-add of the input and recurrent products; element-wise work not counted).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "rnnad/engine.h"
#include "rnnad/error.h"
#include "../tests/support/model_builder.h"

int main(int argc, char** argv) {
  CLI::App app{"Time the CPU forward pass of one recurrent stack"};
  std::string mode = "LSTM";
  int64_t input = 25, hidden = 80, layers = 2, seq = 250, batch = 1, proj = 0;
  int rounds = 50, warmup = 5;
  bool bidir = false;
  app.add_option("--mode", mode, "LSTM, GRU, RNN_TANH, RNN_RELU")->capture_default_str();
  app.add_option("--input", input, "input_size")->capture_default_str();
  app.add_option("--hidden", hidden, "hidden_size")->capture_default_str();
  app.add_option("--layers", layers, "num_layers")->capture_default_str();
  app.add_option("--proj", proj, "proj_size (LSTM)")->capture_default_str();
  app.add_flag("--bidirectional", bidir, "bidirectional");
  app.add_option("--seq", seq, "seq_len")->capture_default_str();
  app.add_option("--batch", batch, "batch")->capture_default_str();
  app.add_option("--rounds", rounds, "timed forward passes")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed forward passes first")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::map<std::string, rnnad::CellType> modes = {{"LSTM", rnnad::CellType::Lstm},
                                                        {"GRU", rnnad::CellType::Gru},
                                                        {"RNN_TANH", rnnad::CellType::RnnTanh},
                                                        {"RNN_RELU", rnnad::CellType::RnnRelu}};
  try {
    rnnad::RnnConfig c;
    c.mode = modes.at(mode);
    c.input_size = input;
    c.hidden_size = hidden;
    c.num_layers = layers;
    c.proj_size = proj;
    c.bidirectional = bidir;
    auto model = rnnad::test::make_rnn_model(
        c, rnnad::test::random_rnn_weights(c, 1, 1.0f / std::sqrt(static_cast<float>(hidden))));
    rnnad::Engine engine(model, {rnnad::Device::Cpu, 0, batch, seq});
    const int64_t LD = layers * c.num_directions(), Ho = c.output_size(), D = c.num_directions();
    std::vector<float> x(static_cast<std::size_t>(seq * batch * input)), out(static_cast<std::size_t>(seq * batch * D * Ho)),
        hn(static_cast<std::size_t>(LD * batch * Ho)), cn(static_cast<std::size_t>(LD * batch * hidden));
    std::mt19937 gen(2);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(gen);
    const bool lstm = c.mode == rnnad::CellType::Lstm;
    auto forward = [&] {
      engine.forward({x.data(), {seq, batch, input}}, {}, {}, {out.data(), {seq, batch, D * Ho}}, {hn.data(), {LD, batch, Ho}},
                     {lstm ? cn.data() : nullptr, {LD, batch, hidden}});
    };
    for (int i = 0; i < warmup; ++i) forward();
    std::vector<double> ms;
    for (int i = 0; i < rounds; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      forward();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    auto pct = [&](double p) { return ms[static_cast<std::size_t>(p * static_cast<double>(ms.size() - 1))]; };
    double flop = 0;
    for (int64_t l = 0; l < layers; ++l)
      flop += 2.0 * static_cast<double>(D * seq * batch * c.gate_size() * (c.layer_input_size(l) + Ho) +
                                        (proj > 0 ? D * seq * batch * proj * hidden : 0));
    std::printf("%s input %lld hidden %lld layers %lld%s%s seq_len %lld batch %lld on %s\n", mode.c_str(),
                static_cast<long long>(input), static_cast<long long>(hidden), static_cast<long long>(layers),
                bidir ? " bidirectional" : "", proj > 0 ? " proj" : "", static_cast<long long>(seq),
                static_cast<long long>(batch), engine.backend_name().c_str());
    std::printf("forward: median %.3f ms (p10 %.3f, p90 %.3f) over %d rounds; %.2f us/step; %.1f GFLOP/s\n", pct(0.5),
                pct(0.1), pct(0.9), rounds, 1000.0 * pct(0.5) / static_cast<double>(seq), flop / (pct(0.5) * 1e6));
  } catch (const rnnad::Error& e) {
    std::fprintf(stderr, "bench_forward: %s\n", e.what());
    return 3;
  }
  return 0;
}
