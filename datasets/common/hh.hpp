// hh.hpp — Anthropic HH-RLHF as it is distributed, shared by the `hh` and `hh_harmless`
// plugins (the latter is a preset: subsets fixed to harmless-base).
//
// Files: <root>/<subset>/<split>.jsonl.gz (or .jsonl, .json.gz, .json: source.hpp), one
// record per line: {"chosen": "\n\nHuman: ...\n\nAssistant: ...", "rejected": "..."}.
// Multi-round transcripts are kept whole in the prompt:
//   prompt   = the chosen transcript up to its last "\n\nAssistant:" and the space after it
//   chosen   = the rest of the chosen transcript
//   rejected = the rest of the rejected transcript, whose own prompt (cut the same way)
//              must equal the chosen one — otherwise a record error (on_error)
// A transcript without an "\n\nAssistant:" turn is a record error. Ids are
// "<subset>/<split>:<line>"; meta: source (file:line), subset.
//
// Keys (besides record_dataset.hpp's common ones):
//   root     required; the folder holding the subset folders
//   subsets  (hh only) list of subset folders, read in order; default all four:
//            [helpful-base, helpful-online, helpful-rejection-sampled, harmless-base]
#pragma once

#include <string>
#include <vector>

#include "common/record_dataset.hpp"

namespace ram_datasets {

class HhDataset : public RecordDataset {
 public:
  // `fixed_subsets` empty: the `subsets` key is read (default all four); else the preset.
  HhDataset(const ram::ConfigView& cfg, const std::string& plugin,
            const std::vector<std::string>& fixed_subsets);
};

// Splits one HH record into a Row (chosen/rejected transcripts); DataError at `where`.
Row parse_hh_record(const json& obj, const std::string& where);

}  // namespace ram_datasets
