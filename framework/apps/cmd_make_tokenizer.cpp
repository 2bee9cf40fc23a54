// `ram make-tokenizer --byte-level --out DIR [--force]` — writes a byte-level tokenizer as
// HuggingFace saves one, for models trained from scratch (the demo task):
//   tokenizer.json: a BPE model whose vocabulary is the 256 byte symbols of GPT-2's
//     bytes_to_unicode table, token id = byte value, and no merges (every byte one token);
//     the ByteLevel pre-tokenizer (GPT-2 regex, no prefix space), post-processor and
//     decoder exactly as HF writes GPT-2's; added special tokens <|bos|> 256, <|eos|> 257,
//     <|pad|> 258. Encoding adds no special token (the post-processor is ByteLevel).
//   tokenizer_config.json: bos_token / eos_token / pad_token, added_tokens_decoder,
//     tokenizer_class PreTrainedTokenizerFast.
// Both the HF `tokenizers` library and ram::tok load it with identical ids (the parity test
// tokenizer_parity_byte_level). The result is checked by loading it back before the rename.
// Writes into DIR.tmp-<pid>, then renames; an existing non-empty DIR needs --force.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "log/log.hpp"
#include "ram/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const char* const kSpecials[] = {"<|bos|>", "<|eos|>", "<|pad|>"};

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the others to
// U+0100 + n in byte order. Returns the UTF-8 text of byte b's symbol.
std::string byte_symbol(int b) {
  auto printable = [](int x) {
    return (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
  };
  int cp = b;
  if (!printable(b)) {
    int n = 0;
    for (int x = 0; x < b; ++x)
      if (!printable(x)) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {  // cp < 0x800 here
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

ojson byte_level(bool add_prefix_space, bool trim_offsets) {
  return ojson{{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space},
               {"trim_offsets", trim_offsets}, {"use_regex", true}};
}

ojson added_token(int id, const char* content) {
  return ojson{{"id", id},           {"content", content}, {"single_word", false}, {"lstrip", false},
               {"rstrip", false},    {"normalized", false}, {"special", true}};
}

std::pair<ojson, ojson> byte_level_files() {
  ojson vocab = ojson::object();
  for (int b = 0; b < 256; ++b) vocab[byte_symbol(b)] = b;
  ojson added = ojson::array();
  for (int k = 0; k < 3; ++k) added.push_back(added_token(256 + k, kSpecials[k]));
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
                            {"merges", ojson::array()}}}};
  ojson decoder = ojson::object();
  for (int k = 0; k < 3; ++k) {
    ojson t = added_token(256 + k, kSpecials[k]);
    t.erase("id");
    decoder[std::to_string(256 + k)] = t;
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

void run(const std::string& out, bool force) {
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
  auto [tok, cfg] = byte_level_files();
  write_json(tmp / "tokenizer.json", tok);
  write_json(tmp / "tokenizer_config.json", cfg);

  // Load it back: every byte one token, specials where they belong, lossless round trip.
  auto t = ram::tok::Tokenizer::from_dir(tmp);
  const std::string probe = "\n\nHuman: What is 2 + 3?\n\nAssistant: 5 \xC3\xA9\xE2\x82\xAC";
  auto ids = t.encode(probe, true);
  bool ok = t.vocab_size() == 259 && t.bos_id() == 256 && t.eos_id() == 257 && t.pad_id() == 258 &&
            ids.size() == probe.size() && t.decode(ids, true) == probe;
  for (std::size_t i = 0; ok && i < ids.size(); ++i)
    ok = ids[i] == static_cast<unsigned char>(probe[i]);
  if (!ok) {
    fs::remove_all(tmp, ec);
    throw ram::Error("the byte-level tokenizer written does not load back as expected",
                     "make-tokenizer", "report this as a bug");
  }
  if (fs::exists(dir, ec)) fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) throw ram::Error("cannot rename " + tmp.string() + " to " + out + ": " + ec.message(),
                           "make-tokenizer --out");
  ram::log::info("make-tokenizer: byte-level, {} tokens (256 bytes + <|bos|> <|eos|> <|pad|>) → {}",
                 t.vocab_size(), out);
}

}  // namespace

RAM_VERB(make_tokenizer) {
  auto* cmd = app.add_subcommand("make-tokenizer",
                                 "write a tokenizer.json for training from scratch (byte-level)");
  static std::string out;
  static bool byte_level_flag = false, force = false;
  cmd->add_flag("--byte-level", byte_level_flag,
                "256 byte tokens, no merges, <|bos|> <|eos|> <|pad|> (the only kind so far)")
      ->required();
  cmd->add_option("--out", out, "the directory to write (tokenizer.json, tokenizer_config.json)")
      ->required();
  cmd->add_flag("--force", force, "replace an existing non-empty --out");
  cmd->callback([] {
    if (ram::dist::is_root()) run(out, force);
    ram::dist::barrier();
  });
}
