// The shipped configs of the original experiments (configs/{dataset,model,experiment}/) and
// the `group@package` defaults syntax they use for the proposal model.
//
// Oracles: ram-method.md's tables (models per family, max lengths, the evaluation
// temperatures), written out below; the datasets each experiment names are opened for real
// from fixture files written under a dummy $RAM_DATA, so a wrong path or key fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/compose.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using ram::ConfigError;
using ram::ConfigView;
using ram::config::ComposeOptions;
using ram::config::compose;
// ram::test::write_file, creating the parent folders first.
void write_file(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ram::test::write_file(path, bytes);
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

// A config dir with a model group used twice (model and model@proposal).
std::string package_dir() {
  std::string dir = ram::test::temp_dir("cfg_package");
  write_file(dir + "/config.yaml",
             "defaults:\n  - model: small\n  - model@proposal: none\n  - loss: sft\n  - _self_\nname: x\n");
  write_file(dir + "/model/small.yaml", "path: /m/small\ndtype: f32\n");
  write_file(dir + "/model/big.yaml", "path: /m/big\ndtype: bf16\n");
  write_file(dir + "/model/none.yaml", "path: null\ndtype: bf16\n");
  write_file(dir + "/loss/sft.yaml", "name: sft\n");
  write_file(dir + "/experiment/pair.yaml",
             "defaults:\n  - override /model@proposal: big\nname: pair\n");
  write_file(dir + "/experiment/wrong.yaml", "defaults:\n  - override /loss@proposal: sft\n");
  return dir;
}

ram::config::Resolved compose_in(const std::string& dir, const std::string& exp,
                                 std::vector<std::string> overrides = {}) {
  ComposeOptions o;
  o.config_dir = dir;
  o.experiment = exp;
  o.overrides = std::move(overrides);
  return compose(o);
}

}  // namespace

TEST(ConfigPackage, GroupAtKeyLoadsTheGroupFileIntoThatKey) {
  std::string dir = package_dir();
  auto r = compose_in(dir, "");
  ConfigView v = r.view();
  EXPECT_EQ(v.get<std::string>("model.path"), "/m/small");
  EXPECT_FALSE(v.has("proposal.path"));  // none.yaml: null
  EXPECT_EQ(v.get<std::string>("proposal.dtype"), "bf16");
  EXPECT_EQ(v.where("proposal.dtype").str(), dir + "/model/none.yaml:2");

  auto p = compose_in(dir, "pair").view();  // the experiment switches only the package
  EXPECT_EQ(p.get<std::string>("model.path"), "/m/small");
  EXPECT_EQ(p.get<std::string>("proposal.path"), "/m/big");

  // Command line: by the key, or by group@key; model= still switches model alone.
  EXPECT_EQ(compose_in(dir, "", {"proposal=small"}).view().get<std::string>("proposal.path"), "/m/small");
  EXPECT_EQ(compose_in(dir, "", {"model@proposal=big"}).view().get<std::string>("proposal.path"), "/m/big");
  auto m = compose_in(dir, "pair", {"model=big"}).view();
  EXPECT_EQ(m.get<std::string>("model.path"), "/m/big");
  EXPECT_EQ(m.get<std::string>("proposal.path"), "/m/big");
  EXPECT_EQ(compose_in(dir, "", {"~proposal"}).root->find("proposal"), nullptr);

  // Loading a package from another group is an error naming both.
  std::string e = error_of([&] { compose_in(dir, "wrong"); });
  EXPECT_TRUE(has(e, "key 'proposal' is loaded from group 'model', not 'loss'")) << e;
  e = error_of([&] { compose_in(dir, "", {"model@proposal=huge"}); });
  EXPECT_TRUE(has(e, "no config 'huge' in group 'model'")) << e;
  write_file(dir + "/experiment/bad.yaml", "defaults:\n  - override /model@: big\n");
  e = error_of([&] { compose_in(dir, "bad"); });
  EXPECT_TRUE(has(e, "cannot read defaults entry 'model@'")) << e;
}

// ------------------------------------------------------------------ the shipped experiments

