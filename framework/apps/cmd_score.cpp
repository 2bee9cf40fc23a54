// `ram score --model DIR --input FILE.jsonl [--output FILE] [--dtype f32|bf16]
// [--batch-size N]` — log P(response | prompt) of each input line under an HF model.
//
// Input lines (generate/requests.hpp): {"prompt_ids": [...], "response_ids": [...]} or
// {"prompt": "...", "response": "..."} (text: prompt encoded with add_special_tokens =
// true, response with false, by DIR's tokenizer). Output, one line per input line, in order:
//   {"logprob": Σ log P(response token | everything before it),
//    "token_logprobs": [one per response token],
//    "top_logits": [[id, logit] × 5]}  — the 5 largest logits of the last position, i.e.
//   the row after the full prompt ++ response (the next token's distribution).
// Lines run in batches, left-padded, with HF generate's positions. Under mpirun the lines
// are shared among ranks and rank 0 writes them all (apps/inference_io.hpp).
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include "apps/inference_io.hpp"
#include "apps/verbs.hpp"
#include "generate/score.hpp"
#include "log/log.hpp"
#include "ram/model.hpp"

RAM_VERB(score) {
  auto* cmd = app.add_subcommand(
      "score",
      "log P(response | prompt) per JSONL line under an HF model directory; top_logits are "
      "the 5 largest logits at the last position (after the full prompt + response)");
  static std::string model_dir, input, output, dtype = "f32";
  static std::int64_t batch_size = 8;
  cmd->add_option("--model", model_dir, "HF model directory (config.json, model.safetensors)")->required();
  cmd->add_option("--input", input, "JSONL: {\"prompt_ids\",\"response_ids\"} or {\"prompt\",\"response\"} "
                                    "per line; - reads stdin")->required();
  cmd->add_option("--output", output, "JSONL output (default: stdout)");
  cmd->add_option("--dtype", dtype, "f32 | bf16 (compute dtype)")->capture_default_str();
  cmd->add_option("--batch-size", batch_size, "lines per forward pass")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([] {
    c10::InferenceMode guard;
    ram::model::check_dtype(dtype, "--dtype");
    auto model = ram::model::load_model(model_dir, dtype);
    ram::apps::LazyTokenizer tok(model_dir);
    auto lines = ram::generate::read_requests(input, true, model->vocab_size(), tok.encoder());
    auto mine = ram::apps::my_lines(lines.size(), [&](std::size_t i) {
      return lines[i].prompt.size() + lines[i].response.size();
    });
    ram::log::info("score: {} lines ({} on this rank), model {} ({})", lines.size(), mine.size(),
                   model->describe(), dtype);
    std::vector<std::pair<std::size_t, std::string>> results;
    for (std::size_t at = 0; at < mine.size(); at += static_cast<std::size_t>(batch_size)) {
      std::size_t end = std::min(mine.size(), at + static_cast<std::size_t>(batch_size));
      std::vector<ram::generate::ScoreRequest> batch;
      for (std::size_t k = at; k < end; ++k)
        batch.push_back({lines[mine[k]].prompt, lines[mine[k]].response});
      auto scored = ram::generate::score_batch(*model, batch);
      for (std::size_t k = at; k < end; ++k) {
        const auto& s = scored[k - at];
        nlohmann::json top = nlohmann::json::array();
        for (const auto& [id, logit] : s.top_logits) top.push_back({id, logit});
        nlohmann::ordered_json j = {{"logprob", s.logprob},
                                    {"token_logprobs", s.token_logprobs},
                                    {"top_logits", top}};
        results.emplace_back(mine[k], j.dump());
      }
    }
    ram::apps::write_in_order(std::move(results), output);
  });
}
