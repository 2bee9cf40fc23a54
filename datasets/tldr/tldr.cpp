// tldr — TL;DR summarization as CarperAI distributes it, in two formats:
//   format: sft          openai_summarize_tldr: {"prompt": "SUBREDDIT: ...\nPOST: ...\nTL;DR:",
//                        "label": " summary"}; chosen = label
//   format: comparisons  openai_summarize_comparisons: {"prompt": "SUBREDDIT: ...\nPOST: ...",
//                        "chosen": "TL;DR: a", "rejected": "TL;DR: b"}; a leading "TL;DR:"
//                        is cut from chosen / rejected (the prompt ends with it)
// The prompt is the post + "\nTL;DR:" (ram-method.md), not added twice when the post
// already ends with "TL;DR:" (the sft files do). Ids: "<file stem>:<line>"; meta: source,
// instruction (the post as read).
//
// Keys (besides common/record_dataset.hpp's): root (folder with <split>.jsonl[.gz]) or path
// (one file); format (sft); rejected_key (null) — sft only: a field holding a proposal
// response (the rejected response, for aligner_format and the dpo-type objectives).
#include <ram/config.hpp>
#include <ram/dataset.hpp>
#include <ram/error.hpp>
#include <ram/plugin.hpp>

#include "common/record_dataset.hpp"
#include "common/source.hpp"
#include "common/templates.hpp"

namespace {

using namespace ram_datasets;

std::string cut_tldr(std::string s) {
  if (s.rfind("TL;DR:", 0) == 0) s.erase(0, 6);
  return s;
}

class Tldr : public RecordDataset {
 public:
  explicit Tldr(const ram::ConfigView& cfg) : RecordDataset("tldr") {
    read_common(cfg);
    const std::string format = cfg.get<std::string>("format", "sft");
    if (format != "sft" && format != "comparisons")
      throw ram::ConfigError("key '" + cfg.dotted("format") + "' must be sft or comparisons, got '" + format + "'",
                             cfg.where("format").str(),
                             "sft: openai_summarize_tldr (prompt, label); comparisons: (prompt, chosen, rejected)");
    const std::string rejected_key = cfg.get<std::string>("rejected_key", "");
    if (format == "comparisons" && !rejected_key.empty())
      throw ram::ConfigError("key '" + cfg.dotted("rejected_key") + "' applies to format sft only",
                             cfg.where("rejected_key").str(), "the comparisons format has its own rejected field");
    std::string key;
    const std::string file = single_file(cfg, key);
    cfg.finish();
    const bool sft = format == "sft";
    load_file(file, key, file_tag(file), [&](const json& obj, const std::string& where) {
      Row row;
      const std::string post = string_field(obj, "prompt", where);
      row.prompt = tldr_prompt(post);
      row.meta["instruction"] = post;
      if (sft) {
        row.chosen = string_field(obj, "label", where);
        if (!rejected_key.empty()) row.has_rejected = optional_string_field(obj, rejected_key, where, row.rejected);
      } else {
        row.chosen = cut_tldr(string_field(obj, "chosen", where));
        row.rejected = cut_tldr(string_field(obj, "rejected", where));
        row.has_rejected = true;
      }
      return row;
    });
    finish_loading(key, "format=" + format + "\nrejected_key=" + rejected_key);
  }
};

}  // namespace

RAM_DATASET_PLUGIN("tldr", "1.0.0", "TL;DR summarization (CarperAI openai_summarize_tldr / comparisons JSONL)", Tldr)
