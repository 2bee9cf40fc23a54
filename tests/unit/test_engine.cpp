// The sampling engine (framework/src/generate/{processors,rng,engine}). Oracles:
// - the processors: tests/python/processors_ref.py, HF's warpers written as HF writes them
//   (torch, run by /usr/bin/python3), on random logits; hand-computed distributions; the
//   order pinned (temperature-then-top-p ≠ top-p-then-temperature);
// - the draws: bin counts of the counter-based uniforms and of inverse-CDF samples;
// - the engine: the same requests at batch sizes 1, 3 and 8, in reversed order, and with a
//   cache small enough to force rebuilds, must give the same ids and text per
//   (example, sample); the existing greedy_decode; log-probabilities recomputed here from
//   the model without cache or padding; stop strings checked against the tokenizer's own
//   decode of every id prefix.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "generate/batch.hpp"
#include "generate/engine.hpp"
#include "generate/greedy.hpp"
#include "generate/processors.hpp"
#include "generate/rng.hpp"
#include "model/tiny.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "test_util.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
namespace g = ram::generate;
using Ids = std::vector<std::int64_t>;
using Json = nlohmann::json;

ram::model::TinySpec tiny_llama(std::int64_t vocab = 64, std::int64_t seed = 5) {
  ram::model::TinySpec s;
  s.arch = "llama";
  s.vocab = vocab;
  s.hidden = 32;
  s.layers = 2;
  s.heads = 4;
  s.kv_heads = 2;
  s.intermediate = 48;
  s.seed = seed;
  s.init_std = 0.2;
  return s;
}

std::shared_ptr<ram::CausalLM> model64() {
  static std::shared_ptr<ram::CausalLM> m = [] {
    c10::InferenceMode guard;
    return ram::model::make_tiny_model(tiny_llama());
  }();
  return m;
}

// ---- processors -------------------------------------------------------------------------

struct ProcCase {
  std::vector<std::string> order;
  double rp, t;
  std::int64_t k;
  double p;
  std::int64_t V = 50;  // vocabulary
};

g::SamplingParams params_of(const ProcCase& c) {
  g::SamplingParams sp;
  sp.order = c.order;
  sp.repetition_penalty = c.rp;
  sp.temperature = c.t;
  sp.top_k = c.k;
  sp.top_p = c.p;
  return sp;
}

TEST(Processors, MatchHfReference) {
  c10::InferenceMode guard;
  const std::vector<std::string> vllm = {"repetition_penalty", "temperature", "top_k", "top_p"};
  const std::vector<std::string> fastchat = {"temperature", "repetition_penalty", "top_p", "top_k"};
  const std::vector<ProcCase> cases = {
      {vllm, 1.05, 0.5, 10, 0.95},   // ram sample's defaults
      {fastchat, 1.2, 0.7, 5, 0.9},  // ram generate's order
      {vllm, 0.8, 1.0, 0, 1.0},      // penalty < 1 alone (favours seen ids)
      {vllm, 1.0, 1.0, 3, 1.0},      // top-k alone
      {vllm, 1.0, 1.0, 0, 0.5},      // top-p alone
      {vllm, 1.0, 1.0, 0, 0.0},      // top-p 0: only the largest survives
      {{"top_p", "temperature"}, 1.0, 1.7, 0, 0.8},
      {{"temperature", "top_p"}, 1.0, 1.7, 0, 0.8},
      {{"top_k", "repetition_penalty", "top_p", "temperature"}, 1.3, 0.3, 7, 0.6},
      {vllm, 1.1, 2.0, 200, 0.99},  // k > V keeps everything
      // top-p on whole rows larger than its first 256 candidates: the partial path, with
      // nuclei inside the first 256, and (flat logits, p 0.99) beyond them.
      {{"temperature", "top_p"}, 1.0, 0.5, 0, 0.9, 3000},
      {{"temperature", "top_p"}, 1.0, 8.0, 0, 0.99, 3000},
      {fastchat, 1.2, 0.7, 5, 0.9, 3000},
  };
  const std::int64_t B = 5;
  at::manual_seed(1234);
  Json in = {{"cases", Json::array()}};
  std::vector<at::Tensor> got;
  for (const auto& c : cases) {
    const std::int64_t V = c.V;
    at::Tensor logits = at::randn({B, V}, at::kFloat) * 3.0;
    // prompt ids through start(), generated ids through accept(); repeats on purpose.
    std::vector<Ids> rows;
    for (std::int64_t r = 0; r < B; ++r) {
      Ids prompt;
      at::Tensor pr = at::randint(0, V, {1 + r * 2}, at::kLong).contiguous();
      prompt.assign(pr.data_ptr<std::int64_t>(), pr.data_ptr<std::int64_t>() + pr.numel());
      rows.push_back(prompt);
    }
    g::Chain chain(params_of(c), B, V);
    for (std::int64_t r = 0; r < B; ++r) {
      chain.start(r, rows[r]);
      for (std::int64_t j = 0; j < r; ++j) {
        const std::int64_t id = (r * 7 + j * 13) % V;
        chain.accept(r, id);
        rows[r].push_back(id);
      }
    }
    Json jl = Json::array();
    for (std::int64_t r = 0; r < B; ++r) {
      Json row = Json::array();
      for (std::int64_t v = 0; v < V; ++v) row.push_back(logits[r][v].item<float>());
      jl.push_back(row);
    }
    in["cases"].push_back({{"logits", jl},
                           {"input_ids", rows},
                           {"order", c.order},
                           {"repetition_penalty", c.rp},
                           {"temperature", c.t},
                           {"top_k", c.k},
                           {"top_p", c.p}});
    at::Tensor work = logits.clone();
    chain.apply(work);
    got.push_back(work);
  }
  const fs::path dir = ram::test::temp_dir("engine-proc");
  ram::test::write_file((dir / "in.json").string(), in.dump());
  auto res = ram::test::run(ram::test::python() + " " + ram::test::source_dir() +
                            "/tests/python/processors_ref.py " + (dir / "in.json").string() + " " +
                            (dir / "out.json").string());
  ASSERT_EQ(res.exit_code, 0) << res.output;
  std::ifstream f(dir / "out.json");
  Json out = Json::parse(f)["results"];
  ASSERT_EQ(out.size(), cases.size());
  for (std::size_t c = 0; c < cases.size(); ++c) {
    std::int64_t kept = 0;
    for (std::int64_t r = 0; r < B; ++r) {
      for (std::int64_t v = 0; v < cases[c].V; ++v) {
        const float mine = got[c][r][v].item<float>();
        const Json& want = out[c][r][v];
        if (want.is_null()) {
          EXPECT_TRUE(std::isinf(mine) && mine < 0) << "case " << c << " row " << r << " id " << v;
        } else {
          ++kept;
          const double w = want.get<double>();
          EXPECT_NEAR(mine, w, 1e-6 * std::abs(w) + 1e-7)
              << "case " << c << " row " << r << " id " << v;
        }
      }
    }
    EXPECT_GT(kept, 0) << c;
  }
  // The order matters: cases 6 and 7 differ only in the order of temperature and top-p.
  EXPECT_FALSE(at::equal(got[6].isinf(), got[7].isinf()));
}

