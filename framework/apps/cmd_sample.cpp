// `ram sample [EXPERIMENT] [key=value ...]` — proposal samples for every prompt of the
// dataset into one synth.h5 (sample/sample.hpp), sharded over the ranks of mpirun with
// dynamic balancing; a killed run resumes from its part files when rerun.
#include "apps/verbs.hpp"
#include "sample/sample.hpp"

RAM_VERB(sample) {
  ram::apps::add_config_verb(app, "sample",
                             "sample the proposal model on every prompt into synth.h5 (resumable)",
                             [](const ram::config::Resolved& cfg) {
    auto s = ram::sample::run(cfg, ram::apps::command_line());
    ram::log::info("{}", ram::sample::format_summary(s));
  });
}
