// The demo task: the `demo` dataset plugin and the `demo`, `length`, `overlap` judge plugins,
// loaded through the registry as `ram eval` loads them. Oracles: hand-made outputs of each
// kind with their documented scores (docs/demo-task.md), hand-computed overlap figures, and
// properties of the generator (determinism, disjoint held-out prompts, S ⊂ D, style
// frequencies within a binomial bound of the configured weights, the judge agreeing with
// the style each response was generated in).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "config/compose.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "ram/judge.hpp"

namespace {

std::shared_ptr<ram::Dataset> open(const std::string& body) {
  auto root = ram::config::parse_yaml("dataset:\n  name: demo\n" + body, "test.yaml");
  return ram::plugin::Registry::instance().make_dataset("demo", ram::ConfigView(root).child("dataset"));
}

std::shared_ptr<ram::Judge> judge(const std::string& name) {
  auto root = ram::config::parse_yaml("j: {}\n", "test.yaml");
  return ram::plugin::Registry::instance().make_judge(name, ram::ConfigView(root).child("j"));
}

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

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

ram::Example example(const std::string& kind, const std::string& answer, const std::string& chosen = "") {
  ram::Example e;
  e.id = "t";
  e.meta["kind"] = kind;
  e.meta["answer"] = answer;
  e.chosen = chosen.empty() ? answer : chosen;
  return e;
}

}  // namespace

TEST(DemoDataset, DeterministicAndShaped) {
  auto a = open("  seed: 3\n  size: 300\n");
  auto b = open("  seed: 3\n  size: 300\n");
  auto c = open("  seed: 4\n  size: 300\n");
  ASSERT_EQ(a->size(), 300);
  EXPECT_EQ(a->fingerprint(), b->fingerprint());
  EXPECT_NE(a->fingerprint(), c->fingerprint());
  int differ = 0;
  std::set<std::string> kinds;
  for (std::int64_t i = 0; i < a->size(); ++i) {
    ram::Example x = a->get(i), y = b->get(i);
    EXPECT_EQ(x.prompt, y.prompt);
    EXPECT_EQ(x.chosen, y.chosen);
    EXPECT_EQ(x.rejected, y.rejected);
    EXPECT_EQ(x.index, i);
    differ += x.prompt != c->get(i).prompt;
    const std::string& ins = x.meta.at("instruction");
    EXPECT_LE(ins.size(), 40u) << ins;
    EXPECT_EQ(x.prompt, "\n\nHuman: " + ins + "\n\nAssistant: ");
    EXPECT_LE(x.chosen.size(), 80u) << x.chosen;
    EXPECT_LE(x.rejected.size(), 80u) << x.rejected;
    EXPECT_NE(x.meta.at("style"), x.meta.at("rejected_style"));
    EXPECT_FALSE(x.meta.at("answer").empty());
    kinds.insert(x.meta.at("kind"));
  }
  EXPECT_GT(differ, 250);  // another seed, other prompts
  EXPECT_EQ(kinds.size(), 7u);
}

TEST(DemoDataset, StyleFrequenciesFollowTheWeights) {
  const int n = 4000;
  auto ds = open("  size: " + std::to_string(n) +
                 "\n  style_weights: {concise: 0.5, verbose: 0.25, wrong: 0.25, evasive: 0}\n");
  std::map<std::string, int> count;
  for (std::int64_t i = 0; i < n; ++i) ++count[ds->get(i).meta.at("style")];
  EXPECT_EQ(count["evasive"], 0);
  for (auto [style, p] : std::map<std::string, double>{{"concise", 0.5}, {"verbose", 0.25}, {"wrong", 0.25}}) {
    const double sd = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(count[style], n * p, 4 * sd) << style;  // 4 sd: fails by chance < 1e-4
  }
}

TEST(DemoDataset, AlignSharesTrainPromptsInTheConciseStyle) {
  auto train = open("  seed: 7\n  size: 200\n");
  auto align = open("  seed: 7\n  size: 100\n  split: align\n");
  for (std::int64_t i = 0; i < align->size(); ++i) {
    ram::Example s = align->get(i), d = train->get(i);
    EXPECT_EQ(s.prompt, d.prompt);  // S ⊂ D
    EXPECT_EQ(s.meta.at("style"), "concise");
    EXPECT_EQ(s.chosen, s.meta.at("answer"));
    EXPECT_NE(s.meta.at("rejected_style"), "concise");
  }
}