TEST(Processors, TopPRowsDoNotDependOnTheirNeighbours) {
  // Top-p on whole rows widens its candidate count per row: a row decoded beside rows that
  // need more candidates (flat ones) gives the same bits as the row alone — the engine's
  // "any batch size, any rank count" rests on it.
  c10::InferenceMode guard;
  const std::int64_t V = 5000;
  at::manual_seed(77);
  at::Tensor logits = at::randn({6, V}, at::kFloat);
  for (std::int64_t r = 0; r < 6; ++r) logits[r].mul_(r % 2 == 0 ? 0.05 : 6.0);  // flat / peaked
  g::SamplingParams sp;
  sp.order = {"top_p"};
  sp.top_p = 0.95;
  sp.temperature = 1;
  sp.repetition_penalty = 1;
  sp.top_k = 0;
  at::Tensor all = logits.clone();
  g::Chain(sp, 6, V).apply(all);
  for (std::int64_t r = 0; r < 6; ++r) {
    at::Tensor one = logits.narrow(0, r, 1).clone();
    g::Chain(sp, 1, V).apply(one);
    EXPECT_TRUE(at::equal(one[0], all[r])) << "row " << r;
    const std::int64_t kept = at::isfinite(all[r]).sum().item<std::int64_t>();
    if (r % 2 == 0) EXPECT_GT(kept, 1024) << r;  // flat: beyond the first widening
    else EXPECT_LT(kept, 256) << r;
  }
}

