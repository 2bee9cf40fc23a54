// Training checkpoints on several ranks (train/checkpoint.hpp): ZeRO-1 optimizer state and
// master weights written collectively from each rank's shard_range equal the global
// buffers (the concatenation in rank order) and read back per shard; without ZeRO-1 rank
// 0's whole buffers are written while the others pass nothing. Verdict shared by all ranks.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <memory>
#include <string>

#include "config/compose.hpp"
#include "dist/dist.hpp"
#include "fake_optimizer_state.hpp"
#include "h5/reader.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/model.hpp"
#include "test_util.hpp"
#include "train/checkpoint.hpp"

namespace {

namespace fs = std::filesystem;
namespace dist = ram::dist;
using ram::train::CheckpointData;
using ram::train::FlatLayout;

std::shared_ptr<ram::CausalLM> tiny_llama(const std::string& dtype) {
  auto root = ram::config::parse_yaml(
      "model:\n  name: llama\n  dtype: " + dtype +
          "\n  tiny: {vocab: 61, hidden: 32, layers: 1, heads: 4, kv_heads: 2, intermediate: 40, "
          "tied: false, seed: 5, init_std: 0.2}\n",
      "test.yaml");
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

void check_file(const fs::path& file, const FlatLayout& layout, bool zero1, bool master) {
  const std::int64_t n = layout.numel();
  // Per shard, as a ZeRO-1 resume reads it.
  const auto [lo, hi] = ram::train::shard_range(n, dist::rank(), dist::size());
  auto mine = ram::train::read_checkpoint(file, layout, lo, hi);
  ASSERT_EQ(mine.optimizer_state.size(), ram::test::fake_states().size());
  for (const auto& [name, k] : ram::test::fake_states())
    EXPECT_TRUE(at::equal(mine.optimizer_state.at(name), ram::test::fake_state(k, lo, hi))) << name;
  EXPECT_EQ(mine.master.defined(), master);
  if (master) EXPECT_TRUE(at::equal(mine.master, ram::test::fake_state(ram::test::kFakeMasterK, lo, hi)));
  EXPECT_EQ(mine.zero1, zero1);
  // The whole buffers: the concatenation of every rank's part.
  auto all = ram::train::read_checkpoint(file, layout, 0, n);
  for (const auto& [name, k] : ram::test::fake_states())
    EXPECT_TRUE(at::equal(all.optimizer_state.at(name), ram::test::fake_state(k, 0, n))) << name;
  auto r = ram::h5::Reader::open(file.string());
  EXPECT_EQ(r.attr_int("/", "world_size"), dist::size());
  EXPECT_EQ(r.attr_int("/", "zero1"), zero1 ? 1 : 0);
}

TEST(CheckpointMpi, Zero1ShardsWrittenCollectivelyEqualTheConcatenation) {
  ASSERT_GE(dist::size(), 2);
  const fs::path out = ram::test::temp_dir("ckpt_zero1");
  auto model = tiny_llama("bf16");
  CheckpointData d;
  d.optimizer = "adamw";
  d.layout = layout_of(*model);
  d.zero1 = true;
  d.trainer.step = 6;
  const std::int64_t n = d.layout.numel();
  const auto [lo, hi] = ram::train::shard_range(n, dist::rank(), dist::size());
  ASSERT_LT(hi - lo, n);  // every rank holds a proper part
  for (const auto& [name, k] : ram::test::fake_states())
    d.optimizer_state[name] = ram::test::fake_state(k, lo, hi);
  d.master = ram::test::fake_state(ram::test::kFakeMasterK, lo, hi);
  const fs::path file = ram::train::write_checkpoint(out, *model, d, gpt2_tokenizer(), "", "mpi test");
  EXPECT_EQ(file, out / "ckpt" / "step-6.h5");
  EXPECT_EQ(ram::train::resolve_checkpoint(out), file);  // LATEST is there on return, every rank
  check_file(file, d.layout, /*zero1=*/true, /*master=*/true);

  // Every rank may load the weights on its own.
  auto other = tiny_llama("bf16");
  ram::train::load_model_weights(file, *other);
  auto pa = model->named_parameters(true), pb = other->named_parameters(true);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(at::equal(pa[i].value(), pb[i].value()));
}

TEST(CheckpointMpi, WithoutZero1Rank0WritesTheWholeBuffers) {
  const fs::path out = ram::test::temp_dir("ckpt_replicated");
  auto model = tiny_llama("f32");
  CheckpointData d;
  d.optimizer = "rmsprop";
  d.layout = layout_of(*model);
  d.trainer.step = 2;
  const std::int64_t n = d.layout.numel();
  if (dist::rank() == 0)
    for (const auto& [name, k] : ram::test::fake_states())
      d.optimizer_state[name] = ram::test::fake_state(k, 0, n);
  const fs::path file = ram::train::write_checkpoint(out, *model, d, gpt2_tokenizer(), "", "mpi test");
  check_file(file, d.layout, /*zero1=*/false, /*master=*/false);
}

}  // namespace
