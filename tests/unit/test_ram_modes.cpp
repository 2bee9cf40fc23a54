// RAM decoding (issue 6): the joint step (framework/src/generate/ram_modes), the engine with
// a proposal in lockstep, and resample's weights. Oracles:
// - the joint step: each mode's warped logits recomputed here in float64 by plain loops
//   (sort, softmax, cumulative sums) from ram-method.md's formulas, per row;
// - sampling: token frequencies of 40 000 counter-based draws through joint step + FastChat
//   chain + inverse CDF against the distribution computed here (chi-square, fixed seed, with
//   the p = 0.001 critical value), and no draw outside the support;
// - the engine: with div_threshold 0, par_kl is the proposal decoding alone; with the
//   aligner as its own proposal and base_top_p 1 it is the aligner alone (greedy, ids and
//   log-probabilities); batch sizes 1 and 3 agree;
// - resample: ESS = N for equal weights, → 1 for one dominating sample, always in [1, N].
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include "generate/decoder.hpp"
#include "generate/engine.hpp"
#include "generate/processors.hpp"
#include "generate/ram_modes.hpp"
#include "generate/resample.hpp"
#include "generate/rng.hpp"
#include "model/tiny.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"

namespace {

namespace g = ram::generate;
using Row = std::vector<double>;
using Ids = std::vector<std::int64_t>;
const double kInf = std::numeric_limits<double>::infinity();

Row row_of(const at::Tensor& t, std::int64_t r) {
  at::Tensor x = t[r].to(at::kDouble).contiguous();
  return Row(x.data_ptr<double>(), x.data_ptr<double>() + x.numel());
}

Row log_softmax(const Row& x) {
  double mx = -kInf;
  for (double v : x) mx = std::max(mx, v);
  double s = 0;
  for (double v : x) s += std::exp(v - mx);
  Row out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] - mx - std::log(s);
  return out;
}

Row softmax(const Row& x) {
  Row l = log_softmax(x);
  for (double& v : l) v = std::exp(v);
  return l;
}

// The proposal's nucleus by hand: descending order of m / T, keep a token while the mass of
// the tokens before it is < top_p (the first crossing one stays), at most k (k ≤ 0: all).
std::vector<bool> nucleus(const Row& m, double T, double top_p, std::int64_t k) {
  Row x(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) x[i] = m[i] / T;
  std::vector<std::size_t> order(m.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] > x[b]; });
  const std::size_t kk = k > 0 ? std::min<std::size_t>(static_cast<std::size_t>(k), m.size()) : m.size();
  Row top(kk);
  for (std::size_t j = 0; j < kk; ++j) top[j] = x[order[j]];
  Row p = softmax(top);
  std::vector<bool> keep(m.size(), false);
  double before = 0;
  for (std::size_t j = 0; j < kk; ++j) {
    if (j > 0 && before >= top_p) break;
    keep[order[j]] = true;
    before += p[j];
  }
  return keep;
}

double kl(const Row& m, const Row& q) {
  Row lm = log_softmax(m), lq = log_softmax(q);
  double s = 0;
  for (std::size_t i = 0; i < m.size(); ++i) s += std::exp(lm[i]) * (lm[i] - lq[i]);
  return s;
}

// ram-method.md's warped logits of one row.
Row warped(const Row& q, const Row& m, const g::JointParams& p, const Ids& eos) {
  Row out(q.size());
  auto restricted = [&] {
    auto keep = nucleus(m, p.base_temperature, p.base_top_p, p.base_top_k);
    for (std::size_t i = 0; i < q.size(); ++i) out[i] = keep[i] ? q[i] : -kInf;
  };
  if (p.mode == g::JointMode::par) {
    restricted();
  } else if (p.mode == g::JointMode::par_kl) {
    if (kl(m, q) <= p.div_threshold) restricted();
    else out = m;
  } else {  // mds
    Row a(m.size()), b(q.size());
    for (std::size_t i = 0; i < m.size(); ++i) a[i] = m[i] / p.base_temperature;
    for (std::size_t i = 0; i < q.size(); ++i) b[i] = q[i] / p.expert_temperature;
    Row pa = softmax(a), pb = softmax(b);
    double z = 0;
    for (std::size_t i = 0; i < q.size(); ++i) z += pa[i] * pb[i];
    for (std::size_t i = 0; i < q.size(); ++i) out[i] = std::log(pa[i] * pb[i] / z + 1e-10);
  }
  const bool eos_on = p.mode == g::JointMode::par || p.eos_priority;
  const auto top = static_cast<std::int64_t>(std::max_element(m.begin(), m.end()) - m.begin());
  if (eos_on && std::find(eos.begin(), eos.end(), top) != eos.end()) {
    std::fill(out.begin(), out.end(), -kInf);
    out[static_cast<std::size_t>(top)] = 0;
  }
  return out;
}