TEST(Processors, HandComputed) {
  c10::InferenceMode guard;
  auto run = [](g::SamplingParams sp, std::vector<float> logits, Ids seen = {}) {
    g::Chain chain(sp, 1, static_cast<std::int64_t>(logits.size()));
    chain.start(0, seen);
    at::Tensor t = at::tensor(logits, at::kFloat).unsqueeze(0).contiguous();
    chain.apply(t);
    return t[0];
  };
  const float inf = std::numeric_limits<float>::infinity();
  g::SamplingParams off;
  off.temperature = 1;
  off.top_k = 0;
  off.top_p = 1;
  off.repetition_penalty = 1;
  {  // top-k 2 of [1, 4, 3, 2, 4]: ties at the k-th value are kept.
    auto sp = off;
    sp.top_k = 2;
    auto t = run(sp, {1, 4, 3, 2, 4});
    EXPECT_TRUE(at::equal(t, at::tensor({-inf, 4.f, -inf, -inf, 4.f})));
  }
  {  // probabilities 0.1, 0.2, 0.3, 0.4 (log): top_p 0.65 drops cum ≤ 0.35: 0.1 and 0.2 (0.3).
    auto sp = off;
    sp.top_p = 0.65;
    auto t = run(sp, {std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)});
    EXPECT_TRUE(std::isinf(t[0].item<float>()) && std::isinf(t[1].item<float>()));
    EXPECT_FALSE(std::isinf(t[2].item<float>()) || std::isinf(t[3].item<float>()));
  }
  {  // penalty 2 over the seen ids {0, 2}: 4 → 2, −4 → −8, unseen unchanged.
    auto sp = off;
    sp.repetition_penalty = 2;
    auto t = run(sp, {4, 4, -4, -4}, {0, 2, 2});
    EXPECT_TRUE(at::equal(t, at::tensor({2.f, 4.f, -8.f, -4.f})));
  }
  {  // temperature 0.5 doubles; the chain names what runs.
    auto sp = off;
    sp.temperature = 0.5;
    EXPECT_TRUE(at::equal(run(sp, {1, -3}), at::tensor({2.f, -6.f})));
    g::Chain chain(g::SamplingParams{}, 1, 8);
    EXPECT_EQ(chain.describe(),
              "repetition_penalty(1.05) → temperature(0.5) → top_k(10) → top_p(0.95)");
  }
}

TEST(Processors, BadOrderIsOneConfigError) {
  g::SamplingParams sp;
  sp.order = {"temperature", "top_q", "top_k", "top_p", "repetition_penalty"};
  try {
    g::Chain chain(sp, 1, 8);
    FAIL() << "no error";
  } catch (const ram::ConfigError& e) {
    const std::string msg = ram::format_error(e);
    EXPECT_NE(msg.find("top_q"), std::string::npos) << msg;
    for (const auto& n : g::processor_names()) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
  sp.order = {"temperature", "temperature", "top_k", "top_p", "repetition_penalty"};
  EXPECT_THROW(g::Chain(sp, 1, 8), ram::ConfigError);
  sp.order = {"temperature", "top_k", "top_p"};  // penalty 1.05 set but not in the order
  EXPECT_THROW(g::Chain(sp, 1, 8), ram::ConfigError);
  sp = g::SamplingParams{};
  sp.temperature = 0;
  EXPECT_THROW(g::Chain(sp, 1, 8), ram::ConfigError);
  sp.greedy = true;  // greedy ignores the temperature
  EXPECT_NO_THROW(g::Chain(sp, 1, 8));
}

// ---- draws ------------------------------------------------------------------------------

TEST(Draws, UniformAndIndependent) {
  // Crude uniformity: 10 bins over 100000 draws along the step counter and along the
  // example index; each bin within 5% of 10000 (σ ≈ 95, so ~5σ).
  for (int axis = 0; axis < 2; ++axis) {
    std::vector<int> bins(10, 0);
    double sum = 0;
    for (std::int64_t i = 0; i < 100000; ++i) {
      const double u = axis == 0 ? g::draw_uniform(7, 3, 0, i) : g::draw_uniform(7, i, 0, 5);
      ASSERT_GE(u, 0.0);
      ASSERT_LT(u, 1.0);
      ++bins[static_cast<std::size_t>(u * 10)];
      sum += u;
    }
    for (int b : bins) EXPECT_NEAR(b, 10000, 500) << "axis " << axis;
    EXPECT_NEAR(sum / 100000, 0.5, 0.005);
  }
  // Neighbouring streams (example e vs e+1, sample 0 vs 1, seed s vs s+1) are uncorrelated:
  // |corr| < 0.02 over 20000 steps (σ ≈ 0.007).
  auto corr = [](auto a, auto b) {
    double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
      const double x = a(i), y = b(i);
      sa += x, sb += y, sab += x * y, saa += x * x, sbb += y * y;
    }
    const double cov = sab / n - sa / n * sb / n;
    return cov / std::sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
  };
  EXPECT_LT(std::abs(corr([](int i) { return g::draw_uniform(1, 10, 0, i); },
                          [](int i) { return g::draw_uniform(1, 11, 0, i); })),
            0.02);
  EXPECT_LT(std::abs(corr([](int i) { return g::draw_uniform(1, 10, 0, i); },
                          [](int i) { return g::draw_uniform(1, 10, 1, i); })),
            0.02);
  EXPECT_LT(std::abs(corr([](int i) { return g::draw_uniform(1, 10, 0, i); },
                          [](int i) { return g::draw_uniform(2, 10, 0, i); })),
            0.02);
  // A pure function of its four arguments.
  EXPECT_EQ(g::draw_bits(9, 8, 7, 6), g::draw_bits(9, 8, 7, 6));
  EXPECT_NE(g::draw_bits(9, 8, 7, 6), g::draw_bits(9, 8, 6, 7));
}

