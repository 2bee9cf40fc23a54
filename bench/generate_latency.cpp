// bench/generate_latency.cpp — the latency of RAM decoding (issue 6 item 6): time to first
// token (TTFT) and tokens/s of
//   proposal      the proposal alone (the engine, one model)
//   par_kl        RAM decoding, proposal + aligner in lockstep (each with its KV cache)
//   resample N    N proposal samples per prompt + the aligner's log Q of each + the pick
// at batch 1 (one prompt) and batched (8 prompts decoded together; resample: its N samples
// per prompt are the batch). Models: llama-shape, random weights (model::make_tiny_model):
// a 6-layer proposal and a 2-layer aligner, hidden 512, vocabulary 32000, f32.
//
// TTFT: the wall time until the first output token of every prompt is known — for the
// token-level modes a run with max_new_tokens = 1 (prefill + the first joint step); for
// resample the whole run, since the output is known only once all N samples are complete
// and scored. tokens/s: output tokens (the chosen ones for resample) / wall time of a run
// of --new-tokens tokens, no EOS (every row decodes the full length). Best of --reps runs.
//
//   bench_generate_latency [--new-tokens 32] [--prompt-len 32] [--reps 3] [--hidden 512]
// One JSON line per figure: {"bench": "generate_latency", "mode", "batch", "n",
//  "ttft_s", "tokens_per_s", "wall_s", "tokens"}.
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "generate/decoder.hpp"
#include "model/tiny.hpp"
#include "ram/model.hpp"

namespace {

namespace g = ram::generate;

std::shared_ptr<ram::CausalLM> model(std::int64_t layers, std::int64_t hidden, std::int64_t seed) {
  ram::model::TinySpec s;
  s.arch = "llama";
  s.vocab = 32000;
  s.hidden = hidden;
  s.layers = layers;
  s.heads = hidden / 64;
  s.kv_heads = std::max<std::int64_t>(hidden / 128, 1);
  s.intermediate = hidden * 11 / 4;
  s.max_positions = 512;
  s.seed = seed;
  s.init_std = 0.05;
  return ram::model::make_tiny_model(s);
}

struct Run {
  double wall = 0;
  std::int64_t tokens = 0;
};

}  // namespace

int main(int argc, char** argv) {
  return ram::bench::guarded_main(argc, argv, [](int argc, char** argv) {
    std::int64_t new_tokens = 32, prompt_len = 32, reps = 3, hidden = 512;
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string k = argv[i];
      const std::int64_t v = std::atoll(argv[i + 1]);
      if (k == "--new-tokens") new_tokens = v;
      else if (k == "--prompt-len") prompt_len = v;
      else if (k == "--reps") reps = v;
      else if (k == "--hidden") hidden = v;
      else throw ram::ConfigError("unknown option " + k, "bench_generate_latency",
                                  "options: --new-tokens --prompt-len --reps --hidden");
    }
    c10::InferenceMode guard;
    auto proposal = model(6, hidden, 1), aligner = model(2, hidden, 2);
    auto requests = [&](std::int64_t n) {
      std::vector<g::Request> r;
      for (std::int64_t i = 0; i < n; ++i) {
        std::vector<std::int64_t> p;
        for (std::int64_t j = 0; j < prompt_len; ++j) p.push_back((i * 7919 + j * 104729) % 32000);
        r.push_back({i, 0, p});
      }
      return r;
    };
    auto settings = [&](g::JointMode mode, std::int64_t batch, std::int64_t max_new, std::int64_t n) {
      g::DecodeSettings s;
      s.engine.batch_size = batch;
      s.engine.sampling.temperature = 0.7;
      s.engine.sampling.top_p = 0.9;
      s.engine.sampling.top_k = 0;
      s.engine.sampling.repetition_penalty = 1.05;
      s.engine.sampling.order = g::generate_order();
      s.engine.stop.max_new_tokens = max_new;
      s.engine.stop.max_length = prompt_len + max_new;
      s.engine.stop.max_prompt_length = prompt_len;
      s.engine.joint.mode = mode;
      s.engine.joint.base_temperature = 0.5;
      s.num_candidates = n;
      return s;
    };
    auto time_it = [&](g::JointMode mode, bool with_aligner, std::int64_t prompts, std::int64_t batch,
                       std::int64_t max_new, std::int64_t n) {
      Run best;
      for (std::int64_t k = 0; k < reps; ++k) {
        // proposal alone: the proposal is the engine's model.
        g::Decoder d(with_aligner ? *aligner : *proposal, with_aligner ? proposal.get() : nullptr,
                     nullptr, settings(mode, batch, max_new, n));
        Run r;
        const double t0 = ram::bench::now_s();
        d.run(requests(prompts), [&](g::Output&& o) { r.tokens += static_cast<std::int64_t>(o.ids.size()); });
        r.wall = ram::bench::now_s() - t0;
        if (k == 0 || r.wall < best.wall) best = r;
      }
      return best;
    };
    struct Case {
      std::string name;
      g::JointMode mode;
      bool with_aligner;
      std::int64_t n;
    };
    const std::vector<Case> cases = {{"proposal", g::JointMode::none, false, 1},
                                     {"par_kl", g::JointMode::par_kl, true, 1},
                                     {"resample", g::JointMode::resample, true, 4},
                                     {"resample", g::JointMode::resample, true, 16}};
    for (std::int64_t prompts : {std::int64_t{1}, std::int64_t{8}}) {
      for (const auto& c : cases) {
        // Batched: 8 prompts together; resample decodes its N samples per prompt as the batch.
        const std::int64_t batch = c.mode == g::JointMode::resample ? std::max<std::int64_t>(c.n, prompts == 1 ? 1 : 8) : prompts;
        const Run first = c.mode == g::JointMode::resample
                              ? time_it(c.mode, c.with_aligner, prompts, batch, new_tokens, c.n)
                              : time_it(c.mode, c.with_aligner, prompts, batch, 1, c.n);
        const Run full = c.mode == g::JointMode::resample
                             ? first
                             : time_it(c.mode, c.with_aligner, prompts, batch, new_tokens, c.n);
        ram::bench::emit("generate_latency",
                         {{"mode", c.name}, {"batch", prompts}, {"n", c.n}, {"ttft_s", first.wall},
                          {"tokens_per_s", full.tokens / full.wall}, {"wall_s", full.wall},
                          {"tokens", full.tokens}, {"new_tokens", new_tokens}, {"prompt_len", prompt_len},
                          {"hidden", hidden}, {"proposal_layers", 6}, {"aligner_layers", 2}});
      }
    }
    return 0;
  });
}
