// pipeline/pipeline.hpp — `ram pipeline EXPERIMENT [k=v…]`: the stages an experiment lists,
// in order, each one a verb run in this process on all ranks (DESIGN §2).
//
// Config (configs/config.yaml `pipeline:`):
//   pipeline.stages: [sample, train, generate, eval]     the stage names to run, in order
//   pipeline.<stage>: {verb: <verb>, set: ["k=v", …]}     what a stage runs; `set` holds
//       overrides applied after the experiment and before the command line's, e.g. the
//       warm-up SFT stage `{verb: train, set: ["loss=sft", "train.out=${run_dir}/warmup"]}`
// Verbs: sample, train (always with resume=true), export (export.from → export.out),
// generate, eval. Each stage writes under ${run_dir}/<its output dir> (runs/<experiment>/
// sample, train, generate, …). A stage whose output is complete is skipped by the verb
// itself (sample: synth.h5 with the same settings; train: LATEST at the final step;
// export: the HF dir exists and is newer than the checkpoint; generate: outputs present);
// an incomplete one resumes. The pipeline ends with a table: stage, verb, status (ran |
// complete | failed), seconds, the stage's key figures.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/compose.hpp"

namespace ram::pipeline {

struct StageReport {
  std::string stage, verb, status;  // status: "ran" | "complete"
  double seconds = 0;
  std::string figures;              // e.g. "steps 100, loss 1.23"
};

// What a verb does as a stage: runs it on the composed config, says whether it found its
// output complete, and returns its key figures.
struct StageOutcome {
  bool already_complete = false;
  std::string figures;
};
using StageFn = std::function<StageOutcome(const config::Resolved& cfg, const std::string& command)>;

// Verbs join the pipeline here (apps register generate / eval when they are built in).
void register_stage_verb(const std::string& verb, StageFn fn);

// Runs every stage of `base.experiment` (compose options as given on the command line).
std::vector<StageReport> run(const config::ComposeOptions& base, const std::string& command);

std::string format_table(const std::vector<StageReport>& reports);

}  // namespace ram::pipeline
