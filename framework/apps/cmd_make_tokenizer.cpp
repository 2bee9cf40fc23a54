// `ram make-tokenizer --byte-level --out DIR [--force]` — writes a byte-level tokenizer as
// HuggingFace saves one, for models trained from scratch (the demo task):
//   tokenizer.json: a BPE model whose vocabulary is the 256 byte symbols of GPT-2's
//     bytes_to_unicode table, token id = byte value, and no merges (every byte one token);
//     the ByteLevel pre-tokenizer (GPT-2 regex, no prefix space), post-processor and
//     decoder exactly as HF writes GPT-2's; added special tokens <|bos|> 256, <|eos|> 257,
//     <|pad|> 258. Encoding adds no special token (the post-processor is ByteLevel).
//   tokenizer_config.json: bos_token / eos_token / pad_token, added_tokens_decoder,
//     tokenizer_class PreTrainedTokenizerFast.
// `ram make-tokenizer --bpe N [EXPERIMENT] [k=v ...] --out DIR` — the same, plus up to N
// merges learned from the configured dataset's texts (tokenizer/train_bpe.hpp): merged
// tokens take ids 256.. in merge order, the three specials follow them.
// Both the HF `tokenizers` library and ram::tok load them with identical ids (the parity
// tests tokenizer_parity_byte_level / _bpe). The result is checked by loading it back
// before the rename. Writes into DIR.tmp-<pid>, then renames; an existing non-empty DIR
// needs --force.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "log/log.hpp"
#include "ram/error.hpp"
#include "config/compose.hpp"
#include "plugin/registry.hpp"
#include "ram/dataset.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/train_bpe.hpp"

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const char* const kSpecials[] = {"<|bos|>", "<|eos|>", "<|pad|>"};

std::string byte_symbol(int b) { return ram::tok::byte_symbol(static_cast<unsigned char>(b)); }

ojson byte_level(bool add_prefix_space, bool trim_offsets) {
  return ojson{{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space},
               {"trim_offsets", trim_offsets}, {"use_regex", true}};
}

ojson added_token(int id, const char* content) {
  return ojson{{"id", id},           {"content", content}, {"single_word", false}, {"lstrip", false},
               {"rstrip", false},    {"normalized", false}, {"special", true}};
}

