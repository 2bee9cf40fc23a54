// `ram train [EXPERIMENT] [key=value ...]` — data-parallel training of the policy with the
// objective plugin `loss.name` (train/trainer.hpp): metrics.jsonl, HDF5 checkpoints,
// `resume=true` continues from ckpt/LATEST.
#include <fmt/format.h>

#include "apps/verbs.hpp"
#include "pipeline/pipeline.hpp"
#include "train/trainer.hpp"

namespace {
const bool train_stage_registered = (ram::pipeline::register_stage_verb(
    "train",
    [](const ram::config::Resolved& cfg, const std::string& command) {
      auto s = ram::train::run(cfg, command);
      ram::log::info("{}", ram::train::format_summary(s));
      return ram::pipeline::StageOutcome{
          s.already_complete, fmt::format("{} steps, {} examples, final loss {:.5g}, {:.0f} tokens/s", s.steps,
                                          s.examples_seen, s.final_loss, s.tokens_per_s)};
    }),
    true);
}  // namespace

RAM_VERB(train) {
  ram::apps::add_config_verb(app, "train",
                             "train the aligner (or a baseline) with an objective plugin, data-parallel over ranks",
                             [](const ram::config::Resolved& cfg) {
    auto s = ram::train::run(cfg, ram::apps::command_line());
    ram::log::info("{}", ram::train::format_summary(s));
  });
}
