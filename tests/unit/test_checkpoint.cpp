// Training checkpoints (train/checkpoint.hpp) on one rank: a tiny llama (f32 and bf16)
// with made-up optimizer state is written and read back — weights bit-identical in a model
// built from another seed, optimizer state, master weights, layout and trainer state
// equal; a layout that differs is one FormatError naming the first difference;
// resolve_checkpoint on a file, a run dir and a ckpt dir with LATEST, a dir without it, a
// LATEST naming a missing file; a writer that dies before its rename leaves no final name
// and LATEST unmoved; bad inputs fail before anything is written; export_hf gives an HF
// directory that loads into the same weights.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/compose.hpp"
#include "h5/reader.hpp"
#include "h5/writer.hpp"
#include "model/hf_dir.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "test_util.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/checkpoint.hpp"

namespace {

namespace fs = std::filesystem;
using ram::train::CheckpointData;
using ram::train::FlatLayout;

std::shared_ptr<ram::CausalLM> tiny_llama(const std::string& dtype, int seed, int hidden = 32) {
  std::string yaml = "model:\n  name: llama\n  dtype: " + dtype +
                     "\n  tiny: {vocab: 64, hidden: " + std::to_string(hidden) +
                     ", layers: 2, heads: 4, kv_heads: 2, intermediate: 48, tied: false, seed: " +
                     std::to_string(seed) + ", init_std: 0.2}\n";
  auto root = ram::config::parse_yaml(yaml, "test.yaml");
  return ram::plugin::Registry::instance().make_model("llama", ram::ConfigView(root).child("model"));
}

FlatLayout layout_of(const ram::CausalLM& m) {
  FlatLayout l;
  l.offsets.push_back(0);
  for (const auto& p : m.named_parameters(true)) {
    l.names.push_back(p.key());
    l.shapes.push_back(p.value().sizes().vec());
    l.offsets.push_back(l.offsets.back() + p.value().numel());
  }
  return l;
}

fs::path gpt2_tokenizer() { return fs::path(ram::test::binary_dir()) / "tokenizers" / "gpt2"; }

// Made-up but distinct optimizer state over the whole flat buffer.
CheckpointData fake_data(const ram::CausalLM& m, std::int64_t step) {
  CheckpointData d;
  d.optimizer = "adamw";
  d.layout = layout_of(m);
  const auto n = d.layout.numel();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1234 + step);
  d.optimizer_state["exp_avg"] = at::randn({n}, gen, at::kFloat);
  d.optimizer_state["exp_avg_sq"] = at::rand({n}, gen, at::kFloat);
  if (m.dtype() != at::kFloat) {
    std::vector<at::Tensor> flat;
    for (const auto& p : m.parameters()) flat.push_back(p.detach().to(at::kFloat).reshape({-1}));
    // Master weights are the f32 values the bf16 parameters were rounded from.
    d.master = at::cat(flat) + at::rand({n}, gen, at::kFloat) * 1e-3;
  }
  d.zero1 = false;
  d.trainer.step = step;
  d.trainer.examples_seen = 64 * step + 3;
  d.trainer.epoch = 1;
  d.trainer.epoch_cursor = 17;
  d.trainer.seed = 0xFEDCBA9876543210ull;  // above INT64_MAX: the bits must survive
  d.trainer.metrics_json = R"({"loss": 0.25, "rewards/accuracies": 0.75})";
  return d;
}

bool params_equal(const ram::CausalLM& a, const ram::CausalLM& b) {
  auto pa = a.named_parameters(true), pb = b.named_parameters(true);
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i)
    if (pa[i].key() != pb[i].key() || !at::equal(pa[i].value(), pb[i].value())) return false;
  return true;
}

std::string read_text(const fs::path& p) { return ram::test::read_file(p.string()); }

template <class F>
std::string format_error_of(F f) {
  try {
    f();
  } catch (const ram::FormatError& e) {
    return e.what();
  }
  return "(no FormatError)";
}

