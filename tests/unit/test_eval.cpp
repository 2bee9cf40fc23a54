// ram::eval — reading AlpacaEval outputs files (JSON array and JSONL) with file:line errors,
// matching records to dataset examples, statistics and the win rate. Oracles: hand-written
// files with known line numbers, hand-computed statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "config/compose.hpp"
#include "eval/eval.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "test_util.hpp"

namespace {

std::string temp_file(const std::string& name, const std::string& bytes) {
  std::string path = ram::test::temp_dir("eval") + "/" + name;
  ram::test::write_file(path, bytes);
  return path;
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

std::shared_ptr<ram::Dataset> demo_test_split() {
  auto root = ram::config::parse_yaml("dataset: {name: demo, split: test, size: 50}\n", "test.yaml");
  return ram::plugin::Registry::instance().make_dataset("demo", ram::ConfigView(root).child("dataset"));
}

}  // namespace

TEST(EvalOutputs, JsonArrayWithLines) {
  auto path = temp_file("outputs.json",
                        "[\n"
                        "  {\"instruction\": \"a\", \"output\": \"1\", \"generator\": \"g\", \"dataset\": \"demo\",\n"
                        "   \"example_index\": 3},\n"
                        "\n"
                        "  {\"instruction\": \"b, [c]\\\"\", \"output\": \"x\", \"index\": 0}, {\"output\": \"y\"}\n"
                        "]\n");
  auto r = ram::eval::read_outputs(path);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].line, 2);
  EXPECT_EQ(r[0].instruction, "a");
  EXPECT_EQ(r[0].generator, "g");
  EXPECT_EQ(r[0].dataset, "demo");
  EXPECT_EQ(*r[0].index, 3);
  EXPECT_EQ(r[1].line, 5);
  EXPECT_EQ(r[1].instruction, "b, [c]\"");
  EXPECT_EQ(*r[1].index, 0);
  EXPECT_EQ(r[2].line, 5);
  EXPECT_FALSE(r[2].index.has_value());
}

TEST(EvalOutputs, JsonLines) {
  auto path = temp_file("outputs.jsonl", "{\"output\": \"1\", \"example_index\": 1}\n\n{\"output\": \"2\"}\n");
  auto r = ram::eval::read_outputs(path);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].line, 1);
  EXPECT_EQ(r[1].line, 3);
  EXPECT_EQ(r[1].output, "2");
}

TEST(EvalOutputs, BadInputNamesFileAndLine) {
  auto p1 = temp_file("broken.json", "[\n {\"output\": \"1\"},\n {\"output\": 1 2}\n]\n");
  auto m = error_of<ram::DataError>([&] { ram::eval::read_outputs(p1); });
  EXPECT_TRUE(has(m, p1 + ":3")) << m;
  EXPECT_TRUE(has(m, "malformed JSON")) << m;
  auto p2 = temp_file("broken.jsonl", "{\"output\": \"1\"}\n{\"output\": \"2\"\n");
  m = error_of<ram::DataError>([&] { ram::eval::read_outputs(p2); });
  EXPECT_TRUE(has(m, p2 + ":2")) << m;
  auto p3 = temp_file("nooutput.json", "[\n {\"output\": \"1\"},\n\n {\"instruction\": \"x\"}\n]");
  m = error_of<ram::DataError>([&] { ram::eval::read_outputs(p3); });
  EXPECT_TRUE(has(m, p3 + ":4")) << m;
  EXPECT_TRUE(has(m, "'output' missing")) << m;
  auto p4 = temp_file("badindex.jsonl", "{\"output\": \"1\", \"example_index\": -2}\n");
  m = error_of<ram::DataError>([&] { ram::eval::read_outputs(p4); });
  EXPECT_TRUE(has(m, p4 + ":1")) << m;
  auto p5 = temp_file("empty.json", "[]");
  EXPECT_TRUE(has(error_of<ram::DataError>([&] { ram::eval::read_outputs(p5); }), "no records"));
  EXPECT_TRUE(has(error_of<ram::DataError>([&] { ram::eval::read_outputs(p5 + ".missing"); }), "cannot open"));
}

TEST(EvalOutputs, MatchByIndexOrInstruction) {
  auto ds = demo_test_split();
  const ram::Example e7 = ds->get(7);
  auto path = temp_file("m.jsonl",
                        "{\"output\": \"1\", \"example_index\": 2}\n"
                        "{\"output\": \"1\", \"instruction\": \"" + e7.meta.at("instruction") + "\"}\n" +
                        "{\"output\": \"1\", \"index\": 9}\n");
  auto r = ram::eval::read_outputs(path);
  auto idx = ram::eval::match_examples(r, *ds, path);
  ASSERT_EQ(idx.size(), 3u);
  EXPECT_EQ(idx[0], 2);
  EXPECT_EQ(ds->get(idx[1]).meta.at("instruction"), e7.meta.at("instruction"));
  EXPECT_EQ(idx[2], 9);
  auto bad = temp_file("n.jsonl", "{\"output\": \"1\"}\n{\"output\": \"1\", \"instruction\": \"What is 1000 + 1?\"}\n");
  auto rb = ram::eval::read_outputs(bad);
  auto m = error_of<ram::DataError>([&] { ram::eval::match_examples(rb, *ds, bad); });
  EXPECT_TRUE(has(m, bad + ":1")) << m;
  rb.erase(rb.begin());
  m = error_of<ram::DataError>([&] { ram::eval::match_examples(rb, *ds, bad); });
  EXPECT_TRUE(has(m, bad + ":2")) << m;
  EXPECT_TRUE(has(m, "example_index")) << m;
  auto far = temp_file("f.jsonl", "{\"output\": \"1\", \"example_index\": 50}\n");
  auto rf = ram::eval::read_outputs(far);
  m = error_of<ram::DataError>([&] { ram::eval::match_examples(rf, *ds, far); });
  EXPECT_TRUE(has(m, far + ":1")) << m;
}

TEST(EvalStats, MeanSdMinMax) {
  auto s = ram::eval::stats({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.sd, std::sqrt(1.25));
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 4);
  EXPECT_EQ(s.n, 4);
  EXPECT_EQ(ram::eval::stats({}).n, 0);
}

TEST(EvalStats, WinRatePairsByExample) {
  std::map<std::int64_t, double> a = {{0, 1.0}, {1, 0.5}, {2, 0.0}, {3, 1.0}, {9, 1.0}};
  std::map<std::int64_t, double> b = {{0, 0.5}, {1, 0.5}, {2, 1.0}, {3, 0.0}, {7, 0.0}};
  auto w = ram::eval::win_rate(a, b);
  EXPECT_EQ(w.wins, 2);
  EXPECT_EQ(w.ties, 1);
  EXPECT_EQ(w.losses, 1);
  EXPECT_EQ(w.unpaired, 2);
  EXPECT_EQ(w.n(), 4);
}