TEST(Draws, InverseCdf) {
  c10::InferenceMode guard;
  // p = [0.1, 0, 0.6, 0.3] (as logits; id 1 is −inf after a filter).
  const float inf = std::numeric_limits<float>::infinity();
  at::Tensor row = at::tensor({std::log(0.1f), -inf, std::log(0.6f), std::log(0.3f)}, at::kFloat);
  const std::vector<std::pair<double, std::int64_t>> at_u = {
      {0.0, 0}, {0.0999, 0}, {0.1001, 2}, {0.6999, 2}, {0.7001, 3}, {0.999999, 3}};
  at::Tensor logits =
      row.unsqueeze(0).repeat({static_cast<std::int64_t>(at_u.size()), 1}).contiguous();
  at::Tensor u = at::empty({static_cast<std::int64_t>(at_u.size()), 1}, at::kDouble);
  for (std::size_t i = 0; i < at_u.size(); ++i) u[static_cast<std::int64_t>(i)][0] = at_u[i].first;
  at::Tensor ids = g::sample_inverse_cdf(logits, u);
  for (std::size_t i = 0; i < at_u.size(); ++i) {
    EXPECT_EQ(ids[static_cast<std::int64_t>(i)][0].item<std::int64_t>(), at_u[i].second)
        << at_u[i].first;
  }
  // u → 1 where total rounds: never the zero-probability tail.
  at::Tensor tail = at::tensor({0.f, 0.f, -inf, -inf}, at::kFloat).unsqueeze(0).contiguous();
  at::Tensor one = at::full({1, 1}, std::nextafter(1.0, 0.0), at::kDouble);
  EXPECT_EQ(g::sample_inverse_cdf(tail, one).item<std::int64_t>(), 1);
  // Few finite logits (after a top-k): the candidates-only path draws the same ids as the
  // full-vocabulary one.
  {
    at::manual_seed(7);
    const std::int64_t B = 64, V = 400;
    at::Tensor l = at::randn({B, V}, at::kFloat);
    g::SamplingParams sp;
    sp.temperature = 1;
    sp.top_p = 1;
    sp.repetition_penalty = 1;
    sp.top_k = 30;
    g::Chain(sp, B, V).apply(l);
    at::Tensor uu = at::empty({B, 1}, at::kDouble);
    for (std::int64_t i = 0; i < B; ++i) uu[i][0] = g::draw_uniform(5, i, 0, 0);
    ASSERT_EQ(g::finite_candidates(l), 30);
    EXPECT_TRUE(at::equal(g::sample_inverse_cdf(l, uu), g::sample_inverse_cdf_full(l, uu)));
  }
  // Frequencies over 40000 counter-based draws: within 0.01 of p.
  const std::int64_t n = 40000;
  at::Tensor many = row.unsqueeze(0).repeat({n, 1}).contiguous();
  at::Tensor us = at::empty({n, 1}, at::kDouble);
  for (std::int64_t i = 0; i < n; ++i) us[i][0] = g::draw_uniform(3, i, 0, 0);
  at::Tensor drawn = g::sample_inverse_cdf(many, us).flatten();
  const std::vector<double> p = {0.1, 0.0, 0.6, 0.3};
  for (std::int64_t v = 0; v < 4; ++v) {
    const double freq = (drawn == v).sum().item<double>() / n;
    EXPECT_NEAR(freq, p[static_cast<std::size_t>(v)], 0.01) << v;
  }
}

TEST(Draws, CandidatesPathEqualsWholeRows) {
  // Chain::sample (stages after the top-k on the k candidates, the draw over them) against
  // apply() on whole rows + sample_inverse_cdf_full: the same ids, for both shipped orders,
  // rows with a tie at the k-th place (whole-row fallback), rows with fewer than k finite
  // logits (as after a RAM joint step), k ≥ V, and 4000 rows of random uniforms.
  c10::InferenceMode guard;
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::string> vllm = {"repetition_penalty", "temperature", "top_k", "top_p"};
  const std::vector<std::string> rp_after = {"top_k", "repetition_penalty", "temperature", "top_p"};
  const std::vector<ProcCase> cases = {{vllm, 1.05, 0.5, 10, 0.95}, {vllm, 1.3, 0.7, 5, 0.6},
                                       {rp_after, 1.3, 0.3, 7, 0.8}, {vllm, 1.05, 0.5, 400, 0.95},
                                       {vllm, 1.0, 1.0, 3, 1.0}};
  const std::int64_t B = 4000, V = 300;
  for (std::size_t ci = 0; ci < 2 * cases.size(); ++ci) {
    at::manual_seed(static_cast<std::uint64_t>(100 + ci));
    at::Tensor logits = at::randn({B, V}, at::kFloat) * 3.0;
    logits.narrow(0, 50, 50).narrow(1, 4, V - 4).fill_(-inf);  // 4 finite logits
    if (ci >= cases.size())  // ties, some at the k-th place: the whole-row fallback
      logits.narrow(0, 0, 50).copy_(logits.narrow(0, 0, 50).round());
    const ProcCase& pc = cases[ci % cases.size()];
    g::Chain a(params_of(pc), B, V), b(params_of(pc), B, V);
    for (std::int64_t r = 0; r < B; ++r) {
      Ids prompt;
      for (std::int64_t j = 0; j < 20; ++j) prompt.push_back((r * 31 + j * 7) % V);
      a.start(r, prompt);
      b.start(r, prompt);
      a.accept(r, (r * 13) % V);
      b.accept(r, (r * 13) % V);
    }
    at::Tensor u = at::empty({B, 1}, at::kDouble);
    for (std::int64_t r = 0; r < B; ++r) u[r][0] = g::draw_uniform(11, r, 0, ci);
    at::Tensor whole = logits.clone(), part = logits.clone();
    a.apply(whole);
    const at::Tensor want = g::sample_inverse_cdf_full(whole, u);
    const at::Tensor got = b.sample(part, u);
    ASSERT_EQ(got.sizes(), want.sizes());
    const std::int64_t differ = (got != want).sum().item<std::int64_t>();
    EXPECT_EQ(differ, 0) << "case " << ci;
    // Every drawn id is one the whole-row chain left finite.
    EXPECT_TRUE(at::isfinite(whole.gather(1, got)).all().item<bool>()) << "case " << ci;
  }
}