void expect_rows_near(const at::Tensor& got, std::int64_t r, const Row& want, double tol) {
  Row g_ = row_of(got, r);
  ASSERT_EQ(g_.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::isinf(want[i])) {
      EXPECT_TRUE(std::isinf(g_[i]) && g_[i] < 0) << "row " << r << " id " << i;
    } else {
      EXPECT_NEAR(g_[i], want[i], tol * (1 + std::abs(want[i]))) << "row " << r << " id " << i;
    }
  }
}

g::JointParams params(g::JointMode mode) {
  g::JointParams p;
  p.mode = mode;
  p.base_temperature = 0.7;
  p.base_top_p = 0.8;
  p.div_threshold = 0.1;
  p.expert_temperature = 1.3;
  return p;
}

TEST(JointStep, KlPerRowMatchesHandComputation) {
  at::manual_seed(3);
  at::Tensor m = at::randn({4, 30}) * 2, q = at::randn({4, 30}) * 2;
  at::Tensor got = g::kl_rows(m, q);
  for (std::int64_t r = 0; r < 4; ++r)
    EXPECT_NEAR(got[r].item<double>(), kl(row_of(m, r), row_of(q, r)), 1e-5);
}

TEST(JointStep, EachModeMatchesTheFormulas) {
  c10::InferenceMode guard;
  at::manual_seed(11);
  const std::int64_t B = 6, V = 40;
  at::Tensor m = at::randn({B, V}) * 2.5;
  // Rows 0–2: the aligner close to the proposal (KL small: par_kl's restricted branch);
  // rows 3–5: far (the proposal's own logits).
  at::Tensor q = m + at::randn({B, V}) * 0.15;
  q.narrow(0, 3, 3).copy_(at::randn({3, V}) * 3);
  const Ids eos = {7};
  m[4][7] = 50.0f;  // row 4: the proposal's arg-max is EOS
  for (auto mode : {g::JointMode::par, g::JointMode::par_kl, g::JointMode::mds}) {
    for (bool eos_flag : {false, true}) {
      for (std::int64_t k : {std::int64_t{0}, std::int64_t{5}}) {
        g::JointParams p = params(mode);
        p.eos_priority = eos_flag;
        p.base_top_k = k;
        g::JointInfo info;
        at::Tensor got = g::joint_step(q, m, p, eos, &info);
        for (std::int64_t r = 0; r < B; ++r)
          expect_rows_near(got, r, warped(row_of(q, r), row_of(m, r), p, eos), 1e-5);
        const bool eos_on = mode == g::JointMode::par || eos_flag;
        EXPECT_EQ(info.eos_forced[4], eos_on ? 1 : 0) << g::to_string(mode);
        if (mode == g::JointMode::par_kl) {
          for (std::int64_t r = 0; r < B; ++r) {
            const bool near = kl(row_of(m, r), row_of(q, r)) <= p.div_threshold;
            EXPECT_EQ(info.restricted[r], near ? 1 : 0) << "row " << r;
          }
          // Per sequence: both branches occur in this batch (the original decided for all
          // rows from row 0).
          EXPECT_EQ(info.restricted[0], 1);
          EXPECT_EQ(info.restricted[3], 0);
        }
      }
    }
  }
}

