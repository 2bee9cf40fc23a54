// train/data: example sources (synth.h5, dataset plugin), tokenization and truncation,
// batches, the train/eval split and the epoch orders.
// Oracles: tests/python/train_data_reference.py, written from the original's
// tokenize_batch_element and collate, recomputes ~1500 truncation cases (random lengths
// and every boundary: exact fit, one over, prompt exactly max_prompt_length, responses cut,
// EOS cut), batches and the shuffles (and must flag a deliberately wrong case); the real
// tokenizers of the build (RAM_TOKENIZERS_DIR) for the separate prompt/response encoding;
// synth.h5 fixtures written here with h5::Writer for the reader and its refusals; the
// distribution of 5-element shuffles (all 120 orders, near-uniform) for Fisher–Yates.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/compose.hpp"
#include "h5/writer.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "test_util.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/data.hpp"

namespace {

namespace t = ram::test;
namespace tr = ram::train;
using json = nlohmann::json;
using Ids = std::vector<std::int32_t>;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string tokenizer_dir(const std::string& family) {
  return t::env_or("RAM_TOKENIZERS_DIR", t::binary_dir() + "/tokenizers") + "/" + family;
}

const ram::tok::Tokenizer& tokenizer(const std::string& family) {
  static std::map<std::string, ram::tok::Tokenizer> cache;
  auto it = cache.find(family);
  if (it == cache.end())
    it = cache.emplace(family, ram::tok::Tokenizer::from_dir(tokenizer_dir(family))).first;
  return it->second;
}

// The message of the E thrown by f, or a marker saying what happened instead.
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<another exception: ") + e.what() + ">";
  }
  return "<no error>";
}

ram::Example example(std::string id, std::string prompt, std::string chosen,
                     std::string rejected = {}) {
  ram::Example e;
  e.index = 0;
  e.id = std::move(id);
  e.prompt = std::move(prompt);
  e.chosen = std::move(chosen);
  e.rejected = std::move(rejected);
  return e;
}