TEST(DemoDataset, TestPromptsAreHeldOut) {
  std::set<std::string> seen;
  for (int seed : {0, 1, 2}) {
    auto train = open("  seed: " + std::to_string(seed) + "\n  size: 1500\n");
    for (std::int64_t i = 0; i < train->size(); ++i) seen.insert(train->get(i).meta.at("instruction"));
  }
  auto test = open("  seed: 0\n  size: 500\n  split: test\n");
  std::set<std::string> test_prompts;
  for (std::int64_t i = 0; i < test->size(); ++i) {
    ram::Example e = test->get(i);
    EXPECT_EQ(seen.count(e.meta.at("instruction")), 0u) << e.meta.at("instruction");
    EXPECT_EQ(e.chosen, e.meta.at("answer"));
    test_prompts.insert(e.meta.at("instruction"));
  }
  EXPECT_GT(test_prompts.size(), 250u);  // varied, not a handful repeated (~310 expected)
}

TEST(DemoDataset, BadConfigIsAConfigError) {
  EXPECT_TRUE(has(error_of<ram::ConfigError>([] { open("  split: validation\n"); }), "train, align or test"));
  EXPECT_TRUE(has(error_of<ram::ConfigError>([] { open("  size: 0\n"); }), "size"));
  EXPECT_TRUE(has(error_of<ram::ConfigError>([] { open("  kinds: [add, divide]\n"); }), "divide"));
  EXPECT_TRUE(has(error_of<ram::ConfigError>([] { open("  prompt_template: 'Q: {prompt}'\n"); }),
                  "{instruction}"));
  EXPECT_TRUE(has(error_of<ram::ConfigError>([] {
                    open("  style_weights: {concise: 0, verbose: 0, wrong: 0, evasive: 0}\n");
                  }),
                  "style_weights"));
  EXPECT_TRUE(has(error_of<ram::ConfigError>([] { open("  style_weights: {concise: -1}\n"); }), "concise"));
  EXPECT_TRUE(has(error_of<ram::ConfigError>([] { open("  sizes: 3\n"); }), "sizes"));  // typo
}

TEST(DemoJudge, HandMadeOutputsOfEachKind) {
  auto j = judge("demo");
  auto sc = [&](const std::string& kind, const std::string& answer, const std::string& out) {
    return j->score(example(kind, answer), out);
  };
  // concise and correct → 1
  auto s = sc("add", "68", "68");
  EXPECT_EQ(s["score"], 1.0);
  EXPECT_EQ(s["correct"], 1.0);
  EXPECT_EQ(s["preferred"], 1.0);
  EXPECT_EQ(sc("add", "68", "  The answer is 68.\n")["score"], 1.0);
  EXPECT_EQ(sc("sort", "1 2 5 9", "1, 2, 5, 9")["score"], 1.0);
  EXPECT_EQ(sc("reverse", "sun dog cat", "Sun dog cat.")["score"], 1.0);
  // verbose but correct → 0.5
  s = sc("mul", "56", "Sure! The answer is 56. Hope this helps!");
  EXPECT_EQ(s["score"], 0.5);
  EXPECT_EQ(s["correct"], 1.0);
  EXPECT_EQ(s["preferred"], 0.0);
  EXPECT_EQ(sc("upper", "APPLE", "Great question! The answer is APPLE. Anything else?")["score"], 0.5);
  // wrong (concise-shaped) → 0, but the style is the preferred one
  s = sc("sub", "33", "34");
  EXPECT_EQ(s["score"], 0.0);
  EXPECT_EQ(s["correct"], 0.0);
  EXPECT_EQ(s["preferred"], 1.0);
  EXPECT_EQ(sc("upper", "APPLE", "apple")["correct"], 0.0);  // case is the task
  EXPECT_EQ(sc("sort", "1 2 5 9", "9 5 2 1")["score"], 0.0);
  // evasive → 0, not preferred, not answered
  s = sc("reverse", "sun dog cat", "That is hard to say.");
  EXPECT_EQ(s["score"], 0.0);
  EXPECT_EQ(s["evasive"], 1.0);
  EXPECT_EQ(s["answered"], 0.0);
  EXPECT_EQ(s["preferred"], 0.0);
  EXPECT_EQ(sc("count", "5", "Sorry, I can't help with that.")["score"], 0.0);
  // the answer plus chatter is correct but not preferred
  EXPECT_EQ(sc("count", "5", "5\nLet me know if you need more")["score"], 0.5);
  EXPECT_EQ(sc("add", "68", "")["score"], 0.0);
  // an example without meta kind / answer is a DataError naming what to do
  ram::Example bare;
  bare.id = "x";
  EXPECT_TRUE(has(error_of<ram::DataError>([&] { j->score(bare, "1"); }), "meta"));
}