TEST(JointStep, SingleCandidateAndBadValues) {
  at::Tensor m = at::zeros({1, 5}), q = at::arange(5, at::kFloat).unsqueeze(0).contiguous();
  m[0][2] = 30.0f;  // the nucleus is {2} alone
  g::JointParams p = params(g::JointMode::par);
  at::Tensor got = g::joint_step(q, m, p, {});
  EXPECT_EQ(g::finite_candidates(got), 1);
  EXPECT_EQ(got.argmax(-1).item<std::int64_t>(), 2);
  p.base_top_p = 0;
  EXPECT_THROW(g::check(p), ram::ConfigError);
  EXPECT_THROW(g::parse_joint_mode("kl"), ram::ConfigError);
  EXPECT_THROW(g::joint_step(q, at::zeros({1, 6}), params(g::JointMode::mds), {}), ram::DataError);
}

// Distribution after joint step + FastChat chain (temperature → repetition_penalty → top_p),
// by hand, in float64.
Row chain_probs(Row w, double t, double rp, const Ids& seen, double top_p) {
  for (double& v : w) v /= t;
  for (auto id : seen) {
    double& v = w[static_cast<std::size_t>(id)];
    if (!std::isinf(v)) v = v < 0 ? v * rp : v / rp;
  }
  // HF top-p: ascending, remove where cumulative ≤ 1 − top_p (the largest always stays).
  std::vector<std::size_t> order(w.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return w[a] < w[b]; });
  Row p = softmax(w), cut = w;
  double cum = 0;
  for (std::size_t j = 0; j + 1 < order.size(); ++j) {
    cum += p[order[j]];
    if (cum <= 1 - top_p) cut[order[j]] = -kInf;
  }
  return softmax(cut);
}

TEST(JointStep, SampledFrequenciesMatchTheWarpedDistribution) {
  c10::InferenceMode guard;
  at::manual_seed(21);
  const std::int64_t V = 16, draws = 40000;
  at::Tensor m = at::randn({1, V}) * 1.5;
  at::Tensor q_near = m + at::randn({1, V}) * 0.2, q_far = at::randn({1, V}) * 2;
  const Ids seen = {1, 4, 9};
  const double t = 0.8, rp = 1.3, top_p = 0.97;
  struct Case {
    g::JointMode mode;
    at::Tensor q;
  };
  for (const Case& c : {Case{g::JointMode::par, q_far}, Case{g::JointMode::par_kl, q_near},
                        Case{g::JointMode::par_kl, q_far}, Case{g::JointMode::mds, q_far}}) {
    g::JointParams p = params(c.mode);
    p.base_top_p = 0.9;
    at::Tensor w = g::joint_step(c.q, m, p, {});
    g::SamplingParams sp;
    sp.temperature = t;
    sp.repetition_penalty = rp;
    sp.top_p = top_p;
    sp.top_k = 0;
    sp.order = g::generate_order();
    g::Chain chain(sp, 1, V);
    chain.start(0, seen);
    chain.apply(w);
    const Row want = chain_probs(warped(row_of(c.q, 0), row_of(m, 0), p, {}), t, rp, seen, top_p);
    std::vector<std::int64_t> count(static_cast<std::size_t>(V), 0);
    at::Tensor u = at::empty({1, 1}, at::kDouble);
    for (std::int64_t k = 0; k < draws; ++k) {
      u.fill_(g::draw_uniform(77, 3, 0, k));
      ++count[static_cast<std::size_t>(g::sample_inverse_cdf(w, u, chain.finite_bound()).item<std::int64_t>())];
    }
    double chi2 = 0;
    int cells = 0;
    for (std::int64_t v = 0; v < V; ++v) {
      const double e = want[static_cast<std::size_t>(v)] * static_cast<double>(draws);
      if (want[static_cast<std::size_t>(v)] == 0) {
        EXPECT_EQ(count[static_cast<std::size_t>(v)], 0) << "id " << v << " is outside the support";
        continue;
      }
      chi2 += (count[static_cast<std::size_t>(v)] - e) * (count[static_cast<std::size_t>(v)] - e) / e;
      ++cells;
    }
    // Critical value at p = 0.001 (Wilson–Hilferty), df = cells − 1.
    const double df = std::max(cells - 1, 1), z = 3.090;
    const double crit = df * std::pow(1 - 2 / (9 * df) + z * std::sqrt(2 / (9 * df)), 3);
    EXPECT_LT(chi2, crit) << g::to_string(c.mode) << ": chi-square " << chi2 << " over " << cells
                          << " cells";
    EXPECT_GE(cells, 2) << "a degenerate case tests nothing";
  }
}