Ids cat(Ids a, const Ids& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Random text of `words` pieces: ASCII, punctuation, multi-byte UTF-8, newlines, the HH
// markers — token counts vary per tokenizer, which is the point.
std::string random_text(std::mt19937_64& rng, int words) {
  static const char* pool[] = {"the", " cat", "Human:", "\n\nAssistant:", " caf\xC3\xA9",
                               "\xE2\x82\xAC", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "  ",
                               "\n", "1234", " don't", "?!", "ab", " xyz",
                               "\xF0\x9F\x98\x80", " \xCE\xA9", "(x)", " the"};
  constexpr std::uint64_t n = sizeof(pool) / sizeof(pool[0]);
  std::string s;
  for (int i = 0; i < words; ++i) {
    s += pool[rng() % n];
    if (rng() % 3 == 0) s += ' ';
  }
  return s;
}

std::vector<std::int64_t> iota_vec(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

std::vector<std::vector<std::int64_t>> tensor_rows(const at::Tensor& x) {
  std::vector<std::vector<std::int64_t>> out;
  at::Tensor c = x.to(at::kLong).contiguous();
  for (std::int64_t i = 0; i < c.size(0); ++i) {
    auto* p = c[i].data_ptr<std::int64_t>();
    out.emplace_back(p, p + c.size(1));
  }
  return out;
}

std::vector<std::vector<double>> tensor_rows_f(const at::Tensor& x) {
  std::vector<std::vector<double>> out;
  at::Tensor c = x.to(at::kDouble).contiguous();
  for (std::int64_t i = 0; i < c.size(0); ++i) {
    auto* p = c[i].data_ptr<double>();
    out.emplace_back(p, p + c.size(1));
  }
  return out;
}

// Invariants every tokenization must satisfy, independently of the reference.
void expect_invariants(const tr::TokenizedExample& te, const tr::TokenizeOptions& o,
                       const Ids& raw_prompt, const Ids& raw_chosen, std::int32_t eos) {
  const std::size_t longer = std::max(te.chosen.size(), te.rejected.size());
  EXPECT_LE(static_cast<std::int64_t>(te.prompt.size() + longer), o.max_length);
  if (te.prompt_truncated) EXPECT_EQ(static_cast<std::int64_t>(te.prompt.size()), o.max_prompt_length);
  if (!te.prompt_truncated && !o.add_bos) EXPECT_EQ(te.prompt, raw_prompt);
  if (!te.response_truncated) EXPECT_EQ(te.chosen, cat(raw_chosen, {eos}));
  if (te.response_truncated)
    EXPECT_EQ(static_cast<std::int64_t>(longer), o.max_length - o.max_prompt_length);
}

}  // namespace

// ------------------------------------------------------------------ tokenize

TEST(TrainData, EncodesPromptAndResponsesSeparatelyWithEos) {
  // gpt2: "Hello wor" + "ld" encodes differently from "Hello world": the concatenation of
  // the separate encodings is what the original trains on.
  for (const std::string family : {"gpt2", "llama3", "qwen3"}) {
    SCOPED_TRACE(family);
    const auto& tok = tokenizer(family);
    ASSERT_TRUE(tok.eos_id().has_value());
    const std::string prompt = "\n\nHuman: Say hello wor", chosen = "ld, please!",
                      rejected = "ld?";
    tr::TokenizeOptions o;
    o.with_rejected = true;
    auto te = tr::tokenize(example("x1", prompt, chosen, rejected), tok, o);
    EXPECT_EQ(te.id, "x1");
    EXPECT_EQ(te.prompt, tok.encode(prompt, false));
    EXPECT_EQ(te.chosen, cat(tok.encode(chosen, false), {*tok.eos_id()}));
    EXPECT_EQ(te.rejected, cat(tok.encode(rejected, false), {*tok.eos_id()}));
    EXPECT_NE(cat(te.prompt, tok.encode(chosen, false)), tok.encode(prompt + chosen, false));
    EXPECT_FALSE(te.prompt_truncated);
    EXPECT_FALSE(te.response_truncated);
    // Without with_rejected the rejected text is not tokenized at all.
    o.with_rejected = false;
    EXPECT_TRUE(tr::tokenize(example("x1", prompt, chosen, rejected), tok, o).rejected.empty());
  }
  EXPECT_EQ(*tokenizer("gpt2").eos_id(), 50256);
  EXPECT_EQ(*tokenizer("llama3").eos_id(), 128009);  // <|eot_id|>
}

TEST(TrainData, AddBosPutsBosFirstAndKeepsItUnderKeepEnd) {
  const auto& tok = tokenizer("llama3");
  const std::int32_t bos = *tok.bos_id();
  EXPECT_EQ(bos, 128000);
  tr::TokenizeOptions o;
  o.add_bos = true;
  const std::string prompt = "one two three four five six seven eight";
  const Ids raw = tok.encode(prompt, false);
  ASSERT_EQ(raw.size(), 8u);
  auto te = tr::tokenize(example("b", prompt, " yes"), tok, o);
  EXPECT_EQ(te.prompt, cat({bos}, raw));
  o.max_length = 6;
  o.max_prompt_length = 4;
  te = tr::tokenize(example("b", prompt, " yes"), tok, o);
  EXPECT_EQ(te.prompt, (Ids{bos, raw[5], raw[6], raw[7]}));
  EXPECT_TRUE(te.prompt_truncated);
  o.keep_end = false;
  te = tr::tokenize(example("b", prompt, " yes"), tok, o);
  EXPECT_EQ(te.prompt, (Ids{bos, raw[0], raw[1], raw[2]}));
  // qwen3 has no BOS: add_bos is a config error.
  o.keep_end = true;
  EXPECT_TRUE(has(error_of<ram::ConfigError>([&] {
                    tr::tokenize(example("b", "hi", "yo"), tokenizer("qwen3"), o);
                  }),
                  "no BOS"));
}

TEST(TrainData, TruncationRulesByHand) {
  const auto& tok = tokenizer("gpt2");
  const std::int32_t eos = 50256;
  // " 1" … " 9" words: one token each in GPT-2.
  auto words = [](int from, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += " w" + std::to_string(from + i);
    return s;
  };
  const std::string p = words(0, 10);
  const Ids rp = tok.encode(p, false), rc = tok.encode(" yes sir", false),
            rr = tok.encode(" no no no no", false);
  ASSERT_GE(rp.size(), 10u);
  tr::TokenizeOptions o;
  o.with_rejected = true;
  const auto P = static_cast<std::int64_t>(rp.size());
  const auto longer = static_cast<std::int64_t>(std::max(rc.size(), rr.size()) + 1);
  // Exact fit: nothing cut.
  o.max_length = P + longer;
  o.max_prompt_length = 3;
  auto te = tr::tokenize(example("e", p, " yes sir", " no no no no"), tok, o);
  EXPECT_EQ(te.prompt, rp);
  EXPECT_EQ(te.rejected, cat(rr, {eos}));
  EXPECT_FALSE(te.prompt_truncated || te.response_truncated);
  // One over: the prompt keeps its last 3 tokens; the responses then fit.
  o.max_length = P + longer - 1;
  te = tr::tokenize(example("e", p, " yes sir", " no no no no"), tok, o);
  EXPECT_EQ(te.prompt, Ids(rp.end() - 3, rp.end()));
  EXPECT_EQ(te.chosen, cat(rc, {eos}));
  EXPECT_TRUE(te.prompt_truncated);
  EXPECT_FALSE(te.response_truncated);
  // Still too long after the prompt cut: both responses keep max_length - max_prompt_length
  // tokens (here the rejected one loses its EOS; the chosen one is shorter and stays).
  o.max_length = 3 + longer - 1;
  te = tr::tokenize(example("e", p, " yes sir", " no no no no"), tok, o);
  EXPECT_EQ(te.prompt, Ids(rp.end() - 3, rp.end()));
  EXPECT_EQ(static_cast<std::int64_t>(te.rejected.size()), longer - 1);
  EXPECT_EQ(te.rejected, Ids(rr.begin(), rr.begin() + (longer - 1)));
  EXPECT_EQ(te.chosen, cat(rc, {eos}));
  EXPECT_TRUE(te.response_truncated);
  // A prompt already within max_prompt_length is not "truncated" even when cutting happens.
  o.max_prompt_length = P;
  o.max_length = P + 2;
  te = tr::tokenize(example("e", p, " yes sir", " no no no no"), tok, o);
  EXPECT_EQ(te.prompt, rp);
  EXPECT_FALSE(te.prompt_truncated);
  EXPECT_EQ(te.chosen, (Ids{rc[0], rc[1]}));
  EXPECT_TRUE(te.response_truncated);
}

TEST(TrainData, TruncationMatchesTheOriginalOnRandomCases) {
  std::mt19937_64 rng(20240521);
  json cases = {{"tokenize", json::array()}, {"batch", json::array()}, {"split", json::array()},
                {"order", json::array()}};
  int truncated_prompts = 0, truncated_responses = 0, untouched = 0;
  for (const std::string family : {"gpt2", "llama3", "qwen3"}) {
    const auto& tok = tokenizer(family);
    const std::int32_t eos = *tok.eos_id();
    const auto bos = tok.bos_id();
    for (int k = 0; k < 500; ++k) {
      // Lengths: empty prompts, one-word responses, long ones.
      const int pw = static_cast<int>(k % 25 == 0 ? 0 : rng() % 60);
      const int cw = 1 + static_cast<int>(rng() % 30), rw = 1 + static_cast<int>(rng() % 30);
      ram::Example ex = example(family + "-" + std::to_string(k), random_text(rng, pw),
                                random_text(rng, cw), random_text(rng, rw));
      tr::TokenizeOptions o;
      o.with_rejected = rng() % 4 != 0;
      o.keep_end = rng() % 3 != 0;
      o.add_bos = bos.has_value() && rng() % 4 == 0;
      if (o.with_rejected && k % 40 == 7) {  // an empty proposal sample: kept as [EOS]
        ex.rejected.clear();
        ex.meta["rejected_kind"] = "sample";
      }
      const Ids rp = tok.encode(ex.prompt, false), rc = tok.encode(ex.chosen, false);
      const Ids rr = tok.encode(ex.rejected, false);
      const auto P = static_cast<std::int64_t>(rp.size() + (o.add_bos ? 1 : 0));
      const auto L = static_cast<std::int64_t>(
          std::max(rc.size(), o.with_rejected ? rr.size() : std::size_t{0}) + 1);
      // Options: random, or on a boundary of one of the two rules.
      switch (k % 6) {
        case 0:  // exact fit
          o.max_length = std::max<std::int64_t>(2, P + L);
          break;
        case 1:  // one over
          o.max_length = std::max<std::int64_t>(2, P + L - 1);
          break;
        case 2:  // prompt exactly max_prompt_length, too long overall
          o.max_length = std::max<std::int64_t>(2, P + L - 1 - static_cast<std::int64_t>(rng() % 3));
          o.max_prompt_length = std::clamp<std::int64_t>(P, 1, o.max_length - 1);
          break;
        case 3:  // after the prompt cut, exactly fitting / one over
          o.max_length = std::max<std::int64_t>(2, L + 1 + static_cast<std::int64_t>(rng() % 3));
          o.max_prompt_length = std::clamp<std::int64_t>(o.max_length - L + static_cast<std::int64_t>(rng() % 2),
                                                         1, o.max_length - 1);
          break;
        default:
          o.max_length = 2 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(P + L + 4));
          break;
      }
      if (k % 6 != 2 && k % 6 != 3)
        o.max_prompt_length = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(o.max_length - 1));
      ASSERT_GE(o.max_prompt_length, 1);
      ASSERT_LT(o.max_prompt_length, o.max_length);

      const auto te = tr::tokenize(ex, tok, o);
      expect_invariants(te, o, rp, rc, eos);
      truncated_prompts += te.prompt_truncated;
      truncated_responses += te.response_truncated;
      untouched += !te.prompt_truncated && !te.response_truncated;
      cases["tokenize"].push_back(
          {{"prompt", rp}, {"chosen", rc}, {"rejected", o.with_rejected ? json(rr) : json(nullptr)},
           {"eos", eos}, {"bos", bos ? json(*bos) : json(nullptr)},
           {"max_length", o.max_length}, {"max_prompt_length", o.max_prompt_length},
           {"truncation_mode", o.keep_end ? "keep_end" : "keep_start"}, {"add_bos", o.add_bos},
           {"got", {{"prompt", te.prompt}, {"chosen", te.chosen}, {"rejected", te.rejected},
                    {"prompt_truncated", te.prompt_truncated},
                    {"response_truncated", te.response_truncated}}}});

      // Every 10th case also goes into a batch of 4 with its neighbours.
      static std::vector<tr::TokenizedExample> group;
      group.push_back(te);
      if (group.size() == 4) {
        const bool rej = std::all_of(group.begin(), group.end(),
                                     [](const auto& g) { return !g.rejected.empty(); }) &&
                         rng() % 2 == 0;
        const std::int32_t pad = static_cast<std::int32_t>(rng() % 3 == 0 ? -1 : rng() % 1000);
        auto b = tr::make_batch(group, rej, pad);
        json exs = json::array();
        for (const auto& g : group) exs.push_back({{"prompt", g.prompt}, {"response", rej ? g.rejected : g.chosen}});
        if (k % 10 < 4)
          cases["batch"].push_back({{"examples", exs}, {"pad_id", pad},
                                    {"got", {{"ids", tensor_rows(b.ids)},
                                             {"attention", tensor_rows(b.attention)},
                                             {"loss_mask", tensor_rows_f(b.loss_mask)}}}});
        group.clear();
      }
    }
  }
  // The boundaries were exercised in every direction.
  EXPECT_GT(truncated_prompts, 200);
  EXPECT_GT(truncated_responses, 200);
  EXPECT_GT(untouched, 200);

  for (auto [n, n_eval, seed] : std::vector<std::tuple<std::int64_t, std::int64_t, std::uint64_t>>{
           {1, 0, 0}, {2, 1, 1}, {10, 3, 42}, {1000, 64, 0xdeadbeefcafef00dULL}, {37, 0, 7}}) {
    auto s = tr::split(n, n_eval, seed);
    cases["split"].push_back({{"n", n}, {"n_eval", n_eval}, {"seed", seed},
                              {"got", {{"train", s.train}, {"eval", s.eval}}}});
    for (std::int64_t epoch : {0, 1, 5})
      cases["order"].push_back({{"train", s.train}, {"seed", seed}, {"epoch", epoch},
                                {"got", tr::epoch_order(s.train, seed, epoch)}});
  }

  // A wrong answer the reference must catch: the prompt's start kept under keep_end.
  json corrupt = cases["tokenize"][0];
  corrupt["prompt"] = Ids{1, 2, 3, 4, 5, 6};
  corrupt["chosen"] = Ids{7, 8};
  corrupt["rejected"] = nullptr;
  corrupt["add_bos"] = false;
  corrupt["max_length"] = 6;
  corrupt["max_prompt_length"] = 3;
  corrupt["truncation_mode"] = "keep_end";
  corrupt["got"] = {{"prompt", Ids{1, 2, 3}}, {"chosen", Ids{7, 8, corrupt["eos"].get<std::int32_t>()}},
                    {"rejected", Ids{}}, {"prompt_truncated", true}, {"response_truncated", false}};
  cases["corrupt"] = corrupt;

  const std::string path = t::temp_dir("train_data") + "/cases.json";
  t::write_file(path, cases.dump());
  auto r = t::run(t::python() + " " + t::source_dir() + "/tests/python/train_data_reference.py " + path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "train_data_reference: ok")) << r.output;
}

