// ram::tok unit checks. HF parity itself is the e2e test tokenizer_parity (Node binding);
// here: NFC and lossy UTF-8 against Python's unicodedata/codecs, fingerprints and vocab
// sizes against hashlib/json, BOS/EOS/PAD from the vendored files, cache and threads
// invariants, FormatError paths for unsupported JSON, and the `ram tokenize` protocol.
#include <cstdlib>
#include <functional>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ram/error.hpp"
#include "test_util.hpp"
#include "tokenizer/tokenizer.hpp"

using json = nlohmann::json;
using ram::tok::Tokenizer;
namespace t = ram::test;

namespace {

std::string tok_dir(const std::string& family) {
  return t::env_or("RAM_TOKENIZERS_DIR", t::binary_dir() + "/tokenizers") + "/" + family;
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::vector<json> python_ref(const std::string& args) {
  auto r = t::run(t::python() + " " + t::source_dir() + "/tests/python/tokenizer_reference.py " + args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json_lines(r.output);
}

std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  for (auto& j : json_lines(t::read_file(t::source_dir() + "/tests/tokenizer/corpus.jsonl")))
    texts.push_back(j["text"].get<std::string>());
  return texts;
}

std::string from_hex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

// A tiny byte-level tokenizer: the 256 byte chars, "ab" and "abc" merged.
json tiny_tokenizer() {
  json vocab = json::object();
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    char32_t c = printable ? char32_t(b) : char32_t(256 + n++);
    std::string s;
    if (c < 0x80) s += static_cast<char>(c);
    else {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
    vocab[s] = b;
  }
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  return json{{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr},
              {"added_tokens", json::array({json{{"id", 258}, {"content", "<eos>"}, {"special", true},
                                                 {"normalized", false}, {"lstrip", false}, {"rstrip", false},
                                                 {"single_word", false}}})},
              {"normalizer", nullptr},
              {"pre_tokenizer", json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"post_processor", json{{"type", "ByteLevel"}}},
              {"decoder", json{{"type", "ByteLevel"}}},
              {"model", json{{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab},
                             {"merges", json::array({"a b", "ab c"})}}}};
}

std::string write_json(const std::string& dir, const std::string& name, const json& j) {
  std::string p = dir + "/" + name;
  t::write_file(p, j.dump());
  return p;
}

// Runs from_file and returns the FormatError's where() ("" when it loads).
std::string load_error_where(const std::string& path, std::string* what = nullptr) {
  try {
    Tokenizer::from_file(path);
  } catch (const ram::FormatError& e) {
    if (what) *what = e.what_part();
    return e.where();
  }
  return "";
}

}  // namespace

TEST(TokUnicode, NfcMatchesPython) {
  auto cases = python_ref("nfc 3000 7");
  ASSERT_EQ(cases.size(), 3000u);
  for (auto& c : cases)
    ASSERT_EQ(ram::tok::nfc(c["text"].get<std::string>()), c["nfc"].get<std::string>()) << c.dump();
}

TEST(TokUnicode, LossyUtf8MatchesPython) {
  auto cases = python_ref("lossy 3000 11");
  ASSERT_EQ(cases.size(), 3000u);
  for (auto& c : cases)
    ASSERT_EQ(ram::tok::utf8_lossy(from_hex(c["hex"].get<std::string>())), c["text"].get<std::string>())
        << c.dump();
}

TEST(TokUnicode, Sha256KnownVectors) {
  EXPECT_EQ(ram::tok::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ram::tok::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ram::tok::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(TokFiles, FingerprintAndVocabSizeMatchPython) {
  const std::vector<std::string> fams{"llama3", "qwen2_5", "qwen3", "gpt_neox", "gpt2"};
  std::string args = "files";
  for (auto& f : fams) args += " " + tok_dir(f);
  auto ref = python_ref(args);
  ASSERT_EQ(ref.size(), fams.size());
  for (std::size_t i = 0; i < fams.size(); ++i) {
    auto tk = Tokenizer::from_dir(tok_dir(fams[i]));
    EXPECT_EQ(tk.fingerprint(), "sha256:" + ref[i]["sha256"].get<std::string>()) << fams[i];
    EXPECT_EQ(tk.vocab_size(), ref[i]["vocab_size"].get<std::int64_t>()) << fams[i];
  }
}

TEST(TokFiles, SpecialIdsFromConfigAndTemplate) {
  auto llama = Tokenizer::from_dir(tok_dir("llama3"));
  EXPECT_EQ(llama.bos_id(), 128000);  // tokenizer_config.json: <|begin_of_text|>
  EXPECT_EQ(llama.eos_id(), 128009);  // <|eot_id|>
  EXPECT_FALSE(llama.pad_id());
  EXPECT_EQ(llama.encode("", true), std::vector<std::int32_t>{128000});  // template: BOS $A
  EXPECT_TRUE(llama.encode("", false).empty());
  EXPECT_EQ(llama.token_to_id("<|eot_id|>"), 128009);
  EXPECT_TRUE(llama.is_special(128009));
  auto qwen = Tokenizer::from_dir(tok_dir("qwen3"));
  EXPECT_FALSE(qwen.bos_id());        // "bos_token": null
  EXPECT_EQ(qwen.eos_id(), 151645);   // <|im_end|>
  EXPECT_EQ(qwen.pad_id(), 151643);   // <|endoftext|>
  auto gpt2 = Tokenizer::from_dir(tok_dir("gpt2"));
  EXPECT_EQ(gpt2.bos_id(), 50256);
  EXPECT_EQ(gpt2.eos_id(), 50256);
  auto neox = Tokenizer::from_dir(tok_dir("gpt_neox"));  // no tokenizer_config.json, no template
  EXPECT_FALSE(neox.bos_id());
  EXPECT_FALSE(neox.eos_id());
  EXPECT_EQ(neox.token_to_id("<|endoftext|>"), 0);
}

TEST(TokFiles, CacheAndThreadsDoNotChangeIds) {
  auto texts = corpus();
  ASSERT_GT(texts.size(), 300u);
  for (const char* fam : {"llama3", "gpt2"}) {
    auto cold = Tokenizer::from_dir(tok_dir(fam), ram::tok::Options{0});
    auto warm = Tokenizer::from_dir(tok_dir(fam), ram::tok::Options{64});  // small: clears often
    std::vector<std::vector<std::int32_t>> want;
    for (auto& s : texts) want.push_back(cold.encode(s, true));
    std::vector<std::thread> threads;
    std::vector<int> bad(4, 0);
    for (int k = 0; k < 4; ++k)
      threads.emplace_back([&, k] {
        for (int rep = 0; rep < 2; ++rep)
          for (std::size_t i = 0; i < texts.size(); ++i)
            if (warm.encode(texts[(i + 37 * k) % texts.size()], true) != want[(i + 37 * k) % texts.size()]) ++bad[k];
      });
    for (auto& th : threads) th.join();
    for (int k = 0; k < 4; ++k) EXPECT_EQ(bad[k], 0) << fam << " thread " << k;
  }
}

TEST(TokTiny, BpeMergesAndDecode) {
  auto dir = t::temp_dir("tok_tiny");
  auto tk = Tokenizer::from_file(write_json(dir, "tokenizer.json", tiny_tokenizer()));
  EXPECT_EQ(tk.encode("abc", false), (std::vector<std::int32_t>{257}));
  EXPECT_EQ(tk.encode("abab<eos>c", false), (std::vector<std::int32_t>{256, 256, 258, 'c'}));
  EXPECT_EQ(tk.decode({256, 258, 257}, false), "ab<eos>abc");
  EXPECT_EQ(tk.decode({256, 258, 257}, true), "ababc");
  EXPECT_EQ(tk.decode({0xE2, 0x82}, false), "\xEF\xBF\xBD");  // cut "€": one U+FFFD
  EXPECT_EQ(tk.decode({-5, 999999, 'x'}, false), "x");           // unknown ids skipped
  EXPECT_EQ(tk.vocab_size(), 259);
  EXPECT_THROW(tk.encode("bad \xC3(", false), ram::DataError);
}

TEST(TokTiny, SpecialTokensMapThenConfig) {
  auto dir = t::temp_dir("tok_maps");
  write_json(dir, "tokenizer.json", tiny_tokenizer());
  EXPECT_FALSE(Tokenizer::from_dir(dir).eos_id());
  write_json(dir, "special_tokens_map.json", json{{"eos_token", {{"content", "<eos>"}, {"lstrip", false}}}, {"bos_token", "<eos>"}});
  EXPECT_EQ(Tokenizer::from_dir(dir).eos_id(), 258);
  EXPECT_EQ(Tokenizer::from_dir(dir).bos_id(), 258);
  write_json(dir, "tokenizer_config.json", json{{"bos_token", nullptr}, {"pad_token", "ab"}});
  auto tk = Tokenizer::from_dir(dir);
  EXPECT_FALSE(tk.bos_id());     // the config's null wins
  EXPECT_EQ(tk.eos_id(), 258);   // absent from the config: the map's
  EXPECT_EQ(tk.pad_id(), 256);   // a model-vocabulary token
  write_json(dir, "tokenizer_config.json", json{{"eos_token", "<nope>"}});
  EXPECT_THROW(Tokenizer::from_dir(dir), ram::FormatError);
}

TEST(TokErrors, UnsupportedPartsNameFileAndJsonPath) {
  auto dir = t::temp_dir("tok_errors");
  struct Case {
    const char* name;
    std::function<void(json&)> edit;
    const char* path;
  };
  std::vector<Case> cases{
      {"nfkc", [](json& j) { j["normalizer"] = {{"type", "NFKC"}}; }, "at normalizer.type"},
      {"metaspace", [](json& j) {
         j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array({json{{"type", "Metaspace"}}})}};
       }, "at pre_tokenizer.pretokenizers[0].type"},
      {"wordpiece", [](json& j) { j["model"]["type"] = "WordPiece"; }, "at model.type"},
      {"merge", [](json& j) { j["model"]["merges"].push_back("zz qq"); }, "at model.merges[2]"},
      {"truncation", [](json& j) { j["truncation"] = {{"max_length", 5}}; }, "at truncation"},
      {"unknown", [](json& j) { j["surprise"] = 1; }, "at $.surprise"},
      {"behavior", [](json& j) {
         j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Removed"}, {"invert", false}};
       }, "at pre_tokenizer.behavior"},
      {"regex", [](json& j) {
         j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}, {"invert", false}};
       }, "at pre_tokenizer.pattern.Regex"},
      {"decoder", [](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }, "at decoder.type"},
      {"post", [](json& j) { j["post_processor"] = {{"type", "RobertaProcessing"}}; }, "at post_processor.type"},
      {"dropout", [](json& j) { j["model"]["dropout"] = 0.1; }, "at model.dropout"},
  };
  for (auto& c : cases) {
    json j = tiny_tokenizer();
    c.edit(j);
    std::string file = write_json(dir, std::string(c.name) + ".json", j);
    std::string where = load_error_where(file);
    EXPECT_NE(where.find(file), std::string::npos) << c.name << ": " << where;
    EXPECT_NE(where.find(c.path), std::string::npos) << c.name << ": " << where;
  }
  t::write_file(dir + "/broken.json", "{\"model\": ");
  EXPECT_NE(load_error_where(dir + "/broken.json").find("broken.json"), std::string::npos);
  EXPECT_THROW(Tokenizer::from_dir(dir + "/nowhere"), ram::FormatError);
}

