// ram::tok — a HuggingFace-exact byte-level BPE tokenizer read from `tokenizer.json`
// (+ `tokenizer_config.json` beside it when present).
//
// Gives exactly the ids of HuggingFace `tokenizers` (checked against its official Node
// binding on tests/tokenizer/corpus.jsonl for llama3, qwen2_5, qwen3, gpt_neox, gpt2):
//   added tokens matched first (leftmost-longest; flags special, single_word, lstrip,
//   rstrip, normalized) → normalizer (none or NFC) → pre-tokenizer (Sequence, Split with
//   the file's regex through PCRE2 UTF+UCP+JIT, ByteLevel) → BPE (merge ranks,
//   ignore_merges, a per-word cache) → post-processor (TemplateProcessing, ByteLevel,
//   Sequence). Decoding is ByteLevel over the whole id list at once, invalid UTF-8
//   replaced by U+FFFD per maximal subpart (as Rust's String::from_utf8_lossy).
// Any JSON part outside that set is a FormatError naming the file and the JSON path.
//
// Copies are cheap (shared immutable state); const methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ram::tok {

struct Options {
  // Words (pre-tokenized pieces) whose BPE result is remembered; 0 turns the cache off.
  // Pieces longer than 256 bytes are never cached.
  std::size_t bpe_cache_capacity = 1 << 17;
};

class Tokenizer {
 public:
  // `dir`/tokenizer.json, plus BOS/EOS/PAD from `dir`/special_tokens_map.json and
  // `dir`/tokenizer_config.json when present (the latter's keys win, as in transformers).
  static Tokenizer from_dir(const std::filesystem::path& dir, const Options& options = {});
  static Tokenizer from_file(const std::filesystem::path& tokenizer_json,
                             const Options& options = {});

  // `text` must be valid UTF-8 (DataError otherwise). `add_special_tokens` applies the
  // post-processor's template (Llama-3: BOS first).
  std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens) const;
  // Unknown ids are skipped, as HF does. Never throws on content.
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens) const;

  // Distinct tokens, model vocabulary and added tokens together (HF's
  // get_vocab_size(with_added_tokens=true)).
  std::int64_t vocab_size() const;
  // From tokenizer_config.json / special_tokens_map.json ("bos_token", "eos_token",
  // "pad_token": a string, {"content": ...} or null); a key absent from both: BOS/EOS from the
  // post-processor's single template (special token before / after $A), else none.
  std::optional<std::int32_t> bos_id() const;
  std::optional<std::int32_t> eos_id() const;
  std::optional<std::int32_t> pad_id() const;
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(std::int32_t id) const;
  bool is_special(std::int32_t id) const;
  // "sha256:<hex>" of the tokenizer.json bytes: equal fingerprints mean the same tokenizer.
  std::string fingerprint() const;
  const std::filesystem::path& path() const;

  struct State;

 private:
  explicit Tokenizer(std::shared_ptr<const State> s) : s_(std::move(s)) {}
  std::shared_ptr<const State> s_;
};

// Exposed for tests: Unicode NFC (canonical composition) of valid UTF-8 text.
std::string nfc(std::string_view utf8);
// Exposed for tests: bytes → UTF-8 with each maximal invalid subpart replaced by U+FFFD.
std::string utf8_lossy(std::string_view bytes);
// Hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace ram::tok