TEST(Checkpoint, ShardRangeCoversContiguouslyWithSizesWithinOne) {
  for (std::int64_t n : {0, 1, 2, 7, 10, 1001})
    for (int w : {1, 2, 3, 4, 8}) {
      std::int64_t next = 0, lo = n, hi = 0;
      for (int r = 0; r < w; ++r) {
        auto [b, e] = ram::train::shard_range(n, r, w);
        EXPECT_EQ(b, next) << n << " " << w << " " << r;
        EXPECT_LE(b, e);
        lo = std::min(lo, e - b);
        hi = std::max(hi, e - b);
        next = e;
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(hi - lo, 1);
    }
  EXPECT_EQ(ram::train::shard_range(10, 0, 3), (std::pair<std::int64_t, std::int64_t>(0, 4)));
  EXPECT_EQ(ram::train::shard_range(10, 2, 3), (std::pair<std::int64_t, std::int64_t>(7, 10)));
  EXPECT_THROW(ram::train::shard_range(10, 3, 3), ram::Error);
}

class CheckpointRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(CheckpointRoundTrip, WeightsStateLayoutAndTrainerStateComeBack) {
  const std::string dtype = GetParam();
  const fs::path out = ram::test::temp_dir("ckpt_roundtrip_" + dtype);
  auto model = tiny_llama(dtype, 11);
  const CheckpointData d = fake_data(*model, 7);
  const fs::path file = ram::train::write_checkpoint(out, *model, d, gpt2_tokenizer(),
                                                     "lr: 1.0e-6\n", "ram train test");
  EXPECT_EQ(file, out / "ckpt" / "step-7.h5");
  EXPECT_TRUE(fs::is_regular_file(file));
  EXPECT_EQ(read_text(out / "ckpt" / "LATEST"), "step-7.h5\n");
  for (const auto& e : fs::directory_iterator(out / "ckpt"))  // no temp left behind
    EXPECT_TRUE(e.path().filename() == "LATEST" || e.path().filename() == "step-7.h5")
        << e.path();

  // Weights: a model from another seed differs, then equals bit for bit.
  auto fresh = tiny_llama(dtype, 99);
  ASSERT_FALSE(params_equal(*model, *fresh));
  ram::train::load_model_weights(file, *fresh);
  EXPECT_TRUE(params_equal(*model, *fresh));
  EXPECT_EQ(fresh->dtype(), model->dtype());

  // Everything else, whole range.
  const std::int64_t n = d.layout.numel();
  auto back = ram::train::read_checkpoint(file, d.layout, 0, n);
  EXPECT_EQ(back.optimizer, "adamw");
  EXPECT_FALSE(back.zero1);
  EXPECT_EQ(back.layout.names, d.layout.names);
  EXPECT_EQ(back.layout.shapes, d.layout.shapes);
  EXPECT_EQ(back.layout.offsets, d.layout.offsets);
  ASSERT_EQ(back.optimizer_state.size(), 2u);
  for (const auto& [k, v] : d.optimizer_state) {
    ASSERT_TRUE(back.optimizer_state.count(k)) << k;
    EXPECT_TRUE(at::equal(back.optimizer_state.at(k), v)) << k;
  }
  if (dtype == "f32") {
    EXPECT_FALSE(back.master.defined());
  } else {
    ASSERT_TRUE(back.master.defined());
    EXPECT_TRUE(at::equal(back.master, d.master));
  }
  EXPECT_EQ(back.trainer.step, 7);
  EXPECT_EQ(back.trainer.examples_seen, d.trainer.examples_seen);
  EXPECT_EQ(back.trainer.epoch, 1);
  EXPECT_EQ(back.trainer.epoch_cursor, 17);
  EXPECT_EQ(back.trainer.seed, 0xFEDCBA9876543210ull);
  EXPECT_EQ(back.trainer.metrics_json, d.trainer.metrics_json);

  // A shard of it (ZeRO-1 resume reads only its range).
  auto part = ram::train::read_checkpoint(file, d.layout, 5, 1234);
  for (const auto& [k, v] : d.optimizer_state)
    EXPECT_TRUE(at::equal(part.optimizer_state.at(k), v.slice(0, 5, 1234))) << k;
  if (dtype != "f32") EXPECT_TRUE(at::equal(part.master, d.master.slice(0, 5, 1234)));
  EXPECT_THROW(ram::train::read_checkpoint(file, d.layout, 0, n + 1), ram::Error);

  // Attributes a reader of the file relies on.
  auto r = ram::h5::Reader::open(file.string());
  EXPECT_EQ(r.attr_string("/", "model_type"), "llama");
  EXPECT_EQ(r.attr_string("/", "hf_config_json"), model->hf_config_json());
  EXPECT_EQ(r.attr_string("/", "tokenizer_fingerprint"),
            ram::tok::Tokenizer::from_dir(gpt2_tokenizer()).fingerprint());
  EXPECT_EQ(r.attr_string("/", "command"), "ram train test");
  EXPECT_EQ(r.attr_string("/", "config"), "lr: 1.0e-6\n");
  EXPECT_EQ(r.attr_int("/", "world_size"), 1);
  EXPECT_EQ(r.read_ragged("/tokenizer/tokenizer.json"),
            std::vector<std::string>{read_text(gpt2_tokenizer() / "tokenizer.json")});
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CheckpointRoundTrip, ::testing::Values("f32", "bf16"));

TEST(Checkpoint, LayoutMismatchIsOneFormatErrorNamingTheFirstDifference) {
  const fs::path out = ram::test::temp_dir("ckpt_layout");
  auto model = tiny_llama("f32", 11);
  const CheckpointData d = fake_data(*model, 3);
  const fs::path file = ram::train::write_checkpoint(out, *model, d, gpt2_tokenizer(), "", "t");
  const auto n = d.layout.numel();

  FlatLayout shape = d.layout;  // v_proj [16,32] read as [32,16]: same numel, same names
  ASSERT_NE(shape.shapes[3][0], shape.shapes[3][1]);
  shape.shapes[3] = {shape.shapes[3][1], shape.shapes[3][0]};
  std::string msg = format_error_of([&] { ram::train::read_checkpoint(file, shape, 0, n); });
  EXPECT_NE(msg.find("parameter 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find(d.layout.names[3]), std::string::npos) << msg;
  EXPECT_NE(msg.find("step-3.h5"), std::string::npos) << msg;

  FlatLayout renamed = d.layout;
  std::swap(renamed.names[2], renamed.names[3]);
  msg = format_error_of([&] { ram::train::read_checkpoint(file, renamed, 0, n); });
  EXPECT_NE(msg.find("parameter 2"), std::string::npos) << msg;

  FlatLayout fewer = d.layout;  // e.g. a frozen embedding in the resumed run
  fewer.names.erase(fewer.names.begin());
  fewer.shapes.erase(fewer.shapes.begin());
  msg = format_error_of([&] { ram::train::read_checkpoint(file, fewer, 0, n); });
  EXPECT_NE(msg.find("optimizer layout differs"), std::string::npos) << msg;

  // Model weights into a model of another size: one error listing the misfits.
  auto wider = tiny_llama("f32", 11, 64);
  msg = format_error_of([&] { ram::train::load_model_weights(file, *wider); });
  EXPECT_NE(msg.find("shape mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.embed_tokens.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("step-3.h5"), std::string::npos) << msg;
}

TEST(Checkpoint, ResolveFileRunDirCkptDirAndLatest) {
  const fs::path out = ram::test::temp_dir("ckpt_resolve");
  EXPECT_EQ(ram::train::resolve_checkpoint(out), std::nullopt);  // nothing written yet
  EXPECT_EQ(ram::train::resolve_checkpoint(out / "does-not-exist"), std::nullopt);
  auto model = tiny_llama("f32", 11);
  const fs::path f4 = ram::train::write_checkpoint(out, *model, fake_data(*model, 4),
                                                   gpt2_tokenizer(), "", "t");
  EXPECT_EQ(ram::train::resolve_checkpoint(f4), f4);
  EXPECT_EQ(ram::train::resolve_checkpoint(out), out / "ckpt" / "step-4.h5");
  EXPECT_EQ(ram::train::resolve_checkpoint(out / "ckpt"), out / "ckpt" / "step-4.h5");

  const fs::path f9 = ram::train::write_checkpoint(out, *model, fake_data(*model, 9),
                                                   gpt2_tokenizer(), "", "t");
  EXPECT_EQ(ram::train::resolve_checkpoint(out), f9);
  EXPECT_TRUE(fs::is_regular_file(f4));  // older checkpoints stay

  // A writer that dies between its temp write and the rename: no final name, LATEST unmoved.
  const fs::path f12 = out / "ckpt" / "step-12.h5";
  std::string temp;
  {
    auto w = ram::h5::Writer::create(f12.string(), /*parallel=*/true);
    temp = w.temp_path();
    w.set_attr("/", "step", 12);
    std::vector<float> half(100, 1.0f);
    w.write_array<float>("/optimizer/exp_avg", half);
  }  // destroyed without finalize()
  EXPECT_FALSE(fs::exists(f12));
  EXPECT_TRUE(fs::exists(temp));
  EXPECT_EQ(ram::train::resolve_checkpoint(out), f9);

  // LATEST naming a file that is gone.
  fs::remove(f9);
  std::string msg = format_error_of([&] { ram::train::resolve_checkpoint(out); });
  EXPECT_NE(msg.find("step-9.h5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("LATEST"), std::string::npos) << msg;
}

TEST(Checkpoint, BadInputsFailBeforeAnythingIsWritten) {
  const fs::path out = ram::test::temp_dir("ckpt_bad");
  auto model = tiny_llama("f32", 11);
  try {
    ram::train::write_checkpoint(out, *model, fake_data(*model, 1), out, "", "t");
    ADD_FAILURE() << "no error for a tokenizer dir without tokenizer.json";
  } catch (const ram::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no tokenizer.json"), std::string::npos) << e.what();
  }
  CheckpointData short_state = fake_data(*model, 1);
  short_state.optimizer_state["exp_avg"] = short_state.optimizer_state["exp_avg"].slice(0, 1);
  EXPECT_THROW(ram::train::write_checkpoint(out, *model, short_state, gpt2_tokenizer(), "", "t"),
               ram::Error);
  EXPECT_FALSE(fs::exists(out / "ckpt" / "LATEST"));
  EXPECT_FALSE(fs::exists(out / "ckpt" / "step-1.h5"));
}

TEST(Checkpoint, ExportGivesAnHfDirectoryWithTheWeights) {
  const fs::path out = ram::test::temp_dir("ckpt_export");
  auto model = tiny_llama("bf16", 21);
  ram::train::write_checkpoint(out, *model, fake_data(*model, 2), gpt2_tokenizer(), "", "t");
  const fs::path dir = out / "hf";
  ram::train::export_hf(out, dir, /*force=*/false);
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors",
                        "tokenizer.json"})
    EXPECT_TRUE(fs::is_regular_file(dir / f)) << f;
  EXPECT_EQ(read_text(dir / "tokenizer.json"), read_text(gpt2_tokenizer() / "tokenizer.json"));
  auto loaded = ram::model::load_model(dir, "bf16");
  EXPECT_TRUE(params_equal(*model, *loaded));
  EXPECT_EQ(loaded->hf_config_json(), model->hf_config_json());

  try {
    ram::train::export_hf(out, dir, /*force=*/false);
    ADD_FAILURE() << "export over an existing directory without force";
  } catch (const ram::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("exists"), std::string::npos) << e.what();
  }
  ram::train::export_hf(out / "ckpt" / "step-2.h5", dir, /*force=*/true);
  EXPECT_TRUE(params_equal(*model, *ram::model::load_model(dir, "bf16")));
  EXPECT_THROW(ram::train::export_hf(out / "nothing-here", out / "hf2", false), ram::ConfigError);
}

}  // namespace