TEST(TrainData, RefusesWhatCannotBeTrainedOn) {
  tr::TokenizeOptions o;
  // No EOS (qwen2_5 and gpt_neox ship no tokenizer_config.json): DataError naming the example.
  for (const std::string family : {"qwen2_5", "gpt_neox"}) {
    ASSERT_FALSE(tokenizer(family).eos_id().has_value()) << family;
    auto msg = error_of<ram::DataError>(
        [&] { tr::tokenize(example("ex-17", "hi", "yo"), tokenizer(family), o); });
    EXPECT_TRUE(has(msg, "no EOS") && has(msg, "ex-17")) << msg;
  }
  const auto& tok = tokenizer("gpt2");
  auto msg = error_of<ram::DataError>([&] { tr::tokenize(example("ex-3", "hi", ""), tok, o); });
  EXPECT_TRUE(has(msg, "chosen") && has(msg, "ex-3")) << msg;
  o.with_rejected = true;
  msg = error_of<ram::DataError>([&] { tr::tokenize(example("ex-4", "hi", "yo", ""), tok, o); });
  EXPECT_TRUE(has(msg, "rejected") && has(msg, "ex-4")) << msg;
  // An empty proposal sample is a real sample: [EOS].
  auto ex = example("ex-5", "hi", "yo", "");
  ex.meta["rejected_kind"] = "sample";
  EXPECT_EQ(tr::tokenize(ex, tok, o).rejected, Ids{50256});
  // Options the truncation rules cannot work with.
  for (auto [ml, mpl] : std::vector<std::pair<std::int64_t, std::int64_t>>{{8, 8}, {8, 0}, {8, 9}, {1, 0}}) {
    o.max_length = ml;
    o.max_prompt_length = mpl;
    EXPECT_TRUE(has(error_of<ram::ConfigError>([&] { tr::tokenize(example("e", "a", "b", "c"), tok, o); }),
                    "max_")) << ml << "/" << mpl;
  }
}

