// ultrachat — UltraChat's first round as the original's data files hold it: a JSON array or
// JSONL of {"instruction": ..., "output": ..., "sampling": ...}; `sampling` (a proposal
// sample of the same instruction, in the original's pre-sampled files) is optional.
//   prompt   = "\n\nHuman: {instruction}\n\nAssistant: "
//   chosen   = output
//   rejected = the rejected_key field (sampling) when the record has it, else ""
// Ids: the record's `id` when present (string or integer), else "<file stem>:<line>";
// meta: source, instruction.
//
// Keys (besides common/record_dataset.hpp's): root (folder with <split>.jsonl / .json,
// .gz or not) or path (one file); rejected_key (sampling; null = never read one).
#include <ram/config.hpp>
#include <ram/dataset.hpp>
#include <ram/plugin.hpp>

#include "common/record_dataset.hpp"
#include "common/source.hpp"
#include "common/templates.hpp"

namespace {

using namespace ram_datasets;

class UltraChat : public RecordDataset {
 public:
  explicit UltraChat(const ram::ConfigView& cfg) : RecordDataset("ultrachat") {
    read_common(cfg);
    // Absent: sampling; null: never read a rejected response.
    const std::string rejected_key =
        cfg.node().find("rejected_key") ? cfg.get<std::string>("rejected_key", "") : "sampling";
    std::string key;
    const std::string file = single_file(cfg, key);
    cfg.finish();
    load_file(file, key, file_tag(file), [&](const json& obj, const std::string& where) {
      Row row;
      const std::string instruction = string_field(obj, "instruction", where);
      row.prompt = single_turn_prompt(instruction);
      row.chosen = string_field(obj, "output", where);
      if (!rejected_key.empty()) row.has_rejected = optional_string_field(obj, rejected_key, where, row.rejected);
      row.id = id_field(obj, "id", where);
      row.meta["instruction"] = instruction;
      return row;
    });
    finish_loading(key, "rejected_key=" + rejected_key);
  }
};

}  // namespace

RAM_DATASET_PLUGIN("ultrachat", "1.0.0", "UltraChat first round (instruction / output [/ sampling]) JSON or JSONL",
                   UltraChat)
