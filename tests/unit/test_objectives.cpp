// The pairwise objectives ram_sft, dpo, ipo and ram_dpo (loaded through the registry) and
// the concatenated forward they share (ram::pair_logprob).
// Oracles: tests/python/objectives_reference.py recomputes, for every objective and several
// configs, the loss, every metric and the gradient w.r.t. two policy parameters from the
// saved tiny llamas with its own model code and torch autograd (and must reject a
// tampered metric and gradient); closed forms (policy = reference: DPO loss log 2 per
// pair, IPO loss 1/(2β)²); one concatenated forward = two forwards, values and gradients;
// missing rejected / reference, mismatched pairs and bad config are clear errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/compose.hpp"
#include "ram/nn.hpp"
#include "model/tiny.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "ram/objective.hpp"
#include "ram/safetensors.hpp"
#include "test_util.hpp"

namespace {

using Json = nlohmann::json;
constexpr std::int64_t kVocab = 64;

ram::model::TinySpec tiny_llama(std::int64_t seed) {
  ram::model::TinySpec s;
  s.arch = "llama";
  s.vocab = kVocab;
  s.hidden = 32;
  s.layers = 2;
  s.heads = 4;
  s.kv_heads = 2;
  s.intermediate = 48;
  s.seed = seed;
  s.init_std = 0.2;
  return s;
}

// The policy and the frozen reference: two different random tiny llamas.
ram::CausalLM& policy() {
  static std::shared_ptr<ram::CausalLM> m = ram::model::make_tiny_model(tiny_llama(21));
  return *m;
}
ram::CausalLM& reference() {
  static std::shared_ptr<ram::CausalLM> m = ram::model::make_tiny_model(tiny_llama(22));
  return *m;
}

at::Tensor param(ram::CausalLM& m, const std::string& name) {
  return m.named_parameters()[name];
}

const std::vector<std::string> kGradParams = {"model.layers.0.self_attn.q_proj.weight",
                                              "model.norm.weight"};

struct Row {
  int prompt_len, length;  // tokens [0,prompt_len) prompt, [prompt_len,length) response
};

// Right-padded batch (pad id 0). Prompts are drawn from `prompt_seed` so chosen and
// rejected rows share their prompt; responses from `response_seed`.
ram::TokenBatch make_batch(const std::vector<Row>& rows, std::int64_t T, std::uint64_t response_seed) {
  const auto B = static_cast<std::int64_t>(rows.size());
  at::manual_seed(5);
  at::Tensor prompts = at::randint(1, kVocab, {B, T}, at::kLong);
  at::manual_seed(response_seed);
  ram::TokenBatch b;
  b.ids = at::randint(1, kVocab, {B, T}, at::kLong);
  b.attention = at::zeros({B, T}, at::kLong);
  b.loss_mask = at::zeros({B, T}, at::kFloat);
  using at::indexing::Slice;
  for (std::int64_t i = 0; i < B; ++i) {
    const Row& r = rows[static_cast<std::size_t>(i)];
    b.ids.index_put_({i, Slice(0, r.prompt_len)}, prompts.index({i, Slice(0, r.prompt_len)}));
    b.ids.index_put_({i, Slice(r.length, T)}, 0);
    b.attention.index_put_({i, Slice(0, r.length)}, 1);
    b.loss_mask.index_put_({i, Slice(r.prompt_len, r.length)}, 1.0);
  }
  return b;
}

const std::vector<Row> kChosenRows = {{3, 9}, {4, 7}, {2, 5}};    // T 9, rows 1, 2 padded
const std::vector<Row> kRejectedRows = {{3, 6}, {4, 8}, {2, 4}};  // T 8: the concat pads it
ram::ObjectiveBatch pairs() {
  return {make_batch(kChosenRows, 9, 11), make_batch(kRejectedRows, 8, 12)};
}

// configs/loss-style node: {name: <objective>, <config keys>}.
std::shared_ptr<ram::Objective> make(const std::string& objective, const Json& config = Json::object()) {
  std::string yaml = "loss:\n  name: " + objective + "\n";
  for (const auto& [k, v] : config.items()) yaml += "  " + k + ": " + v.dump() + "\n";
  auto root = ram::config::parse_yaml(yaml, "test.yaml");
  return ram::plugin::Registry::instance().make_objective(objective, ram::ConfigView(root).child("loss"));
}

Json rows_json(const at::Tensor& x) {
  at::Tensor d = x.to(at::kDouble).contiguous();
  Json out = Json::array();
  for (std::int64_t i = 0; i < d.size(0); ++i) {
    std::vector<double> r(d[i].data_ptr<double>(), d[i].data_ptr<double>() + d.size(1));
    out.push_back(r);
  }
  return out;
}

Json batch_json(const ram::TokenBatch& b, const std::vector<Row>& rows) {
  Json j;
  j["ids"] = rows_json(b.ids);
  j["attention"] = rows_json(b.attention);
  j["loss_mask"] = rows_json(b.loss_mask);
  for (const auto& r : rows) j["prompt_len"].push_back(r.prompt_len);
  return j;
}

void save_model(ram::CausalLM& m, const std::string& dir) {
  std::filesystem::create_directories(dir);
  ram::safetensors::NamedTensors t;
  for (const auto& p : m.named_parameters()) t.emplace_back(p.key(), p.value().detach());
  ram::safetensors::save(dir + "/model.safetensors", t);
  ram::test::write_file(dir + "/config.json", m.hf_config_json());
}

ram::test::RunResult run_reference(const Json& doc, const std::string& dir, const std::string& tag) {
  const std::string path = dir + "/" + tag + ".json";
  ram::test::write_file(path, doc.dump());
  return ram::test::run(ram::test::python() + " " + ram::test::source_dir() +
                        "/tests/python/objectives_reference.py " + path + " 2>&1");
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

struct Case {
  std::string label, objective;
  Json config;
  bool reference_free;
};

}  // namespace

TEST(Objectives, LossMetricsAndGradientsMatchPythonReference) {
  const std::vector<Case> cases = {
      {"ram_sft_default", "ram_sft", Json::object(), true},
      {"ram_sft_alpha", "ram_sft", {{"alpha", 0.3}}, true},
      {"dpo_default", "dpo", Json::object(), false},
      {"dpo_smoothed", "dpo", {{"beta", 0.1}, {"label_smoothing", 0.2}}, false},
      {"dpo_reference_free", "dpo", {{"beta", 0.3}, {"reference_free", true}}, true},
      {"ipo_default", "ipo", Json::object(), false},
      {"ipo_beta", "ipo", {{"beta", 0.5}}, false},
      {"ram_dpo_default", "ram_dpo", Json::object(), true},
      {"ram_dpo_smoothed", "ram_dpo", {{"beta", 0.2}, {"label_smoothing", 0.1}}, true},
  };
  const ram::ObjectiveBatch batch = pairs();
  const std::string dir = ram::test::temp_dir("objectives");
  save_model(policy(), dir + "/policy");
  save_model(reference(), dir + "/reference");

  Json doc;
  doc["policy"] = dir + "/policy";
  doc["reference"] = dir + "/reference";
  doc["chosen"] = batch_json(batch.chosen, kChosenRows);
  doc["rejected"] = batch_json(batch.rejected, kRejectedRows);
  doc["grad_params"] = kGradParams;
  for (const Case& c : cases) {
    auto obj = make(c.objective, c.config);
    EXPECT_TRUE(obj->needs_rejected()) << c.label;
    EXPECT_EQ(obj->needs_reference(), !c.reference_free) << c.label;
    policy().zero_grad();
    // Reference-free objectives get no reference model: they must not need one.
    ram::ObjectiveResult r = obj->compute(policy(), c.reference_free ? nullptr : &reference(), batch);
    ASSERT_TRUE(r.loss_sum.requires_grad()) << c.label;
    r.loss_sum.backward();
    Json jc;
    jc["label"] = c.label;
    jc["objective"] = c.objective;
    jc["config"] = c.config;
    jc["loss_sum"] = r.loss_sum.item<double>();
    jc["count"] = r.count;
    for (const auto& [name, value] : r.metric_sums) {
      EXPECT_FALSE(value.requires_grad()) << c.label << ": " << name;
      jc["metrics"][name] = value.item<double>();
    }
    for (const auto& name : kGradParams) {
      at::Tensor g = param(policy(), name).grad();
      ASSERT_TRUE(g.defined()) << c.label << ": " << name;
      at::Tensor flat = g.to(at::kDouble).contiguous().view(-1);
      jc["grads"][name] = std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
    }
    EXPECT_FALSE(param(reference(), kGradParams[0]).grad().defined()) << c.label << ": the reference got a gradient";
    doc["cases"].push_back(jc);
  }
  policy().zero_grad();

  auto ok = run_reference(doc, dir, "good");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  std::cout << ok.output;

  // The oracle must be able to say no: a margin off by 1%, one gradient entry off by 5%.
  Json bad = doc;
  bad["cases"][3]["metrics"]["rewards/margins"] = doc["cases"][3]["metrics"]["rewards/margins"].get<double>() * 1.01;
  auto& g = bad["cases"][0]["grads"][kGradParams[0]];
  std::size_t at_max = 0;
  for (std::size_t i = 0; i < g.size(); ++i)
    if (std::abs(g[i].get<double>()) > std::abs(g[at_max].get<double>())) at_max = i;
  g[at_max] = g[at_max].get<double>() * 1.05;
  auto no = run_reference(bad, dir, "bad");
  EXPECT_NE(no.exit_code, 0) << no.output;
  EXPECT_NE(no.output.find("dpo_smoothed: rewards/margins"), std::string::npos) << no.output;
  EXPECT_NE(no.output.find("ram_sft_default: grad " + kGradParams[0]), std::string::npos) << no.output;
}

TEST(Objectives, ConcatenatedForwardEqualsTwoForwards) {
  const ram::ObjectiveBatch batch = pairs();
  ram::TokenBatch both = ram::concat_batches(batch.chosen, batch.rejected);
  ASSERT_EQ(both.ids.sizes(), (at::IntArrayRef{6, 9}));
  using at::indexing::Slice;
  // The rejected rows gain one padding column: id 0, attention 0, not scored.
  EXPECT_EQ(both.ids.index({Slice(3, 6), 8}).abs().sum().item<std::int64_t>(), 0);
  EXPECT_EQ(both.attention.index({Slice(3, 6), 8}).sum().item<std::int64_t>(), 0);
  EXPECT_EQ(both.loss_mask.index({Slice(3, 6), 8}).sum().item<float>(), 0.0f);
  EXPECT_TRUE(at::equal(both.ids.index({Slice(3, 6), Slice(0, 8)}), batch.rejected.ids));
  EXPECT_TRUE(at::equal(both.ids.index({Slice(0, 3)}), batch.chosen.ids));

  const std::string& p = kGradParams[0];
  policy().zero_grad();
  auto [pc, pr] = ram::pair_logprob(policy(), batch.chosen, batch.rejected);
  (pc.sum() - 0.5 * pr.sum()).backward();
  at::Tensor g_one = param(policy(), p).grad().clone();
  policy().zero_grad();
  at::Tensor c2 = ram::batch_logprob(policy(), batch.chosen), r2 = ram::batch_logprob(policy(), batch.rejected);
  (c2.sum() - 0.5 * r2.sum()).backward();
  at::Tensor g_two = param(policy(), p).grad().clone();
  policy().zero_grad();

  ASSERT_EQ(pc.sizes(), (at::IntArrayRef{3}));
  ASSERT_EQ(pr.sizes(), (at::IntArrayRef{3}));
  EXPECT_TRUE(at::allclose(pc, c2, 1e-5, 1e-5)) << pc << c2;
  EXPECT_TRUE(at::allclose(pr, r2, 1e-5, 1e-5)) << pr << r2;
  EXPECT_LT((g_one - g_two).abs().max().item<double>(), 1e-5 * g_two.abs().max().item<double>() + 1e-7);
  // Not trivially equal: the rows differ from each other.
  EXPECT_GT((pc - pr).abs().min().item<double>(), 1e-3);
}

TEST(Objectives, PolicyEqualToReferenceGivesClosedForms) {
  // Reference = policy: every log-ratio is 0, so the DPO loss is log 2 per pair for any
  // beta and label smoothing, IPO's is (1/(2β))², and all rewards are 0 (accuracy 0: >).
  // The reference runs without autograd, where nn::linear may take the skinny inference
  // kernel (other rounding than the policy's sgemm): same kernel for both here, so the
  // log-ratios are exactly 0.
  const bool skinny = ram::nn::linear_skinny();
  ram::nn::set_linear_skinny(false);
  struct Restore {
    bool v;
    ~Restore() { ram::nn::set_linear_skinny(v); }
  } restore{skinny};
  const ram::ObjectiveBatch batch = pairs();
  const double B = 3;
  for (const Json& cfg : {Json::object(), Json{{"beta", 0.2}, {"label_smoothing", 0.3}}}) {
    auto r = make("dpo", cfg)->compute(policy(), &policy(), batch);
    EXPECT_NEAR(r.loss_sum.item<double>(), B * std::log(2.0), 1e-6) << cfg;
    EXPECT_EQ(r.metric_sums.at("rewards/chosen").item<double>(), 0.0);
    EXPECT_EQ(r.metric_sums.at("rewards/margins").item<double>(), 0.0);
    EXPECT_EQ(r.metric_sums.at("rewards/accuracies").item<double>(), 0.0);
    EXPECT_LT(r.metric_sums.at("logps/chosen").item<double>(), 0.0);
  }
  auto r = make("ipo", {{"beta", 0.25}})->compute(policy(), &policy(), batch);
  EXPECT_NEAR(r.loss_sum.item<double>(), B * 4.0, 1e-5);  // (1/(2·0.25))² = 4
  // Tokens: responses 6+3+3 chosen, 3+4+2 rejected.
  EXPECT_EQ(r.metric_sums.at("tokens").item<double>(), 21.0);
  EXPECT_EQ(r.count, 3);
}

TEST(Objectives, ReferenceFreeIgnoresTheReference) {
  const ram::ObjectiveBatch batch = pairs();
  auto obj = make("dpo", {{"reference_free", true}});
  auto a = obj->compute(policy(), nullptr, batch);
  auto b = obj->compute(policy(), &reference(), batch);
  EXPECT_EQ(a.loss_sum.item<double>(), b.loss_sum.item<double>());
  // ram_dpo = dpo reference-free at beta 1.
  auto c = make("ram_dpo")->compute(policy(), &reference(), batch);
  auto d = make("dpo", {{"reference_free", true}, {"beta", 1.0}})->compute(policy(), nullptr, batch);
  EXPECT_EQ(c.loss_sum.item<double>(), d.loss_sum.item<double>());
  // ... and a different loss from dpo with the reference (the reference matters there).
  auto e = make("dpo", {{"beta", 1.0}})->compute(policy(), &reference(), batch);
  EXPECT_GT(std::abs(e.loss_sum.item<double>() - d.loss_sum.item<double>()), 1e-3);
}

TEST(Objectives, MissingRejectedOrReferenceIsAClearError) {
  ram::ObjectiveBatch batch = pairs();
  ram::ObjectiveBatch chosen_only{batch.chosen, {}};
  for (const char* name : {"ram_sft", "dpo", "ipo", "ram_dpo"}) {
    auto msg = error_of([&] { make(name)->compute(policy(), &reference(), chosen_only); });
    EXPECT_NE(msg.find(std::string(name) + ": the batch has no rejected responses"), std::string::npos) << msg;
  }
  for (const char* name : {"dpo", "ipo"}) {
    auto msg = error_of([&] { make(name)->compute(policy(), nullptr, batch); });
    EXPECT_NE(msg.find(std::string(name) + " needs the frozen reference model"), std::string::npos) << msg;
    EXPECT_NE(msg.find("reference_free"), std::string::npos) << msg;  // the hint
  }
  ram::ObjectiveBatch uneven = batch;
  uneven.rejected.ids = batch.rejected.ids.slice(0, 0, 2);
  uneven.rejected.attention = batch.rejected.attention.slice(0, 0, 2);
  uneven.rejected.loss_mask = batch.rejected.loss_mask.slice(0, 0, 2);
  auto msg = error_of([&] { make("dpo")->compute(policy(), &reference(), uneven); });
  EXPECT_NE(msg.find("3 chosen but 2 rejected"), std::string::npos) << msg;
}

TEST(Objectives, ConfigKeysAndValuesAreChecked) {
  auto config_error = [](const std::string& objective, const Json& cfg) {
    try {
      make(objective, cfg);
    } catch (const ram::ConfigError& e) {
      return std::string(e.what());
    } catch (const std::exception& e) {
      return std::string("<another exception: ") + e.what() + ">";
    }
    return std::string("<no error>");
  };
  // Unknown keys (typos, and keys a variant does not have).
  EXPECT_NE(config_error("dpo", {{"bta", 0.1}}).find("bta"), std::string::npos);
  EXPECT_NE(config_error("ram_sft", {{"alpah", 0.1}}).find("alpah"), std::string::npos);
  EXPECT_NE(config_error("ipo", {{"label_smoothing", 0.1}}).find("label_smoothing"), std::string::npos);
  EXPECT_NE(config_error("ram_dpo", {{"reference_free", false}}).find("reference_free"), std::string::npos);
  EXPECT_NE(config_error("ram_sft", {{"beta", 0.1}}).find("beta"), std::string::npos);
  // Values.
  EXPECT_NE(config_error("dpo", {{"beta", 0.0}}).find("loss.beta must be a positive number"), std::string::npos);
  EXPECT_NE(config_error("ipo", {{"beta", -1.0}}).find("loss.beta must be a positive number"), std::string::npos);
  EXPECT_NE(config_error("dpo", {{"label_smoothing", 0.5}}).find("loss.label_smoothing must be in [0, 0.5)"),
            std::string::npos);
  EXPECT_NE(config_error("ram_sft", {{"alpha", -0.1}}).find("loss.alpha must be a finite number"), std::string::npos);
  EXPECT_NE(config_error("dpo", {{"beta", "high"}}).find("beta"), std::string::npos);
  // Valid configs build, and describe() shows the resolved values.
  EXPECT_EQ(make("dpo")->describe(), "dpo: beta=0.5 label_smoothing=0 reference_free=false");
  EXPECT_EQ(make("ipo")->describe(), "ipo: beta=0.1 reference_free=false");
  EXPECT_EQ(make("ram_dpo")->describe(), "ram_dpo: beta=1 label_smoothing=0 reference_free=true");
  EXPECT_FALSE(make("ram_dpo")->needs_reference());
  EXPECT_FALSE(make("ram_sft")->needs_reference());
}

TEST(Objectives, ShippedConfigsBuild) {
  // configs/loss/<name>.yaml: every key is one the plugin reads, with the documented defaults.
  for (const char* name : {"ram_sft", "dpo", "ipo", "ram_dpo"}) {
    const std::string path = ram::test::source_dir() + "/configs/loss/" + name + ".yaml";
    auto root = ram::config::parse_yaml(ram::test::read_file(path), path);
    auto obj = ram::plugin::Registry::instance().make_objective(name, ram::ConfigView(root));
    EXPECT_EQ(obj->describe(), make(name)->describe()) << path;
  }
}