TEST(Resample, EffectiveSampleSize) {
  std::vector<double> w;
  EXPECT_NEAR(g::importance_weights({-3, -3, -3, -3}, 1.0, w), 4.0, 1e-12);
  EXPECT_NEAR(g::importance_weights({0, -200, -300}, 1.0, w), 1.0, 1e-12);
  double ess = g::importance_weights({-10.5, -12.0, -9.0, -30.0, -11.0}, 2.0, w);
  EXPECT_GE(ess, 1.0);
  EXPECT_LE(ess, 5.0);
  EXPECT_NEAR(std::accumulate(w.begin(), w.end(), 0.0), 1.0, 1e-12);
  EXPECT_NEAR(w[0] / w[1], std::exp((-10.5 + 12.0) / 2.0), 1e-9);  // w ∝ exp(log Q / T)
}

TEST(JointVocab, PaddingRowsAndMismatch) {
  EXPECT_EQ(g::joint_vocab(151936, 152064, "a", "b", "sha256:x", "sha256:x", 151665), 151665);
  EXPECT_EQ(g::joint_vocab(64, 64, "a", "b", "", "", -1), 64);
  try {
    g::joint_vocab(64, 64, "/m/aligner", "/m/proposal", "sha256:x", "sha256:y", 60);
    FAIL() << "no error";
  } catch (const ram::ConfigError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("tokenizer mismatch"), std::string::npos) << w;
    EXPECT_NE(w.find("/m/aligner"), std::string::npos) << w;
    EXPECT_NE(w.find("/m/proposal"), std::string::npos) << w;
  }
  EXPECT_THROW(g::joint_vocab(64, 72, "a", "b", "", "", -1), ram::ConfigError);
  EXPECT_THROW(g::joint_vocab(64, 72, "a", "b", "", "", 70), ram::ConfigError);
}

// ---- the engine in lockstep ------------------------------------------------------------

std::shared_ptr<ram::CausalLM> tiny(std::int64_t seed, std::int64_t layers, std::int64_t vocab) {
  ram::model::TinySpec s;
  s.arch = "llama";
  s.vocab = vocab;
  s.hidden = 32;
  s.layers = layers;
  s.heads = 4;
  s.kv_heads = 2;
  s.intermediate = 48;
  s.seed = seed;
  s.init_std = 0.2;
  c10::InferenceMode guard;
  return ram::model::make_tiny_model(s);
}

std::vector<g::Request> requests() {
  std::vector<g::Request> r;
  for (std::int64_t i = 0; i < 5; ++i) {
    Ids p;
    for (std::int64_t j = 0; j <= i * 2; ++j) p.push_back((i * 11 + j * 5 + 1) % 60);
    r.push_back({i, 0, p});
  }
  return r;
}

std::map<std::int64_t, g::Result> run(g::Engine& e) {
  std::map<std::int64_t, g::Result> out;
  e.run(requests(), [&](g::Result&& r) { out[r.example_index] = std::move(r); });
  return out;
}

g::EngineOptions greedy_options(std::int64_t batch) {
  g::EngineOptions o;
  o.batch_size = batch;
  o.sampling.greedy = true;
  o.sampling.top_k = 0;
  o.sampling.top_p = 1.0;
  o.sampling.repetition_penalty = 1.0;
  o.sampling.order = g::generate_order();
  o.stop.max_new_tokens = 7;
  o.stop.max_length = 64;
  o.stop.max_prompt_length = 32;
  o.stop.eos_ids = {3};
  return o;
}