namespace {

struct Expect {
  std::string family;  // llama | qwen
  std::string task;    // hh | summ | uc | hh_helpful | hh_harmless
  bool train;
};

const std::map<std::string, std::pair<std::string, std::string>> kFamily = {
    {"llama", {"meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.1-8B"}},
    {"qwen", {"Qwen/Qwen2.5-3B", "Qwen/Qwen2.5-14B"}},
};

// ram-method.md: aligner temperature / base_temperature per (family, task).
const std::map<std::string, std::pair<double, double>> kTemps = {
    {"llama_uc", {0.7, 0.5}},         {"llama_summ", {0.3, 0.5}},
    {"llama_hh_helpful", {0.5, 0.7}}, {"llama_hh_harmless", {0.3, 0.7}},
    {"qwen_uc", {0.3, 0.7}},          {"qwen_summ", {0.3, 0.5}},
    {"qwen_hh_helpful", {0.7, 0.5}},  {"qwen_hh_harmless", {0.3, 0.5}},
};

std::vector<Expect> expected_experiments() {
  std::vector<Expect> out;
  for (const char* f : {"llama", "qwen"}) {
    for (const char* t : {"hh", "summ", "uc"}) out.push_back({f, t, true});
    for (const char* t : {"uc", "summ", "hh_helpful", "hh_harmless"}) out.push_back({f, t, false});
  }
  return out;
}

std::string hh_record(const std::string& q) {
  return "{\"chosen\": \"\\n\\nHuman: " + q + "\\n\\nAssistant: yes\", \"rejected\": \"\\n\\nHuman: " + q +
         "\\n\\nAssistant: no\"}\n";
}

// The files the experiments expect, laid out under a dummy $RAM_DATA.
std::string write_data_tree() {
  std::string data = ram::test::temp_dir("ram_data");
  for (const char* subset : {"helpful-base", "helpful-online", "helpful-rejection-sampled", "harmless-base"})
    for (const char* split : {"train", "test"})
      write_file(data + "/hh-rlhf/" + subset + "/" + split + ".jsonl", hh_record(std::string(subset) + " " + split));
  for (const char* split : {"train", "test"})
    write_file(data + "/openai_summarize_tldr/" + split + ".jsonl",
               "{\"prompt\": \"SUBREDDIT: r/x\\nPOST: " + std::string(split) + "\\nTL;DR:\", \"label\": \" s\"}\n");
  write_file(data + "/ultrachat/train.jsonl", "{\"instruction\": \"hi\", \"output\": \"hello\"}\n");
  write_file(data + "/alpaca_eval/alpaca_eval.json",
             "[{\"instruction\": \"hi\", \"output\": \"hello\", \"generator\": \"g\", \"dataset\": \"d\"}]\n");
  return data;
}

}  // namespace