// The files: byte symbols as ids 0..255, then one token per merge (its symbols joined; a
// merge whose result is already a token adds none), then <|bos|> <|eos|> <|pad|>.
std::pair<ojson, ojson> tokenizer_files(const std::vector<std::pair<std::string, std::string>>& merges,
                                        int& first_special) {
  ojson vocab = ojson::object();
  for (int b = 0; b < 256; ++b) vocab[byte_symbol(b)] = b;
  ojson merge_list = ojson::array();
  int next = 256;
  for (const auto& [a, b] : merges) {
    merge_list.push_back(a + " " + b);
    if (!vocab.contains(a + b)) vocab[a + b] = next++;
  }
  first_special = next;
  ojson added = ojson::array();
  for (int k = 0; k < 3; ++k) added.push_back(added_token(first_special + k, kSpecials[k]));
  ojson tok{{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", added},
            {"normalizer", nullptr},
            {"pre_tokenizer", byte_level(false, true)},
            {"post_processor", byte_level(true, false)},
            {"decoder", byte_level(true, true)},
            {"model", ojson{{"type", "BPE"},
                            {"dropout", nullptr},
                            {"unk_token", nullptr},
                            {"continuing_subword_prefix", ""},
                            {"end_of_word_suffix", ""},
                            {"fuse_unk", false},
                            {"byte_fallback", false},
                            {"ignore_merges", false},
                            {"vocab", vocab},
                            {"merges", merge_list}}}};
  ojson decoder = ojson::object();
  for (int k = 0; k < 3; ++k) {
    ojson t = added_token(first_special + k, kSpecials[k]);
    t.erase("id");
    decoder[std::to_string(first_special + k)] = t;
  }
  ojson cfg{{"add_prefix_space", false},
            {"added_tokens_decoder", decoder},
            {"bos_token", kSpecials[0]},
            {"eos_token", kSpecials[1]},
            {"pad_token", kSpecials[2]},
            {"clean_up_tokenization_spaces", false},
            {"model_max_length", 2048},
            {"tokenizer_class", "PreTrainedTokenizerFast"}};
  return {tok, cfg};
}

void write_json(const fs::path& path, const ojson& j) {
  std::ofstream f(path, std::ios::binary);
  f << j.dump(2) << "\n";
  f.close();
  if (!f) throw ram::Error("cannot write " + path.string(), "make-tokenizer --out", "check the directory");
}

// The texts a BPE tokenizer is trained on: every example's prompt, chosen and rejected
// response of the configured dataset (its `dataset.size` examples).
std::vector<std::string> dataset_texts(const std::vector<std::string>& words, const std::string& config_dir) {
  auto opts = ram::config::options_from_args(words);
  opts.config_dir = config_dir;
  const auto cfg = ram::config::compose(opts);
  ram::ConfigView dcfg = cfg.view().child("dataset");
  auto ds = ram::plugin::Registry::instance().make_dataset(dcfg.get<std::string>("name"), dcfg);
  std::vector<std::string> texts;
  for (std::int64_t i = 0; i < ds->size(); ++i) {
    const ram::Example e = ds->get(i);
    for (const std::string* t : {&e.prompt, &e.chosen, &e.rejected})
      if (!t->empty()) texts.push_back(*t);
  }
  if (texts.empty())
    throw ram::ConfigError("dataset " + ds->describe() + " has no text to train a tokenizer on",
                           "make-tokenizer --bpe", "check dataset.size and the dataset's files");
  ram::log::info("make-tokenizer: {} texts from {}", texts.size(), ds->describe());
  return texts;
}

void run(const std::string& out, bool force, const std::vector<std::pair<std::string, std::string>>& merges) {
  const fs::path dir(out);
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)) && !force)
    throw ram::ConfigError("'" + out + "' exists and is not an empty directory", "make-tokenizer --out",
                           "choose another --out or pass --force to replace it");
  if (!dir.parent_path().empty()) fs::create_directories(dir.parent_path(), ec);
  const fs::path tmp = dir.string() + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw ram::Error("cannot create " + tmp.string() + ": " + ec.message(), "make-tokenizer --out");
  int first_special = 0;
  auto [tok, cfg] = tokenizer_files(merges, first_special);
  write_json(tmp / "tokenizer.json", tok);
  write_json(tmp / "tokenizer_config.json", cfg);

  // Load it back: specials where they belong, a lossless round trip; byte-level: every
  // byte one token.
  auto t = ram::tok::Tokenizer::from_dir(tmp);
  const std::string probe = "\n\nHuman: What is 2 + 3?\n\nAssistant: 5 \xC3\xA9\xE2\x82\xAC";
  auto ids = t.encode(probe, true);
  bool ok = t.vocab_size() == first_special + 3 && t.bos_id() == first_special &&
            t.eos_id() == first_special + 1 && t.pad_id() == first_special + 2 &&
            t.decode(ids, true) == probe;
  if (merges.empty()) {
    ok = ok && ids.size() == probe.size();
    for (std::size_t i = 0; ok && i < ids.size(); ++i) ok = ids[i] == static_cast<unsigned char>(probe[i]);
  }
  if (!ok) {
    fs::remove_all(tmp, ec);
    throw ram::Error("the tokenizer written does not load back as expected", "make-tokenizer",
                     "report this as a bug");
  }
  if (fs::exists(dir, ec)) fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) throw ram::Error("cannot rename " + tmp.string() + " to " + out + ": " + ec.message(),
                           "make-tokenizer --out");
  if (merges.empty())
    ram::log::info("make-tokenizer: byte-level, {} tokens (256 bytes + <|bos|> <|eos|> <|pad|>) → {}",
                   t.vocab_size(), out);
  else
    ram::log::info("make-tokenizer: byte-level BPE, {} merges, {} tokens (with <|bos|> <|eos|> <|pad|>) → {}",
                   merges.size(), t.vocab_size(), out);
}

}  // namespace

RAM_VERB(make_tokenizer) {
  auto* cmd = app.add_subcommand(
      "make-tokenizer", "write a tokenizer.json for training from scratch (byte-level, or BPE trained on a dataset)");
  static std::string out, config_dir;
  static bool byte_level_flag = false, force = false;
  static std::int64_t bpe = -1;
  static std::vector<std::string> words;
  cmd->add_flag("--byte-level", byte_level_flag, "256 byte tokens, no merges, <|bos|> <|eos|> <|pad|>");
  cmd->add_option("--bpe", bpe,
                  "N: byte-level BPE with up to N merges learned from the configured dataset's texts "
                  "(EXPERIMENT and key=value select it)");
  cmd->add_option("words", words, "with --bpe: EXPERIMENT and key=value overrides");
  cmd->add_option("--config-dir", config_dir, "directory holding config.yaml");
  cmd->add_option("--out", out, "the directory to write (tokenizer.json, tokenizer_config.json)")
      ->required();
  cmd->add_flag("--force", force, "replace an existing non-empty --out");
  cmd->callback([] {
    if (byte_level_flag == (bpe >= 0))
      throw ram::ConfigError("give exactly one of --byte-level and --bpe N", "make-tokenizer",
                             "--byte-level: one token per byte; --bpe N: N merges learned from a dataset");
    if (byte_level_flag && !words.empty())
      throw ram::ConfigError("--byte-level takes no experiment or overrides (got '" + words[0] + "')",
                             "make-tokenizer", "drop them, or use --bpe N to train on a dataset");
    if (ram::dist::is_root()) {
      std::vector<std::pair<std::string, std::string>> merges;
      if (bpe >= 0) {
        merges = ram::tok::train_bpe(dataset_texts(words, config_dir), bpe);
        if (merges.size() < static_cast<std::size_t>(bpe))
          ram::log::info("make-tokenizer: {} merges (no pair occurs twice after that)", merges.size());
      }
      run(out, force, merges);
    }
    ram::dist::barrier();
  });
}