// ---- engine -----------------------------------------------------------------------------

std::vector<g::Request> varied_requests() {
  // 12 requests: 9 examples of prompt lengths 1..13, examples 2 and 5 with 2-3 samples.
  std::vector<g::Request> reqs;
  const std::vector<std::int64_t> lens = {3, 1, 7, 13, 2, 9, 4, 11, 5};
  for (std::size_t e = 0; e < lens.size(); ++e) {
    g::Request q;
    q.example_index = static_cast<std::int64_t>(e) * 10;
    for (std::int64_t j = 0; j < lens[e]; ++j)
      q.prompt_ids.push_back((static_cast<std::int64_t>(e) * 17 + j * 5 + 1) % 64);
    reqs.push_back(q);
    const int extra = e == 2 ? 2 : e == 5 ? 1 : 0;
    for (int s = 1; s <= extra; ++s) {
      q.sample_index = s;
      reqs.push_back(q);
    }
  }
  return reqs;
}

g::EngineOptions sampling_options(std::int64_t batch) {
  g::EngineOptions o;
  o.batch_size = batch;
  o.sampling.temperature = 1.0;
  o.sampling.top_k = 40;
  o.sampling.top_p = 0.95;
  o.sampling.repetition_penalty = 1.1;
  o.sampling.seed = 42;
  o.stop.max_new_tokens = 14;
  o.stop.eos_ids = {3};
  return o;
}

using Key = std::pair<std::int64_t, std::int64_t>;

std::map<Key, g::Result> run_engine(const g::EngineOptions& o, const std::vector<g::Request>& reqs,
                                    g::Engine::Stats* stats = nullptr,
                                    const ram::tok::Tokenizer* tok = nullptr,
                                    ram::CausalLM* model = nullptr) {
  c10::InferenceMode guard;
  g::Engine engine(model ? *model : *model64(), tok, o);
  std::map<Key, g::Result> out;
  engine.run(reqs, [&](g::Result&& r) {
    Key k{r.example_index, r.sample_index};
    EXPECT_EQ(out.count(k), 0u);
    out.emplace(k, std::move(r));
  });
  EXPECT_EQ(out.size(), reqs.size());
  if (stats) *stats = engine.stats();
  return out;
}

// log P(ids | prompt) from the model alone (no cache, no padding).
double logprob_alone(ram::CausalLM& m, const Ids& prompt, const Ids& ids) {
  c10::InferenceMode guard;
  Ids seq = prompt;
  seq.insert(seq.end(), ids.begin(), ids.end());
  auto t = at::tensor(seq, at::kLong).unsqueeze(0);
  auto mask = at::ones_like(t);
  auto lp = m.forward(t, g::positions_from_mask(mask), mask, nullptr)[0].log_softmax(-1);
  double sum = 0;
  for (std::size_t j = 0; j < ids.size(); ++j)
    sum += lp[static_cast<std::int64_t>(prompt.size() + j) - 1][ids[j]].item<double>();
  return sum;
}

// Bit-equality of the log-probabilities across batch sizes is not promised: padding and
// the interleaved masked cache entries change the length of the attention reductions, so
// the float sums round differently (~1e-6). The draws themselves only change if a u lands
// within that distance of a cumulative-probability boundary, which these runs never do.
void expect_same(const std::map<Key, g::Result>& a, const std::map<Key, g::Result>& b,
                 const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [k, r] : a) {
    const auto& o = b.at(k);
    EXPECT_EQ(r.ids, o.ids) << what << " example " << k.first << " sample " << k.second;
    EXPECT_EQ(r.text, o.text) << what;
    EXPECT_EQ(r.finish, o.finish) << what;
    EXPECT_NEAR(r.logprob, o.logprob, 1e-4) << what;
  }
}