// ------------------------------------------------------------------ batches

TEST(TrainData, BatchesArePaddedAndMasked) {
  tr::TokenizedExample a, b;
  a.id = "a";
  a.prompt = {5, 6, 7};
  a.chosen = {8, 2};
  a.rejected = {9, 9, 9, 2};
  b.id = "b";
  b.prompt = {4};
  b.chosen = {3, 3, 3, 3, 2};
  b.rejected = {2};
  auto ob = tr::make_objective_batch({a, b}, /*with_rejected=*/true, /*pad_id=*/0);
  ASSERT_EQ(ob.chosen.ids.sizes(), (at::IntArrayRef{2, 6}));
  EXPECT_EQ(ob.chosen.ids.scalar_type(), at::kLong);
  EXPECT_EQ(ob.chosen.attention.scalar_type(), at::kLong);
  EXPECT_EQ(ob.chosen.loss_mask.scalar_type(), at::kFloat);
  using V = std::vector<std::vector<std::int64_t>>;
  EXPECT_EQ(tensor_rows(ob.chosen.ids), (V{{5, 6, 7, 8, 2, 0}, {4, 3, 3, 3, 3, 2}}));
  EXPECT_EQ(tensor_rows(ob.chosen.attention), (V{{1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1}}));
  EXPECT_EQ(tensor_rows(ob.chosen.loss_mask), (V{{0, 0, 0, 1, 1, 0}, {0, 1, 1, 1, 1, 1}}));
  ASSERT_EQ(ob.rejected.ids.sizes(), (at::IntArrayRef{2, 7}));
  EXPECT_EQ(tensor_rows(ob.rejected.ids), (V{{5, 6, 7, 9, 9, 9, 2}, {4, 2, 0, 0, 0, 0, 0}}));
  EXPECT_EQ(tensor_rows(ob.rejected.loss_mask), (V{{0, 0, 0, 1, 1, 1, 1}, {0, 1, 0, 0, 0, 0, 0}}));
  // The pad id is the caller's.
  auto c = tr::make_batch({a, b}, false, 77);
  EXPECT_EQ(tensor_rows(c.ids)[0][5], 77);
  // Without rejected: no rejected batch; asking for one anyway is an error.
  EXPECT_EQ(tr::make_objective_batch({a, b}, false, 0).rejected.size(), 0);
  a.rejected.clear();
  EXPECT_TRUE(has(error_of<ram::Error>([&] { tr::make_batch({a, b}, true, 0); }), "example a"));
  EXPECT_TRUE(has(error_of<ram::Error>([&] { tr::make_batch({}, false, 0); }), "no examples"));
}

