// The sft objective (loaded through the registry) and the log-prob helper it uses.
// Oracles: tests/python/sft_reference.py recomputes the loss from the same logits with torch
// (and must reject a deliberately wrong loss); the closed-form gradient of the NLL w.r.t.
// the logits, softmax − onehot on scored positions, checked by autograd and by finite
// differences; shape errors are ram::Error.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/compose.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "ram/objective.hpp"
#include "test_util.hpp"

namespace {

constexpr std::int64_t kVocab = 11, kDim = 8, kMaxPos = 16;

// A tiny causal LM: logits[b,t] = W · (E[ids[b,t]] + P[positions[b,t]]) + bias. Not
// causal in any interesting way, but positions matter, so a wrong position convention
// changes the logits.
class TinyLM : public ram::CausalLM {
 public:
  explicit TinyLM(std::uint64_t seed) {
    at::manual_seed(seed);
    emb_ = register_parameter("embed", at::randn({kVocab, kDim}));
    pos_ = register_parameter("pos", at::randn({kMaxPos, kDim}));
    out_ = register_parameter("out", at::randn({kVocab, kDim}));
    bias_ = register_parameter("bias", at::randn({kVocab}));
  }
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor&,
                     ram::KVCache*) override {
    at::Tensor h = at::embedding(emb_, ids) + at::embedding(pos_, positions);  // [B,T,D]
    return at::matmul(h, out_.t()) + bias_;                                     // [B,T,V]
  }
  std::int64_t vocab_size() const override { return kVocab; }
  std::string describe() const override { return "tiny"; }

 private:
  at::Tensor emb_, pos_, out_, bias_;
};

// A "model" that returns fixed logits (a leaf tensor), to take gradients w.r.t. logits.
class FixedLogits : public ram::CausalLM {
 public:
  explicit FixedLogits(at::Tensor logits) : logits_(std::move(logits)) {}
  at::Tensor forward(const at::Tensor&, const at::Tensor&, const at::Tensor&, ram::KVCache*) override {
    return logits_;
  }
  std::int64_t vocab_size() const override { return logits_.size(2); }
  std::string describe() const override { return "fixed"; }
  at::Tensor logits_;
};

struct Row {
  int prompt_len, length;  // tokens [0,prompt_len) are prompt, [prompt_len,length) response
};

// Right-padded batch; ids random (seeded), pad id 0, loss_mask 1 on response tokens.
ram::TokenBatch make_batch(const std::vector<Row>& rows, std::int64_t T) {
  const auto B = static_cast<std::int64_t>(rows.size());
  at::manual_seed(7);
  ram::TokenBatch b;
  b.ids = at::randint(1, kVocab, {B, T}, at::kLong);
  b.attention = at::zeros({B, T}, at::kLong);
  b.loss_mask = at::zeros({B, T}, at::kFloat);
  for (std::int64_t i = 0; i < B; ++i) {
    const Row& r = rows[static_cast<std::size_t>(i)];
    b.attention.index_put_({i, at::indexing::Slice(0, r.length)}, 1);
    b.ids.index_put_({i, at::indexing::Slice(r.length, T)}, 0);
    b.loss_mask.index_put_({i, at::indexing::Slice(r.prompt_len, r.length)}, 1.0);
  }
  return b;
}

const std::vector<Row> kRows = {{2, 7}, {3, 5}, {1, 3}};  // T = 7: rows 1 and 2 padded
constexpr std::int64_t kT = 7;

std::shared_ptr<ram::Objective> make_sft() {
  auto root = ram::config::parse_yaml("loss:\n  name: sft\n", "test.yaml");
  return ram::plugin::Registry::instance().make_objective("sft", ram::ConfigView(root).child("loss"));
}

// Positions as the model contract defines them, computed here by a plain loop.
at::Tensor positions_of(const std::vector<Row>& rows, std::int64_t T) {
  at::Tensor p = at::zeros({static_cast<std::int64_t>(rows.size()), T}, at::kLong);
  auto a = p.accessor<std::int64_t, 2>();
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::int64_t t = 0; t < T; ++t) a[static_cast<std::int64_t>(i)][t] = std::min<std::int64_t>(t, rows[i].length - 1);
  return p;
}