TEST(Engine, ContinuousRefillSameAtAnyBatchSize) {
  auto reqs = varied_requests();
  g::Engine::Stats s1, s3, s8, sr;
  auto b1 = run_engine(sampling_options(1), reqs, &s1);
  auto b3 = run_engine(sampling_options(3), reqs, &s3);
  auto b8 = run_engine(sampling_options(8), reqs, &s8);
  expect_same(b1, b3, "batch 3");
  expect_same(b1, b8, "batch 8");
  // Any batch position: the requests reversed.
  auto rev = reqs;
  std::reverse(rev.begin(), rev.end());
  expect_same(b1, run_engine(sampling_options(3), rev), "batch 3 reversed");
  // The longest row is 13 + 14 = 27 tokens; a cache of 28 per row forces a rebuild at
  // nearly every refill.
  auto small = sampling_options(8);
  small.cache_capacity = 28;
  auto rb = run_engine(small, reqs, &sr);
  expect_same(b1, rb, "rebuilds");
  // Refilling only when 4 slots are free: fewer forward positions, same samples.
  auto lazy = sampling_options(8);
  lazy.refill_min_free = 4;
  g::Engine::Stats sl;
  expect_same(b1, run_engine(lazy, reqs, &sl), "refill_min_free 4");
  EXPECT_LE(sl.forward_positions, s8.forward_positions);
  EXPECT_GT(sr.cache_rebuilds, 0);
  EXPECT_EQ(s1.cache_rebuilds, 0);  // one row: a new prompt starts the cache over
  // One batch for all 12 requests (prompts 1..13 tokens, 14 new): the automatic capacity is
  // the longest prompt + 14 (no refill), and it needs no rebuild.
  g::Engine::Stats s12;
  expect_same(b1, run_engine(sampling_options(12), reqs, &s12), "batch 12");
  EXPECT_EQ(s12.cache_rebuilds, 0);
  EXPECT_EQ(s12.forward_calls, 14);
  // Sanity of the run itself: finish reasons are consistent with the ids; samples of the
  // same example differ; log-probabilities are the model's own.
  std::int64_t eos = 0, tokens = 0;
  for (const auto& [k, r] : b1) {
    ASSERT_FALSE(r.ids.empty());
    tokens += static_cast<std::int64_t>(r.ids.size());
    if (r.finish == g::Finish::eos) {
      ++eos;
      EXPECT_EQ(r.ids.back(), 3);
    } else {
      EXPECT_EQ(r.finish, g::Finish::length);
      EXPECT_EQ(r.ids.size(), 14u);
    }
    EXPECT_EQ(std::count(r.ids.begin(), r.ids.end() - 1, 3), 0);
  }
  EXPECT_EQ(s1.generated_tokens, tokens);
  EXPECT_EQ(s3.generated_tokens, tokens);
  EXPECT_EQ(s1.prompts, static_cast<std::int64_t>(reqs.size()));
  EXPECT_LT(s8.forward_calls, s1.forward_calls);
  EXPECT_NE(b1.at({20, 0}).ids, b1.at({20, 1}).ids);
  for (const auto& q : reqs) {
    const auto& r = b1.at({q.example_index, q.sample_index});
    EXPECT_NEAR(r.logprob, logprob_alone(*model64(), q.prompt_ids, r.ids), 1e-4);
  }
  std::cout << "[engine] " << tokens << " tokens; forwards at batch 1/3/8: " << s1.forward_calls
            << "/" << s3.forward_calls << "/" << s8.forward_calls
            << "; rebuilds with capacity 28: " << sr.cache_rebuilds << " (" << eos
            << " rows ended on EOS); positions computed at batch 8: " << s8.forward_positions
            << ", refilling 4 slots at a time: " << sl.forward_positions << "\n";
}

TEST(Engine, SeedSelectsTheSample) {
  auto reqs = varied_requests();
  auto a = run_engine(sampling_options(4), reqs);
  // The same (seed, example, sample) alone in a batch of 1 gives the same sample.
  for (std::size_t i : {0u, 5u, 11u}) {
    auto one = run_engine(sampling_options(1), {reqs[i]});
    const Key k{reqs[i].example_index, reqs[i].sample_index};
    EXPECT_EQ(one.at(k).ids, a.at(k).ids) << i;
  }
  auto o = sampling_options(4);
  o.sampling.seed = 43;
  auto b = run_engine(o, reqs);
  int differ = 0;
  for (const auto& [k, r] : a) differ += r.ids != b.at(k).ids ? 1 : 0;
  EXPECT_GE(differ, 6) << "a different seed should change most samples";
}