// ------------------------------------------------------------------ synth.h5

namespace {

struct SynthSpec {
  std::string tokenizer_fp;
  std::string model_type = "llama";  // empty: no proposal_model_type attribute
  std::string settings_hash = "abc123";
  bool with_proposal = true, with_rejected_text = false;
  int rows = 3;
  int index_rows = -1;  // -1: same as rows
};

std::string write_synth(const std::string& dir, const SynthSpec& s) {
  const std::string path = dir + "/synth.h5";
  std::filesystem::remove(path);
  auto w = ram::h5::Writer::create(path, /*parallel=*/false);
  std::vector<std::int64_t> index, sample_index;
  std::vector<std::string> prompts, chosen, proposal;
  for (int i = 0; i < s.rows; ++i) {
    index.push_back(10 + i / 2);
    sample_index.push_back(i % 2);
    prompts.push_back("\n\nHuman: question " + std::to_string(i) + "\n\nAssistant:");
    chosen.push_back(" gold answer " + std::to_string(i));
    proposal.push_back(i == 2 ? "" : " sampled " + std::to_string(i));  // row 2: empty sample
  }
  index.resize(static_cast<std::size_t>(s.index_rows < 0 ? s.rows : s.index_rows), 99);
  w.write_array("examples/index", index);
  w.write_array("examples/sample_index", sample_index);
  w.write_ragged("examples/prompt_text", prompts);
  w.write_ragged("examples/chosen_text", chosen);
  if (s.with_proposal) w.write_ragged("examples/proposal_text", proposal);
  if (s.with_rejected_text) w.write_ragged("examples/rejected_text", proposal);
  w.set_attr("/", "tokenizer_fingerprint", s.tokenizer_fp);
  if (!s.model_type.empty()) w.set_attr("/", "proposal_model_type", s.model_type);
  w.set_attr("/", "settings_hash", s.settings_hash);
  w.finalize();
  return path;
}

}  // namespace