TEST(TokCli, ProtocolAndBadLine) {
  auto dir = t::temp_dir("tok_cli");
  t::write_file(dir + "/in.jsonl",
                "{\"text\": \"Hello world\"}\n{\"text\": \"Hello world\", \"add_special_tokens\": true}\n"
                "{\"text\": \"\\u00e9\\ud83d\\ude00\"}\n");
  auto r = t::run(t::ram_bin() + " tokenize --tokenizer " + tok_dir("llama3") + " < " + dir + "/in.jsonl 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto llama = Tokenizer::from_dir(tok_dir("llama3"));
  auto out = json_lines(r.output);
  ASSERT_EQ(out.size(), 3u) << r.output;
  EXPECT_EQ(out[0]["ids"].get<std::vector<std::int32_t>>(), llama.encode("Hello world", false));
  EXPECT_EQ(out[1]["ids"].get<std::vector<std::int32_t>>(), llama.encode("Hello world", true));
  auto ids2 = out[2]["ids"].get<std::vector<std::int32_t>>();

  // --decode: non-ASCII text stays valid JSON; the flag and the per-line override.
  json d1{{"ids", ids2}};
  json d2{{"ids", out[1]["ids"]}, {"skip_special_tokens", true}};
  t::write_file(dir + "/dec.jsonl", d1.dump() + "\n" + d2.dump() + "\n");
  r = t::run(t::ram_bin() + " tokenize --decode --tokenizer " + tok_dir("llama3") + " < " + dir + "/dec.jsonl 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  out = json_lines(r.output);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["text"], "\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(out[1]["text"], "Hello world");

  // A bad third line: two good lines out, then one error naming line 3, exit != 0.
  t::write_file(dir + "/bad.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"txt\": \"c\"}\n{\"text\": \"d\"}\n");
  r = t::run(t::ram_bin() + " tokenize --tokenizer " + tok_dir("gpt2") + " < " + dir + "/bad.jsonl");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("stdin line 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("{\"ids\":[64]}"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("{\"ids\":[67]}"), std::string::npos) << r.output;  // "d" never reached
}
