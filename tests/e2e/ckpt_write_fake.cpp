// ckpt_write_fake MODEL_DIR DTYPE OUT_DIR — writes OUT_DIR/ckpt/step-5.h5 (+ LATEST) for
// the model in MODEL_DIR loaded in DTYPE, with the made-up optimizer state of
// tests/mpi/fake_optimizer_state.hpp, the model dir's tokenizer files and ZeRO-1 sharding
// when run on several ranks (train/checkpoint.hpp write_checkpoint, collective). Used by
// checkpoint_export.sh; prints the file on rank 0.
#include <cstdio>
#include <string>

#include "dist/dist.hpp"
#include "fake_optimizer_state.hpp"
#include "log/log.hpp"
#include "model/hf_dir.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "train/checkpoint.hpp"

int main(int argc, char** argv) {
  ram::dist::Context ctx(&argc, &argv);
  ram::log::init();
  if (argc != 4) {
    std::fprintf(stderr, "usage: ckpt_write_fake MODEL_DIR DTYPE OUT_DIR\n");
    return 2;
  }
  try {
    auto model = ram::model::load_model(argv[1], argv[2]);
    ram::train::CheckpointData d;
    d.optimizer = "adamw";
    d.layout.offsets.push_back(0);
    for (const auto& p : model->named_parameters(true)) {
      d.layout.names.push_back(p.key());
      d.layout.shapes.push_back(p.value().sizes().vec());
      d.layout.offsets.push_back(d.layout.offsets.back() + p.value().numel());
    }
    d.zero1 = ram::dist::size() > 1;
    const auto [lo, hi] = ram::train::shard_range(d.layout.numel(), ram::dist::rank(), ram::dist::size());
    for (const auto& [name, k] : ram::test::fake_states())
      d.optimizer_state[name] = ram::test::fake_state(k, lo, hi);
    if (model->dtype() != at::kFloat) d.master = ram::test::fake_state(ram::test::kFakeMasterK, lo, hi);
    d.trainer.step = 5;
    d.trainer.examples_seen = 40;
    d.trainer.seed = 3;
    d.trainer.metrics_json = R"({"loss": 1.5})";
    auto file = ram::train::write_checkpoint(argv[3], *model, d, argv[1], "seed: 3\n",
                                             "ckpt_write_fake");
    if (ram::dist::is_root()) std::printf("%s\n", file.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[rank %d] error: %s\n", ram::dist::rank(), ram::format_error(e).c_str());
    ram::dist::abort_job(1);
  }
  return 0;
}