TEST(TrainData, SynthFileReadsBack) {
  const auto& tok = tokenizer("llama3");
  const std::string dir = t::temp_dir("train_synth");
  SynthSpec spec;
  spec.tokenizer_fp = tok.fingerprint();
  const std::string path = write_synth(dir, spec);
  auto src = tr::open_synth(path, tok.fingerprint(), "llama");
  ASSERT_EQ(src->size(), 3);
  EXPECT_TRUE(src->has_rejected());
  EXPECT_TRUE(has(src->describe(), "synth.h5") && has(src->describe(), "(3 rows)")) << src->describe();
  ram::Example e0 = src->get(0), e1 = src->get(1), e2 = src->get(2);
  EXPECT_EQ(e0.index, 0);
  EXPECT_EQ(e0.id, "10");
  EXPECT_EQ(e1.id, "10#1");  // second sample of dataset example 10
  EXPECT_EQ(e2.id, "11");
  EXPECT_EQ(e1.index, 1);
  EXPECT_EQ(e1.prompt, "\n\nHuman: question 1\n\nAssistant:");
  EXPECT_EQ(e1.chosen, " gold answer 1");
  EXPECT_EQ(e1.rejected, " sampled 1");
  EXPECT_EQ(e2.rejected, "");
  EXPECT_TRUE(has(e1.meta.at("source"), "synth.h5:1"));
  EXPECT_THROW(src->get(3), ram::Error);
  EXPECT_THROW(src->get(-1), ram::Error);

  // Tokenized with the rejected response: the empty sample becomes [EOS].
  tr::TokenizeOptions o;
  o.with_rejected = true;
  auto te = tr::tokenize(e2, tok, o);
  EXPECT_EQ(te.rejected, Ids{*tok.eos_id()});
  EXPECT_EQ(tr::tokenize(e1, tok, o).rejected, cat(tok.encode(" sampled 1", false), {*tok.eos_id()}));

  // Fingerprint: settings hash + rows; changes with either.
  const std::string fp = src->fingerprint();
  EXPECT_TRUE(has(fp, "abc123")) << fp;
  spec.settings_hash = "other";
  write_synth(dir, spec);
  EXPECT_NE(tr::open_synth(path, tok.fingerprint(), "llama")->fingerprint(), fp);
  spec.settings_hash = "abc123";
  spec.rows = 4;
  write_synth(dir, spec);
  EXPECT_NE(tr::open_synth(path, tok.fingerprint(), "llama")->fingerprint(), fp);
  // No proposal_model_type (files from before the attribute): accepted.
  spec.model_type.clear();
  write_synth(dir, spec);
  EXPECT_EQ(tr::open_synth(path, tok.fingerprint(), "qwen2")->size(), 4);
}

