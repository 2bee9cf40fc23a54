// `ram make-tiny-model --arch llama|qwen2|gpt_neox --out DIR [sizes...] [--tokenizer DIR]`
// — a random-weight HF model directory that transformers itself could load:
// config.json (HF's key names, from the plugin), model.safetensors, generation_config.json
// and, with --tokenizer, tokenizer.json / tokenizer_config.json copied (model/hf_dir.hpp).
//
// vocab, hidden, layers, heads and intermediate have the defaults below; other sizes not
// given are the plugin's defaults (kv-heads = heads, ...); a size the architecture does not
// have (e.g. --kv-heads for gpt_neox) is the plugin's error. With --tokenizer the vocabulary defaults
// to the tokenizer's size and may not be smaller; bos/eos_token_id come from it.
// Writes into DIR.tmp-<pid>, then renames; an existing non-empty DIR needs --force.
#include <nlohmann/json.hpp>

#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "log/log.hpp"
#include "model/hf_dir.hpp"
#include "model/tiny.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

struct Args {
  std::string arch, out, dtype = "f32", rope_scaling, tokenizer;
  std::int64_t vocab = 512, hidden = 64, layers = 2, heads = 4, kv_heads = 0, intermediate = 256,
               max_positions = 0, seed = 0;
  double rope_theta = 0, rotary_pct = 0, init_std = 0;
  bool tied = false, force = false;
};

void run(const Args& a, CLI::App* cmd) {
  ram::model::TinySpec spec;
  spec.arch = a.arch;
  spec.dtype = ram::model::check_dtype(a.dtype, "--dtype");
  auto given = [&](const char* flag) { return cmd->count(flag) > 0; };
  if (given("--vocab")) spec.vocab = a.vocab;
  spec.hidden = a.hidden;
  spec.layers = a.layers;
  spec.heads = a.heads;
  spec.intermediate = a.intermediate;
  if (given("--kv-heads")) spec.kv_heads = a.kv_heads;
  if (given("--max-positions")) spec.max_positions = a.max_positions;
  if (given("--rope-theta")) spec.rope_theta = a.rope_theta;
  if (given("--rotary-pct")) spec.rotary_pct = a.rotary_pct;
  if (given("--tied")) spec.tied = a.tied;
  if (given("--init-std")) spec.init_std = a.init_std;
  spec.seed = a.seed;
  if (given("--rope-scaling"))
    spec.rope_scaling = ram::model::parse_rope_scaling(a.rope_scaling, "--rope-scaling");

  nlohmann::json overrides = nlohmann::json::object();
  std::optional<std::filesystem::path> tok_dir;
  if (!a.tokenizer.empty()) {
    tok_dir = a.tokenizer;
    auto tok = ram::tok::Tokenizer::from_dir(*tok_dir);
    if (!spec.vocab) spec.vocab = tok.vocab_size();
    if (*spec.vocab < tok.vocab_size())
      throw ram::ConfigError("--vocab " + std::to_string(*spec.vocab) + " is smaller than the "
                             "tokenizer's " + std::to_string(tok.vocab_size()) + " tokens",
                             a.tokenizer, "omit --vocab (it defaults to the tokenizer's size) "
                             "or give at least " + std::to_string(tok.vocab_size()));
    if (auto bos = tok.bos_id()) overrides["bos_token_id"] = *bos;
    if (auto eos = tok.eos_id()) overrides["eos_token_id"] = *eos;
  }
  if (!spec.vocab) spec.vocab = a.vocab;
  auto model = ram::model::make_tiny_model(spec);
  ram::model::save_hf_dir(*model, a.out, tok_dir, a.force, overrides.dump());
  std::int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  ram::log::info("make-tiny-model: {} ({} parameters, {}) → {}", model->describe(), n, a.dtype, a.out);
}

}  // namespace

RAM_VERB(make_tiny_model) {
  auto* cmd = app.add_subcommand("make-tiny-model",
                                 "write a random-weight HF model directory (tests, benchmarks)");
  static Args a;
  cmd->add_option("--arch", a.arch, "model plugin / HF model_type: llama, qwen2, gpt_neox, ...")->required();
  cmd->add_option("--out", a.out, "the directory to write")->required();
  cmd->add_option("--vocab", a.vocab, "vocabulary size (with --tokenizer: the tokenizer's)")
      ->capture_default_str();
  cmd->add_option("--hidden", a.hidden, "hidden size")->capture_default_str();
  cmd->add_option("--layers", a.layers, "decoder layers")->capture_default_str();
  cmd->add_option("--heads", a.heads, "attention heads")->capture_default_str();
  cmd->add_option("--kv-heads", a.kv_heads, "key/value heads (grouped-query attention; default: heads)");
  cmd->add_option("--intermediate", a.intermediate, "MLP intermediate size")->capture_default_str();
  cmd->add_option("--max-positions", a.max_positions, "max_position_embeddings");
  cmd->add_option("--rope-theta", a.rope_theta, "RoPE base");
  cmd->add_option("--rope-scaling", a.rope_scaling,
                  "none | linear:F | llama3:F[:LOW:HIGH:ORIG] (llama3 defaults: low_freq_factor 1, "
                  "high_freq_factor 4, original_max_position_embeddings 8192)");
  cmd->add_flag("--tied", a.tied, "tie lm_head to the input embeddings");
  cmd->add_option("--rotary-pct", a.rotary_pct, "fraction of each head that is rotated (gpt_neox)");
  cmd->add_option("--dtype", a.dtype, "f32 | bf16 (weights as stored)")->capture_default_str();
  cmd->add_option("--seed", a.seed, "random seed of the weights")->capture_default_str();
  cmd->add_option("--init-std", a.init_std,
                  "std of the normal init (HF's initializer_range; plugin default 0.02; tests use "
                  "0.2 so attention is peaked and positions matter)");
  cmd->add_option("--tokenizer", a.tokenizer, "copy tokenizer.json / tokenizer_config.json from DIR");
  cmd->add_flag("--force", a.force, "replace an existing non-empty --out");
  cmd->callback([cmd] {
    if (ram::dist::is_root()) run(a, cmd);
    ram::dist::barrier();
  });
}
