// alpaca — Alpaca-format JSON / JSONL: {"instruction": ..., "input": ..., "output": ...},
// `input` optional (AlpacaEval's 805 prompts have none; they carry `dataset` and
// `generator`, kept in meta).
//   prompt   = "\n\nHuman: {instruction}{input_separator}{input}\n\nAssistant: " when input
//              is non-empty (Alpaca puts the input after the instruction, separated by a
//              blank line), else "\n\nHuman: {instruction}\n\nAssistant: "
//   chosen   = output
//   rejected = the rejected_key field when set and present (a proposal response)
// Ids: "<file stem>:<line>"; meta: source, instruction (as read, without the input),
// input, dataset, generator (when present).
//
// Keys (besides common/record_dataset.hpp's): root (folder with <split>.json / .jsonl, .gz
// or not) or path (one file); input_separator ("\n\n"); rejected_key (null).
#include <ram/config.hpp>
#include <ram/dataset.hpp>
#include <ram/plugin.hpp>

#include "common/record_dataset.hpp"
#include "common/source.hpp"
#include "common/templates.hpp"

namespace {

using namespace ram_datasets;

class Alpaca : public RecordDataset {
 public:
  explicit Alpaca(const ram::ConfigView& cfg) : RecordDataset("alpaca") {
    read_common(cfg);
    const std::string separator = cfg.get<std::string>("input_separator", "\n\n");
    const std::string rejected_key = cfg.get<std::string>("rejected_key", "");
    std::string key;
    const std::string file = single_file(cfg, key);
    cfg.finish();
    load_file(file, key, file_tag(file), [&](const json& obj, const std::string& where) {
      Row row;
      const std::string instruction = string_field(obj, "instruction", where);
      std::string input;
      optional_string_field(obj, "input", where, input);
      row.prompt = single_turn_prompt(input.empty() ? instruction : instruction + separator + input);
      row.chosen = string_field(obj, "output", where);
      if (!rejected_key.empty()) row.has_rejected = optional_string_field(obj, rejected_key, where, row.rejected);
      row.meta["instruction"] = instruction;
      if (!input.empty()) row.meta["input"] = input;
      for (const char* k : {"dataset", "generator"}) {
        std::string v;
        if (optional_string_field(obj, k, where, v)) row.meta[k] = v;
      }
      return row;
    });
    finish_loading(key, "input_separator=" + separator + "\nrejected_key=" + rejected_key);
  }
};

}  // namespace

RAM_DATASET_PLUGIN("alpaca", "1.0.0", "Alpaca / AlpacaEval JSON or JSONL (instruction / input / output)", Alpaca)