TEST(EngineLockstep, LimitsOfParKl) {
  c10::InferenceMode guard;
  auto aligner = tiny(5, 1, 64), proposal = tiny(9, 2, 72);  // 72: 8 padding rows
  g::EngineOptions plain = greedy_options(2);
  plain.vocab = 64;
  g::Engine prop_alone(*proposal, nullptr, plain);
  g::Engine aligner_alone(*aligner, nullptr, plain);
  auto want_p = run(prop_alone), want_a = run(aligner_alone);

  for (std::int64_t batch : {1, 3}) {
    g::EngineOptions o = greedy_options(batch);
    o.vocab = 64;
    o.joint = params(g::JointMode::par_kl);
    o.joint.div_threshold = 0.0;  // KL > 0 at every step: always the proposal's logits
    g::Engine e(*aligner, proposal.get(), nullptr, o);
    auto got = run(e);
    ASSERT_EQ(got.size(), want_p.size());
    for (auto& [i, r] : got) {
      EXPECT_EQ(r.ids, want_p[i].ids) << "example " << i << " batch " << batch;
      EXPECT_NEAR(r.proposal_logprob, want_p[i].logprob, 1e-4);
      EXPECT_EQ(r.restricted_steps, 0);
    }
    EXPECT_EQ(e.stats().restricted_steps, 0);
    EXPECT_GT(e.stats().joint_steps, 0);

    g::EngineOptions same = greedy_options(batch);
    same.joint = params(g::JointMode::par_kl);
    same.joint.base_top_p = 1.0;  // the nucleus is the whole vocabulary
    g::Engine self(*aligner, aligner.get(), nullptr, same);  // KL = 0: always the aligner branch
    auto got_a = run(self);
    for (auto& [i, r] : got_a) {
      EXPECT_EQ(r.ids, want_a[i].ids) << "example " << i << " batch " << batch;
      EXPECT_NEAR(r.logprob, want_a[i].logprob, 1e-4);
      EXPECT_NEAR(r.proposal_logprob, want_a[i].logprob, 1e-4);
      EXPECT_EQ(r.restricted_steps, static_cast<std::int64_t>(r.ids.size()));
    }
  }
}

TEST(EngineLockstep, SamplingDoesNotDependOnBatchSize) {
  c10::InferenceMode guard;
  auto aligner = tiny(5, 1, 64), proposal = tiny(9, 2, 64);
  std::map<std::int64_t, g::Result> first;
  for (std::int64_t batch : {1, 2, 5}) {
    for (auto mode : {g::JointMode::par, g::JointMode::par_kl, g::JointMode::mds}) {
      g::EngineOptions o = greedy_options(batch);
      o.sampling.greedy = false;
      o.sampling.temperature = 0.9;
      o.sampling.top_p = 0.95;
      o.sampling.repetition_penalty = 1.1;
      o.sampling.seed = 4;
      o.joint = params(mode);
      o.joint.div_threshold = 0.5;
      g::Engine e(*aligner, proposal.get(), nullptr, o);
      auto got = run(e);
      for (auto& [i, r] : got) {
        const std::int64_t key = i * 10 + static_cast<std::int64_t>(mode);
        if (batch == 1) first[key] = r;
        else EXPECT_EQ(r.ids, first[key].ids) << g::to_string(mode) << " example " << i << " batch " << batch;
      }
    }
  }
}

TEST(EngineLockstep, ResampleReportsEss) {
  c10::InferenceMode guard;
  auto aligner = tiny(5, 1, 64), proposal = tiny(9, 2, 64);
  g::DecodeSettings s;
  s.engine = greedy_options(4);
  s.engine.sampling.greedy = false;
  s.engine.joint = params(g::JointMode::resample);
  s.engine.joint.base_temperature = 1.0;
  s.engine.joint.base_top_p = 1.0;
  s.engine.joint.expert_temperature = 1.0;
  s.num_candidates = 6;
  g::Decoder d(*aligner, proposal.get(), nullptr, s);
  std::int64_t n = 0;
  d.run(requests(), [&](g::Output&& o) {
    ++n;
    EXPECT_GE(o.ess, 1.0 - 1e-9);
    EXPECT_LE(o.ess, 6.0 + 1e-9);
    ASSERT_EQ(o.weights.size(), 6u);
    EXPECT_GE(o.chosen, 0);
    EXPECT_LT(o.chosen, 6);
    EXPECT_GT(o.weights[static_cast<std::size_t>(o.chosen)], 0.0);
    EXPECT_FALSE(o.ids.empty());
  });
  EXPECT_EQ(n, 5);
}

}  // namespace
