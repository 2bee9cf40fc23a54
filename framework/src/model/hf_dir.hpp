// model/hf_dir.hpp — a HuggingFace model directory ⇄ a CausalLM from a model plugin.
//
// Loading: DIR/config.json's `model_type` names the plugin (llama, qwen2, gpt_neox, or any
// plugin a user adds); the plugin gets the config node {name: <model_type>, path: DIR,
// dtype: f32|bf16} and reads the weights itself (ram/model.hpp). The framework never names
// an architecture.
//
// Saving writes, into DIR.tmp-<pid> and then renamed to DIR (a final name never holds a
// half-written directory):
//   config.json             model.hf_config_json()
//   model.safetensors       named_parameters() in order, contiguous, in the model's dtype,
//                           metadata {"format": "pt"} (transformers requires it); a tied
//                           lm_head is not a parameter, so it is not written (as HF does)
//   generation_config.json  {"_from_model_config": true, "bos_token_id", "eos_token_id",
//                            "pad_token_id" (those config.json has), "transformers_version"}
//   tokenizer files         copied from tokenizer_dir when given (tokenizer.json,
//                           tokenizer_config.json, special_tokens_map.json, those present)
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ram/safetensors.hpp"

namespace ram {
class CausalLM;
}

namespace ram::model {

// "f32" | "bf16"; anything else is a ConfigError naming `where`.
std::string check_dtype(const std::string& dtype, const std::string& where);

// The model of an HF directory through its plugin. Errors: no config.json, unreadable
// JSON or no model_type (FormatError naming the file); no plugin for that model_type
// (PluginError naming the model_type, the file and the plugins that exist).
std::shared_ptr<CausalLM> load_model(const std::filesystem::path& dir, const std::string& dtype);

// config.json's `model_type` (with the same errors as load_model).
std::string model_type(const std::filesystem::path& dir);

// Token ids that steer decoding, from generation_config.json when present, else
// config.json. eos may be one id or a list (Llama-3.1 lists three).
struct GenerationInfo {
  std::vector<std::int64_t> eos_ids;
  std::optional<std::int64_t> bos_id, pad_id;
};
GenerationInfo read_generation_info(const std::filesystem::path& dir);

// Writes the directory as described above. An existing non-empty `dir` is a ConfigError
// unless `force` (then it is replaced). `config_overrides` (a JSON object, may be empty)
// is merged into config.json first (make-tiny-model sets bos/eos from a tokenizer).
void save_hf_dir(const CausalLM& model, const std::filesystem::path& dir,
                 const std::optional<std::filesystem::path>& tokenizer_dir, bool force,
                 const std::string& config_overrides = "{}");

// The tokenizer files save_hf_dir copies, as present in `dir`.
std::vector<std::filesystem::path> tokenizer_files(const std::filesystem::path& dir);

// The ConfigError save_hf_dir gives for an existing non-empty `dir` without `force`
// (callers check before doing expensive work).
void check_out_dir(const std::filesystem::path& dir, bool force);

// What save_hf_dir writes, from its parts (also `ram export`, train/checkpoint.hpp):
// config.json from `config_json` (a JSON object; written as dump(2)), generation_config.json
// derived from it, model.safetensors holding `tensors` in order, and `files` (file name →
// bytes, e.g. the tokenizer files). Same atomicity and `force` rule as save_hf_dir.
void write_hf_dir(const std::filesystem::path& dir, const std::string& config_json,
                  const safetensors::NamedTensors& tensors,
                  const std::vector<std::pair<std::string, std::string>>& files, bool force);

}  // namespace ram::model