TEST(ConfigExperiments, EachOriginalRunResolvesAndNamesItsModelsAndFiles) {
  const std::string configs = ram::test::source_dir() + "/configs";
  const std::string models = "/nonexistent/ram-models";
  const std::string data = write_data_tree();
  const std::string runs = "/nonexistent/ram-runs";
  setenv("RAM_MODELS", models.c_str(), 1);
  setenv("RAM_DATA", data.c_str(), 1);
  setenv("RAM_RUNS", runs.c_str(), 1);
  for (const Expect& x : expected_experiments()) {
    const std::string name = (x.train ? "train_" : "eval_") + x.family + "_" + x.task;
    SCOPED_TRACE(name);
    ram::config::Resolved r;
    ASSERT_NO_THROW(r = compose_in(configs, name));
    ConfigView v = r.view();
    const auto& [aligner, proposal] = kFamily.at(x.family);
    EXPECT_EQ(v.get<std::string>("name"), name);
    EXPECT_EQ(v.get<std::string>("model.path"), models + "/" + aligner);
    EXPECT_EQ(v.get<std::string>("proposal.path"), models + "/" + proposal);
    const bool summ = x.task == "summ";
    EXPECT_EQ(v.get<std::int64_t>("max_length"), summ ? 1152 : 2048);
    EXPECT_EQ(v.get<std::int64_t>("max_prompt_length"), summ ? 640 : 1024);

    const std::string plugin = v.get<std::string>("dataset.name");
    const std::map<std::string, std::string> plugin_of = {
        {"hh", "hh"}, {"summ", "tldr"}, {"uc", x.train ? "ultrachat" : "alpaca"},
        {"hh_helpful", "hh"}, {"hh_harmless", "hh_harmless"}};
    EXPECT_EQ(plugin, plugin_of.at(x.task));
    // The dataset opens from the files under $RAM_DATA, with every key it was given known.
    std::shared_ptr<ram::Dataset> ds;
    ASSERT_NO_THROW(ds = ram::plugin::Registry::instance().make_dataset(plugin, v.child("dataset")));
    EXPECT_GE(ds->size(), 1);
    const std::string described = ds->describe();
    EXPECT_TRUE(has(described, data + "/")) << described;

    if (x.train) {
      EXPECT_EQ(v.get<std::string>("dataset.split"), "train");
      EXPECT_EQ(v.get<std::string>("loss.name"), "ram_sft");
      EXPECT_DOUBLE_EQ(v.get<double>("loss.alpha"), 1e-4);
      EXPECT_DOUBLE_EQ(v.get<double>("lr"), 2e-7);
      EXPECT_EQ(v.get<std::int64_t>("batch_size"), 64);
      EXPECT_EQ(v.get<std::string>("optimizer"), "rmsprop");
      auto stages = v.get<std::vector<std::string>>("pipeline.stages");
      if (x.task == "hh") {
        // HH: y' = the dataset's rejected response, the aligner warm-started by an SFT stage.
        EXPECT_EQ(v.get<std::string>("train.data"), "dataset");
        EXPECT_EQ(v.get<std::int64_t>("eval_every"), 160800 / 2);
        EXPECT_EQ(stages, (std::vector<std::string>{"sft", "train", "export"}));
        auto set = v.get<std::vector<std::string>>("pipeline.sft.set");
        EXPECT_NE(std::find(set.begin(), set.end(), "loss=sft"), set.end());
        EXPECT_EQ(v.get<std::string>("train.init_from"), runs + "/" + name + "/sft/ckpt");
        EXPECT_NE(std::find(set.begin(), set.end(), "train.out=" + runs + "/" + name + "/sft"), set.end());
      } else {
        EXPECT_EQ(v.get<std::string>("train.data"), "synth");
        EXPECT_EQ(stages, (std::vector<std::string>{"sample", "train", "export"}));
        auto set = v.get<std::vector<std::string>>("pipeline.sample.set");
        EXPECT_NE(std::find(set.begin(), set.end(), "model.path=" + models + "/" + proposal), set.end());
        if (summ) EXPECT_EQ(v.get<std::int64_t>("eval_every"), 58361);
      }
    } else {
      const auto [t, bt] = kTemps.at(x.family + "_" + x.task);
      EXPECT_DOUBLE_EQ(v.get<double>("generate.temperature"), t);
      EXPECT_DOUBLE_EQ(v.get<double>("generate.base_temperature"), bt);
      EXPECT_EQ(v.get<std::string>("generate.sample_mode"), "par_kl");
      EXPECT_DOUBLE_EQ(v.get<double>("generate.div_threshold"), 0.1);
      EXPECT_DOUBLE_EQ(v.get<double>("generate.base_top_p"), 0.95);
      EXPECT_DOUBLE_EQ(v.get<double>("generate.top_p"), 0.9);
      EXPECT_DOUBLE_EQ(v.get<double>("generate.repetition_penalty"), 1.05);
      const std::string trained = x.task.rfind("hh", 0) == 0 ? "hh" : x.task;
      EXPECT_EQ(v.get<std::string>("generate.model"), runs + "/train_" + x.family + "_" + trained + "/export");
      EXPECT_EQ(v.get<std::string>("generate.proposal"), models + "/" + proposal);
      if (x.task == "uc") {
        EXPECT_FALSE(v.has("dataset.n_test_subsample"));  // all 805 AlpacaEval prompts
        EXPECT_EQ(v.get<std::string>("dataset.path"), data + "/alpaca_eval/alpaca_eval.json");
      } else {
        EXPECT_EQ(v.get<std::string>("dataset.split"), "test");
        EXPECT_EQ(v.get<std::int64_t>("dataset.n_test_subsample"), 300);
      }
      if (x.task == "hh_helpful")
        EXPECT_EQ(v.get<std::vector<std::string>>("dataset.subsets"), (std::vector<std::string>{"helpful-base"}));
    }
  }
  unsetenv("RAM_MODELS");
  unsetenv("RAM_DATA");
  unsetenv("RAM_RUNS");
}