TEST(TrainData, SynthFileRefusals) {
  const auto& llama = tokenizer("llama3");
  const auto& qwen = tokenizer("qwen3");
  const std::string dir = t::temp_dir("train_synth_bad");
  SynthSpec spec;
  spec.tokenizer_fp = llama.fingerprint();

  // Missing dataset: FormatError naming the file and the dataset, pointing at `ram sample`.
  spec.with_proposal = false;
  std::string path = write_synth(dir, spec);
  auto msg = error_of<ram::FormatError>([&] { tr::open_synth(path, llama.fingerprint(), "llama"); });
  EXPECT_TRUE(has(msg, path) && has(msg, "/examples/proposal_text") && has(msg, "ram sample")) << msg;
  // A `ram prepare` output instead of synth.h5: said so.
  spec.with_rejected_text = true;
  write_synth(dir, spec);
  msg = error_of<ram::FormatError>([&] { tr::open_synth(path, llama.fingerprint(), "llama"); });
  EXPECT_TRUE(has(msg, "ram prepare") && has(msg, "train.data=dataset")) << msg;
  spec.with_rejected_text = false;
  spec.with_proposal = true;

  // Columns of different lengths.
  spec.index_rows = 2;
  write_synth(dir, spec);
  msg = error_of<ram::FormatError>([&] { tr::open_synth(path, llama.fingerprint(), "llama"); });
  EXPECT_TRUE(has(msg, "rows")) << msg;
  spec.index_rows = -1;

  // Another tokenizer than the proposal's.
  write_synth(dir, spec);
  msg = error_of<ram::DataError>([&] { tr::open_synth(path, qwen.fingerprint(), "llama"); });
  EXPECT_TRUE(has(msg, llama.fingerprint()) && has(msg, qwen.fingerprint()) &&
              has(msg, "tokenizer") && has(msg, path)) << msg;
  // Same tokenizer, another family.
  msg = error_of<ram::DataError>([&] { tr::open_synth(path, llama.fingerprint(), "qwen2"); });
  EXPECT_TRUE(has(msg, "'llama'") && has(msg, "'qwen2'") && has(msg, "family")) << msg;

  // No file; a file whose sampling is unfinished.
  const std::string missing = dir + "/none.h5";
  msg = error_of<ram::ConfigError>([&] { tr::open_synth(missing, llama.fingerprint(), "llama"); });
  EXPECT_TRUE(has(msg, "none.h5") && has(msg, "ram sample")) << msg;
  std::filesystem::create_directories(missing + ".parts");
  msg = error_of<ram::ConfigError>([&] { tr::open_synth(missing, llama.fingerprint(), "llama"); });
  EXPECT_TRUE(has(msg, "rerun the same")) << msg;
}

// ------------------------------------------------------------------ dataset plugin