TEST(Engine, GreedyEqualsGreedyDecode) {
  auto reqs = varied_requests();
  auto o = sampling_options(3);
  o.sampling.greedy = true;
  o.sampling.repetition_penalty = 1.0;
  auto got = run_engine(o, reqs);
  std::vector<Ids> prompts;
  for (const auto& q : reqs) prompts.push_back(q.prompt_ids);
  g::DecodeOptions d;
  d.max_new_tokens = 14;
  d.eos_ids = {3};
  std::vector<Ids> want;
  {
    c10::InferenceMode guard;
    want = g::greedy_decode(*model64(), prompts, d);
  }
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(got.at({reqs[i].example_index, reqs[i].sample_index}).ids, want[i]) << i;
  }
}

TEST(Engine, LengthLimitsAndKeepEnd) {
  auto reqs = varied_requests();
  auto o = sampling_options(4);
  o.stop.eos_ids = {};
  o.stop.max_new_tokens = 6;
  o.stop.max_length = 10;  // prompts of 9..13 tokens leave 1 or 0 new tokens
  o.stop.max_prompt_length = 9;
  g::Engine::Stats st;
  auto got = run_engine(o, reqs, &st);
  auto base = sampling_options(4);
  base.stop.eos_ids = {};
  base.stop.max_new_tokens = 6;
  std::int64_t truncated = 0;
  for (const auto& q : reqs) {
    const auto& r = got.at({q.example_index, q.sample_index});
    const auto n = static_cast<std::int64_t>(q.prompt_ids.size());
    EXPECT_EQ(r.finish, g::Finish::length);
    EXPECT_EQ(r.prompt_tokens, std::min<std::int64_t>(n, 9));
    EXPECT_EQ(r.prompt_truncated, n > 9);
    truncated += n > 9 ? 1 : 0;
    EXPECT_EQ(static_cast<std::int64_t>(r.ids.size()),
              std::min<std::int64_t>(6, 10 - r.prompt_tokens))
        << n;
    // Truncation keeps the END: same as the last 9 tokens given as the prompt.
    g::Request cut = q;
    cut.prompt_ids.assign(q.prompt_ids.end() - r.prompt_tokens, q.prompt_ids.end());
    auto alone = run_engine(o, {cut});
    EXPECT_EQ(alone.begin()->second.ids, r.ids) << n;
    EXPECT_FALSE(alone.begin()->second.prompt_truncated);
  }
  EXPECT_EQ(st.truncated_prompts, truncated);
  EXPECT_GT(truncated, 0);
  // Prefix property: a shorter max_new_tokens gives a prefix of the longer run.
  auto longer = run_engine(base, reqs);
  for (const auto& q : reqs) {
    const auto& r = longer.at({q.example_index, q.sample_index});
    EXPECT_EQ(r.ids.size(), 6u);
    if (q.prompt_ids.size() <= 4) {
      EXPECT_EQ(r.ids, got.at({q.example_index, q.sample_index}).ids);
    }
  }
}

TEST(Engine, BadRequests) {
  auto o = sampling_options(2);
  g::Request empty;
  empty.example_index = 77;
  try {
    run_engine(o, {empty});
    FAIL() << "no error";
  } catch (const ram::DataError& e) {
    EXPECT_NE(ram::format_error(e).find("example 77"), std::string::npos) << ram::format_error(e);
  }
  g::Request big;
  big.prompt_ids = {1, 64};
  EXPECT_THROW(run_engine(o, {big}), ram::DataError);
  o.stop.stop_strings = {"x"};
  EXPECT_THROW(g::Engine(*model64(), nullptr, o), ram::ConfigError);  // no tokenizer
  o.stop.stop_strings = {};
  o.cache_capacity = 5;
  g::Request ok;
  ok.prompt_ids = {1, 2};
  EXPECT_THROW(run_engine(o, {ok}), ram::ConfigError);  // 2 + 14 does not fit in 5
}

// ---- stop strings, with a real tokenizer -------------------------------------------------

std::string tok_dir(const std::string& family) {
  return ram::test::env_or("RAM_TOKENIZERS_DIR", ram::test::binary_dir() + "/tokenizers") + "/" +
         family;
}

