// train/data.hpp — where training examples come from and how they become token batches
// (the original's tokenization and truncation, ram-method.md "Truncation").
//
// Sources (both random access, so any rank can take any index):
//   synth.h5 (`train.data: synth`, the file `train.synth`): prompt_text, chosen_text and
//     proposal_text as the rejected response. Refused with the reason (ram::DataError /
//     FormatError naming the file) when a group or dataset is missing, or when its
//     tokenizer_fingerprint (or proposal_model_type, when the file has it) differs from
//     the aligner's: the aligner must share the proposal's tokenizer and family.
//   a dataset plugin (`train.data: dataset`, the `dataset:` node): prompt, chosen,
//     rejected (HH's rejected response stands in for the proposal sample).
//
// Tokenization (the original's tokenize_batch_element):
//   prompt   = encode(prompt_text, add_special_tokens=false), BOS first when add_bos
//   chosen   = encode(chosen_text, false) + [EOS]     (EOS = the aligner tokenizer's eos)
//   rejected = encode(rejected_text, false) + [EOS]   (only when needed)
//   Prompt and responses are encoded separately, then concatenated.
// Truncation, with longer = max(len(chosen), len(rejected)):
//   if len(prompt) + longer > max_length: prompt keeps max_prompt_length tokens — its END
//     (keep_end, the default) or its start (keep_start) (with add_bos, BOS stays
//     first under keep_end: BOS + the last max_prompt_length − 1 tokens);
//   if still len(prompt) + longer > max_length: each response keeps its first
//     max_length − max_prompt_length tokens (EOS may be cut, as in the original).
// Batches (ram::TokenBatch, right-padded with pad_id, attention 1 on real tokens,
// loss_mask 1 on response tokens only).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ram/config.hpp>
#include <ram/example.hpp>
#include <ram/objective.hpp>

#include "tokenizer/tokenizer.hpp"

namespace ram::train {

// Raw text examples, random access.
class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  virtual std::int64_t size() const = 0;
  // Example i (0 ≤ i < size()): index = i, id, prompt, chosen, rejected.
  virtual Example get(std::int64_t i) const = 0;
  virtual bool has_rejected() const = 0;
  // For logs and checkpoint provenance: "synth.h5 /path (N rows)" / the dataset's describe().
  virtual std::string describe() const = 0;
  // Content fingerprint (changes when the examples change).
  virtual std::string fingerprint() const = 0;
};

// synth.h5 → source. `aligner_tokenizer_fingerprint` and `aligner_model_type` are checked
// against the file's attributes (see above).
std::unique_ptr<ExampleSource> open_synth(const std::filesystem::path& file,
                                          const std::string& aligner_tokenizer_fingerprint,
                                          const std::string& aligner_model_type);
// The `dataset:` node → source through its plugin.
std::unique_ptr<ExampleSource> open_dataset(const ConfigView& dataset_node);

struct TokenizeOptions {
  std::int64_t max_length = 2048;
  std::int64_t max_prompt_length = 1024;
  bool keep_end = true;        // truncation_mode keep_end (true) | keep_start
  bool add_bos = false;
  bool with_rejected = false;  // tokenize the rejected response too
};

struct TokenizedExample {
  std::int64_t index = -1;
  std::string id;
  std::vector<std::int32_t> prompt, chosen, rejected;  // after truncation
  bool prompt_truncated = false, response_truncated = false;
};

// One example (throws DataError naming the example id when a needed response is empty or
// the tokenizer has no EOS). Exception: an empty rejected response that is a model sample
// (meta "rejected_kind" = "sample", as synth.h5 rows are: the proposal stopped at once) is
// kept as [EOS], as the original does.
TokenizedExample tokenize(const Example& ex, const tok::Tokenizer& tok, const TokenizeOptions& o);

// Right-padded batch of prompt+chosen (rejected = false) or prompt+rejected (true).
TokenBatch make_batch(const std::vector<TokenizedExample>& examples, bool rejected,
                      std::int32_t pad_id);

// ObjectiveBatch with chosen (and rejected when with_rejected).
ObjectiveBatch make_objective_batch(const std::vector<TokenizedExample>& examples,
                                    bool with_rejected, std::int32_t pad_id);

// Train / eval split and the data order.
//   split(n, n_eval, seed): a seeded permutation of 0..n-1; its first n_eval are the eval
//     set (sorted ascending), the rest the training set (sorted ascending). n_eval ≥ n is
//     a ConfigError.
//   epoch_order(train, seed, epoch): the training indices shuffled by (seed, epoch);
//     deterministic, independent of ranks.
struct Split {
  std::vector<std::int64_t> train, eval;
};
Split split(std::int64_t n, std::int64_t n_eval, std::uint64_t seed);
std::vector<std::int64_t> epoch_order(const std::vector<std::int64_t>& train, std::uint64_t seed,
                                      std::int64_t epoch);

}  // namespace ram::train
