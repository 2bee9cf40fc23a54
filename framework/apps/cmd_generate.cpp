// `ram generate --model DIR --greedy --max-new-tokens N --input FILE.jsonl [--output FILE]
// [--batch-size N]` — continue each prompt with an HF model.
//
// Input lines: {"prompt_ids": [...]} or {"prompt": "..."} (encoded with
// add_special_tokens = true). Output, one line per input line, in order:
//   {"ids": [new token ids], "text": the new ids decoded with skip_special_tokens = true,
//    or null when DIR has no tokenizer}
// Each row stops at its first EOS (generation_config.json, else config.json
// eos_token_id, one id or a list; the EOS is kept in "ids", as HF keeps it) or after
// N new tokens. Batched with left padding and the model's KV cache (generate/greedy.hpp).
// Decoding modes: only --greedy today; sampling modes join as further flags that choose
// the NextToken step. Under mpirun, lines are shared among ranks; rank 0 writes them all.
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include "apps/inference_io.hpp"
#include "apps/verbs.hpp"
#include "generate/greedy.hpp"
#include "log/log.hpp"
#include "ram/model.hpp"

RAM_VERB(generate) {
  auto* cmd = app.add_subcommand("generate", "continue each JSONL prompt with an HF model directory");
  static std::string model_dir, input, output, dtype = "f32";
  static std::int64_t batch_size = 8, max_new = 64;
  static bool greedy = false;
  cmd->add_option("--model", model_dir, "HF model directory (config.json, model.safetensors)")->required();
  cmd->add_option("--input", input, "JSONL: {\"prompt_ids\"} or {\"prompt\"} per line; - reads stdin")
      ->required();
  cmd->add_option("--output", output, "JSONL output (default: stdout)");
  cmd->add_flag("--greedy", greedy, "arg-max decoding (the only mode so far)");
  cmd->add_option("--max-new-tokens", max_new, "new tokens per prompt at most")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--dtype", dtype, "f32 | bf16 (compute dtype)")->capture_default_str();
  cmd->add_option("--batch-size", batch_size, "prompts decoded together")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([] {
    if (!greedy)
      throw ram::ConfigError("no decoding mode chosen", "ram generate",
                             "pass --greedy (sampling modes come with the decoding engine)");
    c10::InferenceMode guard;
    ram::model::check_dtype(dtype, "--dtype");
    auto model = ram::model::load_model(model_dir, dtype);
    ram::apps::LazyTokenizer tok(model_dir);
    auto lines = ram::generate::read_requests(input, false, model->vocab_size(), tok.encoder());
    auto gen = ram::model::read_generation_info(model_dir);
    ram::generate::DecodeOptions opt;
    opt.max_new_tokens = max_new;
    opt.eos_ids = gen.eos_ids;
    auto mine = ram::apps::my_lines(lines.size(), [&](std::size_t i) { return lines[i].prompt.size(); });
    ram::log::info("generate: {} prompts ({} on this rank), greedy, ≤ {} new tokens, model {} ({})",
                   lines.size(), mine.size(), max_new, model->describe(), dtype);
    const bool has_tok = tok.available();
    std::vector<std::pair<std::size_t, std::string>> results;
    for (std::size_t at = 0; at < mine.size(); at += static_cast<std::size_t>(batch_size)) {
      std::size_t end = std::min(mine.size(), at + static_cast<std::size_t>(batch_size));
      std::vector<std::vector<std::int64_t>> prompts;
      for (std::size_t k = at; k < end; ++k) prompts.push_back(lines[mine[k]].prompt);
      auto outs = ram::generate::greedy_decode(*model, prompts, opt);
      for (std::size_t k = at; k < end; ++k) {
        const auto& ids = outs[k - at];
        nlohmann::ordered_json j = {{"ids", ids}};
        j["text"] = has_tok ? nlohmann::ordered_json(tok.decode(ids, true)) : nlohmann::ordered_json();
        results.emplace_back(mine[k], j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
      }
    }
    ram::apps::write_in_order(std::move(results), output);
  });
}
