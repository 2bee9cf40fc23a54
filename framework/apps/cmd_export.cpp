// `ram export CKPT --out DIR [--force]` — a training checkpoint (ckpt/step-N.h5, or a
// directory holding LATEST: train.out or its ckpt/) as a HuggingFace model directory:
// config.json, model.safetensors, generation_config.json and the tokenizer files, which
// `ram score` / `ram generate` (and transformers) load with the trained weights
// (train/checkpoint.hpp export_hf). Rank 0 writes; DIR.tmp-<pid> is renamed into place;
// an existing non-empty DIR needs --force.
#include <filesystem>
#include <string>

#include <ram/error.hpp>

#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "log/log.hpp"
#include "pipeline/pipeline.hpp"
#include "train/checkpoint.hpp"

namespace {

// As a pipeline stage: export.from (a checkpoint or a dir with LATEST) → export.out. The
// stage is complete when export.out holds a model newer than the checkpoint.
ram::pipeline::StageOutcome export_stage(const ram::config::Resolved& cfg, const std::string&) {
  namespace fs = std::filesystem;
  ram::ConfigView e = cfg.view().child("export");
  const std::string from = e.get<std::string>("from"), out = e.get<std::string>("out");
  e.finish();
  const auto file = ram::train::resolve_checkpoint(from);
  if (!file)
    throw ram::ConfigError("export.from " + from + " holds no checkpoint yet", e.where("from").str(),
                           "run the training stage first (or point export.from at a ckpt/ directory)");
  const fs::path model = fs::path(out) / "model.safetensors";
  std::error_code ec;
  const bool complete = fs::exists(model, ec) && fs::last_write_time(model, ec) >= fs::last_write_time(*file, ec);
  if (!complete && ram::dist::is_root()) ram::train::export_hf(*file, out, true);
  ram::dist::barrier();
  return {complete, file->filename().string() + " -> " + out};
}

const bool export_stage_registered = (ram::pipeline::register_stage_verb("export", export_stage), true);

}  // namespace

RAM_VERB(export) {
  auto* cmd = app.add_subcommand("export", "write a training checkpoint as an HF model directory");
  static std::string ckpt, out;
  static bool force = false;
  cmd->add_option("checkpoint", ckpt, "ckpt/step-N.h5, or a directory holding LATEST")->required();
  cmd->add_option("--out", out, "the HF directory to write")->required();
  cmd->add_flag("--force", force, "replace an existing non-empty --out");
  cmd->callback([] {
    if (ram::dist::is_root()) {
      ram::train::export_hf(ckpt, out, force);
      ram::log::info("export: {} → {}", ckpt, out);
    }
    ram::dist::barrier();
  });
}