TEST(Engine, StopStringsCutTextAndIds) {
  c10::InferenceMode guard;
  const auto tok = ram::tok::Tokenizer::from_dir(tok_dir("gpt2"));
  auto spec = tiny_llama(tok.vocab_size(), 9);
  spec.hidden = 16;
  spec.layers = 1;
  spec.heads = 2;
  spec.kv_heads = 1;
  spec.intermediate = 16;
  spec.init_std = 0.02;  // flat distributions: varied text
  auto model = ram::model::make_tiny_model(spec);
  std::vector<g::Request> reqs;
  for (int e = 0; e < 6; ++e) {
    g::Request q;
    q.example_index = e;
    for (auto id :
         tok.encode("Human: tell me story number " + std::to_string(e) + "\n\nAssistant:", false)) {
      q.prompt_ids.push_back(id);
    }
    reqs.push_back(q);
  }
  g::EngineOptions o;
  o.batch_size = 4;
  o.sampling.temperature = 1.0;
  o.sampling.top_k = 200;
  o.sampling.top_p = 1.0;
  o.sampling.repetition_penalty = 1.0;
  o.stop.max_new_tokens = 24;
  o.stop.eos_ids = {};
  auto full = run_engine(o, reqs, nullptr, &tok, model.get());
  // Stop strings taken from the middle of each text (so they straddle token boundaries),
  // plus one that never occurs. The oracle: the first id prefix whose decoded text
  // contains a stop string, and that text cut before it.
  std::vector<std::string> stops = {"no such stop \x01"};
  for (const auto& [k, r] : full) {
    ASSERT_EQ(r.ids.size(), 24u);
    EXPECT_EQ(r.text, tok.decode(std::vector<std::int32_t>(r.ids.begin(), r.ids.end()), true));
    if (k.first % 2 == 0 && r.text.size() > 12)
      stops.push_back(r.text.substr(r.text.size() / 2, 5));
  }
  ASSERT_GE(stops.size(), 2u);
  o.stop.stop_strings = stops;
  auto cut = run_engine(o, reqs, nullptr, &tok, model.get());
  int stopped = 0;
  for (const auto& [k, r] : full) {
    const auto& c = cut.at(k);
    std::size_t want_n = r.ids.size(), want_pos = std::string::npos;
    for (std::size_t n = 1; n <= r.ids.size() && want_pos == std::string::npos; ++n) {
      const std::string text =
          tok.decode(std::vector<std::int32_t>(r.ids.begin(), r.ids.begin() + n), true);
      for (const auto& s : stops) want_pos = std::min(want_pos, text.find(s));
      if (want_pos != std::string::npos) {
        want_n = n;
        EXPECT_EQ(c.text, text.substr(0, want_pos)) << k.first;
      }
    }
    EXPECT_EQ(c.ids, Ids(r.ids.begin(), r.ids.begin() + static_cast<std::ptrdiff_t>(want_n)))
        << k.first;
    if (want_pos == std::string::npos) {
      EXPECT_EQ(c.finish, g::Finish::length);
      EXPECT_EQ(c.text, r.text);
    } else {
      ++stopped;
      EXPECT_EQ(c.finish, g::Finish::stop_string) << k.first;
      EXPECT_NEAR(c.logprob,
                  logprob_alone(*model, reqs[static_cast<std::size_t>(k.first)].prompt_ids, c.ids),
                  1e-4);
    }
  }
  EXPECT_GE(stopped, 3);
  // EOS (GPT-2's <|endoftext|>, special): a row ends at its first occurrence, EOS kept in
  // ids and left out of the text. Then an ordinary id (row 1's 4th) as the EOS.
  o.stop.stop_strings = {};
  o.stop.eos_ids = {50256};
  auto with_eos = run_engine(o, reqs, nullptr, &tok, model.get());
  for (const auto& [k, r] : full) {
    auto it = std::find(r.ids.begin(), r.ids.end(), 50256);
    const auto& e = with_eos.at(k);
    if (it == r.ids.end()) {
      EXPECT_EQ(e.ids, r.ids);
    } else {
      EXPECT_EQ(e.ids, Ids(r.ids.begin(), it + 1));
      EXPECT_EQ(e.finish, g::Finish::eos);
    }
  }
  o.stop.eos_ids = {full.at({1, 0}).ids[3]};
  auto r1 = run_engine(o, {reqs[1]}, nullptr, &tok, model.get()).at({1, 0});
  const auto& f1 = full.at({1, 0}).ids;
  const auto first = std::find(f1.begin(), f1.end(), f1[3]);
  EXPECT_EQ(r1.ids, Ids(f1.begin(), first + 1));
  EXPECT_EQ(r1.finish, g::Finish::eos);
  EXPECT_EQ(r1.text, tok.decode(std::vector<std::int32_t>(r1.ids.begin(), r1.ids.end()), true));
}

TEST(Engine, Throughput) {
  // A figure for the log (tokens/s of a tiny model at batch 8); nothing is asserted on time.
  auto reqs = varied_requests();
  auto o = sampling_options(8);
  o.stop.eos_ids = {};
  o.stop.max_new_tokens = 64;
  g::Engine::Stats st;
  const auto t0 = std::chrono::steady_clock::now();
  run_engine(o, reqs, &st);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout
      << "[engine] tiny llama (hidden 32, 2 layers, vocab 64), batch 8, 12 requests × 64 tokens: "
      << st.generated_tokens / s << " tokens/s, " << st.forward_calls << " forwards\n";
  EXPECT_EQ(st.generated_tokens, 12 * 64);
}

}  // namespace