TEST(TrainData, DatasetSourceThroughItsPlugin) {
  const std::string dir = t::temp_dir("train_ds");
  t::write_file(dir + "/d.jsonl",
                "{\"prompt\": \"P0\", \"chosen\": \"C0\", \"rejected\": \"R0\"}\n"
                "{\"prompt\": \"P1\", \"chosen\": \"C1\", \"rejected\": \"R1\"}\n");
  auto open = [&](const std::string& extra) {
    auto root = ram::config::parse_yaml(
        "dataset:\n  name: jsonl\n  path: '" + dir + "/d.jsonl'\n" + extra, "test.yaml");
    return tr::open_dataset(ram::ConfigView(root).child("dataset"));
  };
  auto src = open("  rejected_key: rejected\n");
  ASSERT_EQ(src->size(), 2);
  EXPECT_TRUE(src->has_rejected());
  ram::Example e = src->get(1);
  EXPECT_EQ(e.index, 1);
  EXPECT_EQ(e.prompt, "P1");
  EXPECT_EQ(e.chosen, "C1");
  EXPECT_EQ(e.rejected, "R1");
  EXPECT_TRUE(has(src->describe(), "jsonl: 2 examples")) << src->describe();
  EXPECT_FALSE(src->fingerprint().empty());
  EXPECT_THROW(src->get(2), ram::Error);
  // Without the rejected mapping: no rejected responses, another fingerprint; tokenizing
  // one for an objective that needs it names the example.
  auto plain = open("");
  EXPECT_FALSE(plain->has_rejected());
  EXPECT_NE(plain->fingerprint(), src->fingerprint());
  tr::TokenizeOptions o;
  o.with_rejected = true;
  auto msg = error_of<ram::DataError>([&] { tr::tokenize(plain->get(0), tokenizer("gpt2"), o); });
  EXPECT_TRUE(has(msg, "example 0") && has(msg, "rejected")) << msg;
  // A typo under dataset: is the plugin's strict-config error.
  EXPECT_THROW(open("  rejectd_key: rejected\n"), ram::ConfigError);
}

// ------------------------------------------------------------------ split / order

TEST(TrainData, SplitIsASeededPartition) {
  auto s = tr::split(100, 10, 1234);
  EXPECT_EQ(s.eval.size(), 10u);
  EXPECT_EQ(s.train.size(), 90u);
  EXPECT_TRUE(std::is_sorted(s.eval.begin(), s.eval.end()));
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
  std::vector<std::int64_t> all = s.train;
  all.insert(all.end(), s.eval.begin(), s.eval.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, iota_vec(100));
  auto again = tr::split(100, 10, 1234);
  EXPECT_EQ(again.eval, s.eval);
  EXPECT_EQ(again.train, s.train);
  EXPECT_NE(tr::split(100, 10, 1235).eval, s.eval);
  EXPECT_NE(s.eval, iota_vec(10));  // not simply the first ten
  auto none = tr::split(5, 0, 1);
  EXPECT_TRUE(none.eval.empty());
  EXPECT_EQ(none.train, iota_vec(5));
  EXPECT_THROW(tr::split(5, 5, 1), ram::ConfigError);
  EXPECT_THROW(tr::split(0, 0, 1), ram::ConfigError);
  EXPECT_THROW(tr::split(5, -1, 1), ram::ConfigError);
}

TEST(TrainData, EpochOrdersArePermutationsThatDifferByEpoch) {
  auto s = tr::split(500, 20, 9);
  auto o0 = tr::epoch_order(s.train, 9, 0), o1 = tr::epoch_order(s.train, 9, 1);
  EXPECT_EQ(o0, tr::epoch_order(s.train, 9, 0));
  EXPECT_NE(o0, o1);
  EXPECT_NE(o0, s.train);
  EXPECT_NE(o0, tr::epoch_order(s.train, 10, 0));
  for (const auto& o : {o0, o1}) {
    auto sorted = o;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, s.train);
  }
  EXPECT_TRUE(tr::epoch_order({}, 1, 0).empty());
  EXPECT_EQ(tr::epoch_order({7}, 1, 3), std::vector<std::int64_t>{7});
  EXPECT_THROW(tr::epoch_order(s.train, 9, -1), ram::Error);
}

TEST(TrainData, ShufflesAreUniform) {
  // 24000 orders of 5 elements (one per epoch): all 120 permutations appear, each near
  // 200 times (a biased or cyclic shuffle — Sattolo's off-by-one — fails this).
  std::map<std::vector<std::int64_t>, int> counts;
  const auto base = iota_vec(5);
  for (std::int64_t e = 0; e < 24000; ++e) ++counts[tr::epoch_order(base, 77, e)];
  EXPECT_EQ(counts.size(), 120u);
  for (const auto& [perm, c] : counts) {
    EXPECT_GT(c, 140);
    EXPECT_LT(c, 260);
  }
}