TEST(ConfigExperiments, ModelFilesLiveUnderRamModels) {
  const std::string configs = ram::test::source_dir() + "/configs";
  setenv("RAM_MODELS", "/mm", 1);
  const std::map<std::string, std::string> hf = {
      {"llama1b", "meta-llama/Llama-3.2-1B"}, {"llama3b", "meta-llama/Llama-3.2-3B"},
      {"llama8b", "meta-llama/Llama-3.1-8B"}, {"qwen0.5b", "Qwen/Qwen2.5-0.5B"},
      {"qwen1.5b", "Qwen/Qwen2.5-1.5B"},     {"qwen3b", "Qwen/Qwen2.5-3B"},
      {"qwen7b", "Qwen/Qwen2.5-7B"},         {"qwen14b", "Qwen/Qwen2.5-14B"},
      {"pythia70m", "EleutherAI/pythia-70m"}, {"pythia160m", "EleutherAI/pythia-160m"},
      {"pythia410m", "EleutherAI/pythia-410m"}, {"pythia1b", "EleutherAI/pythia-1b"},
      {"pythia1.4b", "EleutherAI/pythia-1.4b"}, {"pythia2.8b", "EleutherAI/pythia-2.8b"},
      {"pythia6.9b", "EleutherAI/pythia-6.9b"}, {"pythia12b", "EleutherAI/pythia-12b"}};
  for (const auto& [name, dir] : hf) {
    SCOPED_TRACE(name);
    ConfigView v = compose_in(configs, "", {"model=" + name, "proposal=" + name}).view();
    EXPECT_EQ(v.get<std::string>("model.path"), "/mm/" + dir);
    EXPECT_EQ(v.get<std::string>("proposal.path"), "/mm/" + dir);
    EXPECT_EQ(v.get<std::string>("model.dtype"), "bf16");
  }
  unsetenv("RAM_MODELS");
  // Unset, the models folder defaults to ./models; the base config's model is required.
  ConfigView v = compose_in(configs, "", {"model=llama1b"}).view();
  EXPECT_EQ(v.get<std::string>("model.path"), "models/meta-llama/Llama-3.2-1B");
  EXPECT_TRUE(compose_in(configs, "").root->find("model")->get()->find("path")->get()->is_required_marker());
}

TEST(ConfigExperiments, RamConfigPrintsEachExperiment) {
  const std::string configs = ram::test::source_dir() + "/configs";
  std::vector<std::string> names;
  for (auto& f : fs::directory_iterator(configs + "/experiment"))
    if (f.path().extension() == ".yaml") names.push_back(f.path().stem().string());
  ASSERT_GE(names.size(), 15u);  // 6 training runs, 8 evaluation runs, the smoke run
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto res = ram::test::run("RAM_MODELS=/mm RAM_DATA=/dd " + ram::test::ram_bin() + " config " + name +
                              " --config-dir " + configs + " 2>/dev/null");
    ASSERT_EQ(res.exit_code, 0) << res.output;
    ConfigView v(ram::config::parse_yaml(res.output, "stdout"));
    EXPECT_EQ(v.get<std::string>("name"), name);
    if (name.rfind("train_", 0) == 0 || name.rfind("eval_", 0) == 0) {
      EXPECT_TRUE(has(v.get<std::string>("model.path"), "/mm/")) << res.output;
      EXPECT_TRUE(has(v.get<std::string>("proposal.path"), "/mm/")) << res.output;
      EXPECT_TRUE(has(res.output, "/dd/")) << res.output;
    }
  }
}