template <class T>
nlohmann::json to_json(const at::Tensor& x) {
  at::Tensor c = x.contiguous();
  std::vector<T> flat(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
  nlohmann::json j = flat;
  return {{"shape", c.sizes().vec()}, {"data", j}};
}

// Writes the case file and runs the Python reference on it; returns (exit code, output).
ram::test::RunResult run_reference(const nlohmann::json& doc, const std::string& tag) {
  std::string path = ram::test::temp_dir("sft") + "/" + tag + ".json";
  ram::test::write_file(path, doc.dump());
  return ram::test::run(ram::test::python() + " " + ram::test::source_dir() +
                        "/tests/python/sft_reference.py " + path);
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ram::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<another exception: ") + e.what() + ">";
  }
  return "<no error>";
}

}  // namespace

TEST(Sft, LossMatchesTorchReference) {
  TinyLM model(1234);
  ram::TokenBatch batch = make_batch(kRows, kT);
  auto sft = make_sft();
  EXPECT_FALSE(sft->needs_rejected());
  EXPECT_FALSE(sft->needs_reference());
  ram::ObjectiveResult r = sft->compute(model, nullptr, {batch, {}});
  ASSERT_EQ(r.count, 3);
  ASSERT_TRUE(r.loss_sum.requires_grad());

  at::Tensor logits = model.forward(batch.ids, positions_of(kRows, kT), batch.attention, nullptr).detach();
  nlohmann::json doc;
  doc["ids"] = to_json<std::int64_t>(batch.ids);
  doc["attention"] = to_json<std::int64_t>(batch.attention);
  doc["loss_mask"] = to_json<float>(batch.loss_mask);
  doc["logits"] = to_json<float>(logits);
  doc["prompt_len"] = {2, 3, 1};
  doc["loss_sum"] = r.loss_sum.item<double>();
  doc["metric_loss"] = r.metric_sums.at("loss").item<double>();
  doc["logps_chosen"] = r.metric_sums.at("logps/chosen").item<double>();
  doc["tokens"] = r.metric_sums.at("tokens").item<double>();
  doc["count"] = r.count;

  auto ok = run_reference(doc, "good");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;

  // The oracle must be able to say no: a loss off by 0.1%.
  doc["loss_sum"] = r.loss_sum.item<double>() * 1.001;
  auto bad = run_reference(doc, "bad");
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("loss_sum"), std::string::npos) << bad.output;
}

TEST(Sft, MetricsAreConsistentSums) {
  TinyLM model(99);
  ram::TokenBatch batch = make_batch(kRows, kT);
  ram::ObjectiveResult r = make_sft()->compute(model, nullptr, {batch, {}});
  EXPECT_NEAR(r.metric_sums.at("loss").item<double>(), r.loss_sum.item<double>(), 1e-6);
  EXPECT_NEAR(r.metric_sums.at("logps/chosen").item<double>(), -r.loss_sum.item<double>(), 1e-5);
  EXPECT_EQ(r.metric_sums.at("tokens").item<double>(), 5 + 2 + 2);  // response lengths
  EXPECT_FALSE(r.metric_sums.at("loss").requires_grad());
  EXPECT_GT(r.loss_sum.item<double>(), 0.0);  // −log p of 9 tokens of an 11-way softmax
}

TEST(Sft, ConfigTypoIsConfigError) {
  auto root = ram::config::parse_yaml("loss:\n  name: sft\n  alpah: 0.1\n", "test.yaml");
  EXPECT_THROW(ram::plugin::Registry::instance().make_objective("sft", ram::ConfigView(root).child("loss")),
               ram::ConfigError);
}

