// `ram sample [EXPERIMENT] [key=value ...]` — proposal samples for every prompt of the
// dataset into one synth.h5 (sample/sample.hpp), sharded over the ranks of mpirun with
// dynamic balancing; a killed run resumes from its part files when rerun.
#include <fmt/format.h>

#include "apps/verbs.hpp"
#include "pipeline/pipeline.hpp"
#include "sample/sample.hpp"

namespace {
const bool sample_stage_registered = (ram::pipeline::register_stage_verb(
    "sample",
    [](const ram::config::Resolved& cfg, const std::string& command) {
      auto s = ram::sample::run(cfg, command);
      ram::log::info("{}", ram::sample::format_summary(s));
      return ram::pipeline::StageOutcome{
          s.already_complete, fmt::format("{} samples of {} prompts, {} tokens", s.samples, s.prompts,
                                          s.generated_tokens)};
    }),
    true);
}  // namespace

RAM_VERB(sample) {
  ram::apps::add_config_verb(app, "sample",
                             "sample the proposal model on every prompt into synth.h5 (resumable)",
                             [](const ram::config::Resolved& cfg) {
    auto s = ram::sample::run(cfg, ram::apps::command_line());
    ram::log::info("{}", ram::sample::format_summary(s));
  });
}
