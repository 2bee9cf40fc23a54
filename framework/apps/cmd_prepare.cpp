// `ram prepare [EXPERIMENT] [key=value ...]` — a dataset plugin's examples → one HDF5 file,
// written collectively by all ranks (data/prepare.hpp). Run under mpirun for several ranks.
#include "apps/verbs.hpp"
#include "data/prepare.hpp"

RAM_VERB(prepare) {
  ram::apps::add_config_verb(app, "prepare",
                             "write a dataset's examples into one HDF5 file (synth.h5 layout)",
                             [](const ram::config::Resolved& cfg) {
    auto s = ram::data::prepare(cfg, ram::apps::command_line());
    ram::log::info("prepare: {} examples ({} skipped) → {} in {:.2f} s", s.examples, s.skipped,
                   s.out, s.seconds);
  });
}