TEST(Sft, GradientWrtLogitsIsSoftmaxMinusOnehotOnScoredPositions) {
  ram::TokenBatch batch = make_batch(kRows, kT);
  at::manual_seed(3);
  at::Tensor logits = (at::randn({3, kT, kVocab}) * 2).set_requires_grad(true);
  FixedLogits model(logits);
  ram::ObjectiveResult r = make_sft()->compute(model, nullptr, {batch, {}});
  r.loss_sum.backward();
  at::Tensor grad = logits.grad();

  // d(−Σ mask[t] log softmax(l[t−1])[y_t]) / d l[s] = mask[s+1] · (softmax(l[s]) − onehot(y_{s+1})).
  at::Tensor expected = at::zeros_like(logits);
  at::Tensor p = at::softmax(logits.detach(), -1);
  for (std::int64_t b = 0; b < 3; ++b)
    for (std::int64_t s = 0; s + 1 < kT; ++s) {
      float m = batch.loss_mask[b][s + 1].item<float>();
      if (m == 0) continue;
      at::Tensor row = p[b][s].clone();
      row[batch.ids[b][s + 1].item<std::int64_t>()] -= 1;
      expected[b][s].copy_(row);
    }
  EXPECT_TRUE(at::allclose(grad, expected, 1e-5, 1e-6)) << (grad - expected).abs().max();
  EXPECT_EQ(grad[0][0].abs().sum().item<float>(), 0.0f);       // prompt → not scored
  EXPECT_EQ(grad[1][5].abs().sum().item<float>(), 0.0f);       // padding
  EXPECT_EQ(grad.select(1, kT - 1).abs().sum().item<float>(), 0.0f);  // last position unused

  // Finite differences on a few scored and unscored entries (double the loss via float32:
  // central differences with h = 1e-2 agree to ~1e-3).
  auto loss_at = [&](const at::Tensor& l) {
    FixedLogits m(l);
    return make_sft()->compute(m, nullptr, {batch, {}}).loss_sum.item<double>();
  };
  const std::int64_t probes[][3] = {{0, 1, 0}, {0, 4, 5}, {1, 2, 10}, {2, 1, 3}, {2, 4, 1}, {0, 0, 2}};
  const double h = 1e-2;
  for (auto& pr : probes) {
    at::Tensor plus = logits.detach().clone(), minus = logits.detach().clone();
    plus[pr[0]][pr[1]][pr[2]] += h;
    minus[pr[0]][pr[1]][pr[2]] -= h;
    double fd = (loss_at(plus) - loss_at(minus)) / (2 * h);
    double an = grad[pr[0]][pr[1]][pr[2]].item<double>();
    EXPECT_NEAR(fd, an, 2e-3) << "at [" << pr[0] << "," << pr[1] << "," << pr[2] << "]";
  }
}

TEST(LogProb, BatchLogprobUsesRunningPositions) {
  // batch_logprob = sequence_logprob of the logits at positions min(t, length−1).
  TinyLM model(5);
  ram::TokenBatch batch = make_batch(kRows, kT);
  at::Tensor via_helper = ram::batch_logprob(model, batch);
  at::Tensor logits = model.forward(batch.ids, positions_of(kRows, kT), batch.attention, nullptr);
  EXPECT_TRUE(at::allclose(via_helper, ram::sequence_logprob(logits, batch), 1e-6, 1e-6));
  // The oracle can fail: positions shifted by one (counting from 1) give other log-probs.
  at::Tensor shifted = model.forward(batch.ids, positions_of(kRows, kT) + 1, batch.attention, nullptr);
  EXPECT_FALSE(at::allclose(via_helper, ram::sequence_logprob(shifted, batch), 1e-4, 1e-4));
}

TEST(LogProb, ShapeMismatchesAreErrors) {
  ram::TokenBatch batch = make_batch(kRows, kT);
  at::Tensor logits = at::zeros({3, kT, kVocab});
  auto msg = error_of([&] { ram::sequence_logprob(logits.slice(1, 0, kT - 1), batch); });
  EXPECT_NE(msg.find("logits [3,6,11] do not match ids [3,7]"), std::string::npos) << msg;
  msg = error_of([&] { ram::sequence_logprob(logits.select(2, 0), batch); });
  EXPECT_NE(msg.find("want [B,T,V]"), std::string::npos) << msg;
  ram::TokenBatch bad = batch;
  bad.loss_mask = batch.loss_mask.slice(0, 0, 2);
  msg = error_of([&] { ram::sequence_logprob(logits, bad); });
  EXPECT_NE(msg.find("loss_mask [2,7] does not match ids [3,7]"), std::string::npos) << msg;
  bad = batch;
  bad.ids = batch.ids.clone();
  bad.ids[0][3] = kVocab;
  msg = error_of([&] { ram::sequence_logprob(logits, bad); });
  EXPECT_NE(msg.find("outside the vocabulary"), std::string::npos) << msg;
  bad = batch;
  bad.attention = at::Tensor();
  TinyLM model(1);
  msg = error_of([&] { ram::batch_logprob(model, bad); });
  EXPECT_NE(msg.find("attention is undefined"), std::string::npos) << msg;
}

TEST(LogProb, UniformLogitsGiveMinusLogVPerScoredToken) {
  // Closed form: every scored token costs log V under uniform logits.
  ram::TokenBatch batch = make_batch(kRows, kT);
  at::Tensor lp = ram::sequence_logprob(at::zeros({3, kT, kVocab}), batch);
  const double lv = std::log(static_cast<double>(kVocab));
  EXPECT_NEAR(lp[0].item<double>(), -5 * lv, 1e-5);
  EXPECT_NEAR(lp[1].item<double>(), -2 * lv, 1e-5);
  EXPECT_NEAR(lp[2].item<double>(), -2 * lv, 1e-5);
}
