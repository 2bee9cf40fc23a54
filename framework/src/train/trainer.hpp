// train/trainer.hpp — `ram train`: data-parallel training of the policy (the residual
// aligner, or an SFT/DPO baseline) with an objective plugin (DESIGN §4, §7; ram-method.md).
//
// Config (configs/config.yaml; the original's knobs are top-level):
//   model.path            the policy's HF directory (its tokenizer.json is the aligner's)
//   dtype                 f32 | bf16 parameters and compute; bf16 keeps f32 master weights
//                         in the optimizer (mixed precision)
//   loss                  the objective plugin node (loss.name = plugin)
//   batch_size            GLOBAL examples per optimizer step, over all ranks
//   gradient_accumulation_steps   micro-batches per rank per step; batch_size must divide
//                         by ranks × gradient_accumulation_steps
//   lr, warmup_steps (null: train examples / batch_size / 10), optimizer (rmsprop|adamw),
//   max_grad_norm, n_epochs, n_examples (null: n_epochs passes), eval_every (examples),
//   n_eval_examples, eval_batch_size, do_first_eval, max_length, max_prompt_length, seed,
//   resume (continue from <train.out>/ckpt/LATEST)
//   train.data (synth|dataset), train.synth, train.out, train.init_from (the original's
//   archive: a checkpoint whose /model overlays model.path), train.reference (dpo: the
//   frozen reference's HF dir; null = model.path), train.zero1, train.bucket_mb,
//   train.add_bos, train.truncation_mode, train.log_every, train.fail_on_nonfinite
//
// Step s (global, 0-based) consumes examples [s·B, (s+1)·B) of the concatenated epoch
// orders (data.hpp epoch_order); rank r takes the r-th of W equal slices and splits it into
// G micro-batches. Each rank's loss is Σ loss_sum / B (global B), so the all-reduced SUM of
// gradients is the gradient of the global-batch mean: W ranks equal 1 rank up to float
// summation order. LR at step s: lr · min(1, (s + 1) / (warmup_steps + 1)) (the original's
// LambdaLR). Gradients are clipped to max_grad_norm by their global norm (after the
// all-reduce), then the optimizer steps (ZeRO-1: each rank updates its shard of the flat
// f32 buffer and the shards are all-gathered).
//
// Outputs under train.out: metrics.jsonl (rank 0; one line per step, one per eval; with
// more than one rank a step's line also has rank 0's allreduce_seconds and
// allreduce_wait_seconds, the part waited after backward),
// ckpt/step-N.h5 at each eval after step 0 and at the end, ckpt/LATEST.
// SIGUSR1 / SIGTERM (Slurm's time-limit warning, preemption): all ranks stop after the
// current step, write a checkpoint, and return a Summary with interrupted = true (exit 0).
// A non-finite loss or gradient norm stops the run with a DataError naming the step and
// the example ids of the offending micro-batches; no checkpoint is written for that step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/compose.hpp"

namespace ram::train {

struct Summary {
  bool already_complete = false;   // LATEST already at the final step (resume)
  bool interrupted = false;        // stopped early by SIGUSR1/SIGTERM (platform/stop.hpp);
                                   // checkpointed at `steps`: rerun with resume=true
  std::int64_t total_steps = 0;    // steps of the whole run
  std::int64_t steps = 0;          // optimizer steps at the end
  std::int64_t steps_this_run = 0;
  std::int64_t examples_seen = 0;
  std::int64_t tokens_this_run = 0;   // real tokens forwarded (all ranks, policy, training)
  double seconds = 0;                 // wall time of the training steps of this run
  double step_seconds_mean = 0;       // per optimizer step (this run)
  double tokens_per_s = 0;            // tokens_this_run / seconds
  double allreduce_seconds = 0;       // rank 0: time inside gradient all-reduce calls
  double allreduce_wait_seconds = 0;  // rank 0: of which waited after backward ended
  double final_loss = 0;              // the last step's mean loss
  std::string last_checkpoint;        // file name, or empty
  std::string metrics_file;
};

Summary run(const config::Resolved& cfg, const std::string& command);

std::string format_summary(const Summary& s);

}  // namespace ram::train