TEST(DemoJudge, AgreesWithTheGeneratedStyles) {
  auto j = judge("demo");
  auto ds = open("  seed: 11\n  size: 1000\n  style_weights: {concise: 1, verbose: 1, wrong: 1, evasive: 1}\n");
  const std::map<std::string, double> expected = {
      {"concise", 1.0}, {"verbose", 0.5}, {"wrong", 0.0}, {"evasive", 0.0}};
  std::map<std::string, int> seen;
  for (std::int64_t i = 0; i < ds->size(); ++i) {
    ram::Example e = ds->get(i);
    const std::string& style = e.meta.at("style");
    ++seen[style];
    EXPECT_EQ(j->score(e, e.chosen).at("score"), expected.at(style)) << style << ": " << e.chosen;
    EXPECT_EQ(j->score(e, e.rejected).at("score"), expected.at(e.meta.at("rejected_style")))
        << e.meta.at("rejected_style") << ": " << e.rejected;
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(LengthJudge, CountsCharsWordsLines) {
  auto j = judge("length");
  auto s = j->score(example("add", "1"), "caf\xC3\xA9 ok\n two");
  EXPECT_EQ(s["chars"], 12.0);
  EXPECT_EQ(s["bytes"], 13.0);
  EXPECT_EQ(s["words"], 3.0);
  EXPECT_EQ(s["lines"], 2.0);
  s = j->score(example("add", "1"), "");
  EXPECT_EQ(s["chars"], 0.0);
  EXPECT_EQ(s["words"], 0.0);
  EXPECT_EQ(s["lines"], 0.0);
}

TEST(OverlapJudge, HandComputedF1AndRougeL) {
  auto j = judge("overlap");
  // reference a b c d, output "b a c x y": common bag 3 → P 3/5, R 3/4, F1 = 2/3;
  // LCS (a c or b c) = 2 → P 2/5, R 2/4, F = 4/9.
  auto s = j->score(example("x", "", "a b c d"), "B, a; c x y");
  EXPECT_NEAR(s["f1"], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(s["rouge_l"], 4.0 / 9.0, 1e-12);
  EXPECT_EQ(s["exact"], 0.0);
  s = j->score(example("x", "", "Sun dog cat"), "sun, dog, cat.");
  EXPECT_EQ(s["exact"], 1.0);
  EXPECT_EQ(s["f1"], 1.0);
  EXPECT_EQ(s["rouge_l"], 1.0);
  s = j->score(example("x", "", "68"), "I don't know");
  EXPECT_EQ(s["f1"], 0.0);
  EXPECT_EQ(s["rouge_l"], 0.0);
  // repeated tokens count once per occurrence: ref "a a b", out "a a a" → common 2, P 2/3,
  // R 2/3 → F1 2/3; LCS 2 → 2/3.
  s = j->score(example("x", "", "a a b"), "a a a");
  EXPECT_NEAR(s["f1"], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(s["rouge_l"], 2.0 / 3.0, 1e-12);
}

TEST(Judges, UnknownJudgeIsAPluginError) {
  auto msg = error_of<ram::PluginError>([] { judge("dmeo"); });
  EXPECT_TRUE(has(msg, "dmeo")) << msg;
}
