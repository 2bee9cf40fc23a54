// The jsonl dataset plugin, loaded through the registry as the runtime loads it. Oracles:
// hand-written fixtures with known contents (tests/unit/fixtures/jsonl/), and for every bad
// input the exact error kind plus the file:line it must name.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "config/compose.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "test_util.hpp"

namespace {

using ram::test::write_file;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string fixture(const std::string& name) {
  return ram::test::source_dir() + "/tests/unit/fixtures/jsonl/" + name;
}

// Opens the plugin with `dataset:` set to `body` (YAML lines, indented by the caller).
std::shared_ptr<ram::Dataset> open(const std::string& body) {
  auto root = ram::config::parse_yaml("dataset:\n  name: jsonl\n" + body, "test.yaml");
  ram::ConfigView view = ram::ConfigView(root).child("dataset");
  return ram::plugin::Registry::instance().make_dataset("jsonl", view);
}

std::string at_path(const std::string& path) { return "  path: '" + path + "'\n"; }

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

// A temp file with the given bytes; returns its path.
std::string temp_file(const std::string& name, const std::string& bytes) {
  std::string path = ram::test::temp_dir("jsonl") + "/" + name;
  write_file(path, bytes);
  return path;
}

const char* kAlpacaMapping =
    "  prompt_key: instruction\n  chosen_key: output\n  rejected_key: worse\n  id_key: uid\n";

void expect_alpaca(const ram::Dataset& ds, const std::string& path, int line0, int line1) {
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.skipped(), 0);
  ram::Example a = ds.get(0), b = ds.get(1);
  EXPECT_EQ(a.index, 0);
  EXPECT_EQ(a.id, "101");
  EXPECT_EQ(a.prompt, "Name a primary colour.");
  EXPECT_EQ(a.chosen, "Red.");
  EXPECT_EQ(a.rejected, "Purple.");
  EXPECT_EQ(a.meta.at("source"), path + ":" + std::to_string(line0));
  EXPECT_EQ(b.index, 1);
  EXPECT_EQ(b.id, "b-2");
  EXPECT_EQ(b.prompt, "Translate \"caf\xC3\xA9\" to English.");
  EXPECT_EQ(b.chosen, "Coffee, or a caf\xC3\xA9 \xE2\x80\x94 \xE2\x82\xAC" "3.");
  EXPECT_EQ(b.rejected, "Tea.");
  EXPECT_EQ(b.meta.at("source"), path + ":" + std::to_string(line1));
}

}  // namespace

TEST(Jsonl, FieldMappingReadsTheNamedFields) {
  std::string path = fixture("alpaca.jsonl");
  auto ds = open(at_path(path) + kAlpacaMapping);
  expect_alpaca(*ds, path, 1, 3);  // line 2 is blank
  EXPECT_TRUE(has(ds->describe(), "jsonl: 2 examples from " + path)) << ds->describe();
  EXPECT_EQ(ds->describe().find('\n'), std::string::npos);
}

TEST(Jsonl, JsonArrayFileGivesTheSameExamplesAsJsonl) {
  std::string path = fixture("alpaca.json");
  auto ds = open(at_path(path) + kAlpacaMapping);
  expect_alpaca(*ds, path, 2, 9);  // where each object starts
  EXPECT_TRUE(has(ds->describe(), "JSON array")) << ds->describe();
}

TEST(Jsonl, DefaultsReadPromptChosenAndUseTheIndexAsId) {
  std::string path = temp_file("d.jsonl", "{\"prompt\": \"p0\", \"chosen\": \"c0\", \"rejected\": \"r0\"}\n"
                                          "{\"prompt\": \"p1\", \"chosen\": \"c1\"}\n");
  auto ds = open(at_path(path));
  ASSERT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->get(1).id, "1");
  EXPECT_EQ(ds->get(1).prompt, "p1");
  EXPECT_EQ(ds->get(0).rejected, "");  // rejected_key defaults to none
  EXPECT_THROW(ds->get(2), ram::Error);
  EXPECT_THROW(ds->get(-1), ram::Error);
}

TEST(Jsonl, PromptTemplateAndResponsePrefixAreApplied) {
  std::string path = temp_file("t.jsonl", "{\"q\": \"Hi?\", \"a\": \"Hello.\", \"b\": \"Go away.\"}\n");
  auto ds = open(at_path(path) +
                 "  prompt_key: q\n  chosen_key: a\n  rejected_key: b\n"
                 "  prompt_template: \"\\n\\nHuman: {prompt}\\n\\nAssistant:\"\n"
                 "  response_prefix: ' '\n");
  ram::Example e = ds->get(0);
  EXPECT_EQ(e.prompt, "\n\nHuman: Hi?\n\nAssistant:");
  EXPECT_EQ(e.chosen, " Hello.");
  EXPECT_EQ(e.rejected, " Go away.");
}

TEST(Jsonl, TemplateWithoutPlaceholderIsConfigError) {
  std::string path = temp_file("t.jsonl", "{\"prompt\": \"p\", \"chosen\": \"c\"}\n");
  auto msg = error_of<ram::ConfigError>([&] { open(at_path(path) + "  prompt_template: 'Q: '\n"); });
  EXPECT_TRUE(has(msg, "dataset.prompt_template")) << msg;
  EXPECT_TRUE(has(msg, "{prompt}")) << msg;
}

TEST(Jsonl, MalformedLineIsDataErrorWithFileAndLine) {
  std::string path = fixture("malformed.jsonl");
  auto msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "malformed JSON")) << msg;
  EXPECT_TRUE(has(msg, "malformed.jsonl:3")) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(Jsonl, MissingFieldNamesTheKeysAndTheConfigKey) {
  std::string path = temp_file("m.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n"
                                          "{\"instruction\": \"a\", \"input\": \"x\"}\n");
  auto msg = error_of<ram::DataError>(
      [&] { open(at_path(path) + "  prompt_key: instruction\n  chosen_key: output\n"); });
  EXPECT_TRUE(has(msg, "field 'output' missing (keys: instruction, input)")) << msg;
  EXPECT_TRUE(has(msg, "m.jsonl:2")) << msg;
  EXPECT_TRUE(has(msg, "set dataset.chosen_key")) << msg;
}

TEST(Jsonl, NonStringFieldIsDataError) {
  std::string path = temp_file("n.jsonl", "\n{\"prompt\": \"a\", \"chosen\": 42}\n");
  auto msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "field 'chosen' is a number, expected a string")) << msg;
  EXPECT_TRUE(has(msg, "n.jsonl:2")) << msg;
}

TEST(Jsonl, RecordThatIsNotAnObjectIsDataError) {
  std::string path = temp_file("a.jsonl", "[\"prompt\", \"chosen\"]\n");
  // A line starting with '[' makes the file a JSON array of strings.
  auto msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "record is a JSON string, expected an object")) << msg;
  EXPECT_TRUE(has(msg, "a.jsonl:1")) << msg;
}

TEST(Jsonl, InvalidUtf8IsDataErrorWithLine) {
  std::string path = temp_file("u.jsonl", "{\"prompt\": \"ok\", \"chosen\": \"fine\"}\n"
                                          "{\"prompt\": \"bad \xff byte\", \"chosen\": \"x\"}\n");
  auto msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "invalid UTF-8")) << msg;
  EXPECT_TRUE(has(msg, "0xff")) << msg;
  EXPECT_TRUE(has(msg, "u.jsonl:2")) << msg;
}

TEST(Jsonl, Utf8ValidatorRejectsOverlongSurrogateAndTruncatedSequences) {
  const char* bad[] = {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                       "\xe2\x82", "\x80", "\xf8\x88\x80\x80\x80"};
  for (const char* b : bad) {
    std::string path = temp_file("v.jsonl", std::string("{\"prompt\": \"") + b + "\", \"chosen\": \"c\"}\n");
    auto msg = error_of<ram::DataError>([&] { open(at_path(path)); });
    EXPECT_TRUE(has(msg, "invalid UTF-8")) << msg;
  }
  // Valid 2-, 3- and 4-byte sequences pass through unchanged.
  std::string good = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
  std::string path = temp_file("w.jsonl", "{\"prompt\": \"" + good + "\", \"chosen\": \"c\"}\n");
  EXPECT_EQ(open(at_path(path))->get(0).prompt, good);
}

TEST(Jsonl, OnErrorSkipSkipsAndCountsBadRecords) {
  std::string path = temp_file("s.jsonl",
                               "{\"prompt\": \"p0\", \"chosen\": \"c0\"}\n"     // 1 ok
                               "{\"prompt\": \"p1\", \"chosen\": \n"            // 2 malformed
                               "{\"prompt\": \"p2\", \"chosen\": \"c2\"}\n"     // 3 ok
                               "{\"prompt\": \"p3\"}\n"                         // 4 missing
                               "{\"prompt\": \"p4\xfe\", \"chosen\": \"c4\"}\n"  // 5 bad UTF-8
                               "{\"prompt\": \"p5\", \"chosen\": \"c5\"}\n");   // 6 ok
  auto ds = open(at_path(path) + "  on_error: skip\n");
  ASSERT_EQ(ds->size(), 3);
  EXPECT_EQ(ds->skipped(), 3);
  EXPECT_EQ(ds->get(1).prompt, "p2");
  EXPECT_EQ(ds->get(1).index, 1);
  EXPECT_EQ(ds->get(1).meta.at("source"), path + ":3");
  EXPECT_EQ(ds->get(2).meta.at("source"), path + ":6");
  EXPECT_TRUE(has(ds->describe(), "3 skipped")) << ds->describe();
  // The same file with the default on_error fails at the first bad line.
  auto msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "s.jsonl:2")) << msg;
}

TEST(Jsonl, OnErrorMustBeFailOrSkip) {
  std::string path = temp_file("o.jsonl", "{\"prompt\": \"p\", \"chosen\": \"c\"}\n");
  auto msg = error_of<ram::ConfigError>([&] { open(at_path(path) + "  on_error: ignore\n"); });
  EXPECT_TRUE(has(msg, "dataset.on_error")) << msg;
  EXPECT_TRUE(has(msg, "test.yaml:4")) << msg;
}

TEST(Jsonl, ConfigTypoIsConfigErrorWithSuggestion) {
  std::string path = temp_file("c.jsonl", "{\"prompt\": \"p\", \"chosen\": \"c\"}\n");
  auto msg = error_of<ram::ConfigError>([&] { open(at_path(path) + "  promt_key: instruction\n"); });
  EXPECT_TRUE(has(msg, "promt_key")) << msg;
  EXPECT_TRUE(has(msg, "did you mean")) << msg;
  EXPECT_TRUE(has(msg, "prompt_key")) << msg;
}

TEST(Jsonl, MissingPathIsConfigErrorAndMissingFileIsDataError) {
  auto msg = error_of<ram::ConfigError>([&] { open("  prompt_key: q\n"); });
  EXPECT_TRUE(has(msg, "dataset.path")) << msg;
  msg = error_of<ram::DataError>([&] { open(at_path("/nonexistent/x.jsonl")); });
  EXPECT_TRUE(has(msg, "/nonexistent/x.jsonl")) << msg;
  EXPECT_TRUE(has(msg, "does not exist")) << msg;
}

TEST(Jsonl, EmptyInputIsDataError) {
  for (const char* text : {"", "\n  \n\n", "[]", " [ \n ] \n"}) {
    std::string path = temp_file("e.jsonl", text);
    auto msg = error_of<ram::DataError>([&] { open(at_path(path)); });
    EXPECT_TRUE(has(msg, "no valid records")) << "input '" << text << "': " << msg;
  }
  // Every record bad and skipped: still empty, and the message says why.
  std::string path = temp_file("e.jsonl", "{\"prompt\": 1, \"chosen\": \"c\"}\n");
  auto msg = error_of<ram::DataError>([&] { open(at_path(path) + "  on_error: skip\n"); });
  EXPECT_TRUE(has(msg, "1 skipped")) << msg;
  EXPECT_TRUE(has(msg, "field 'prompt' is a number")) << msg;
}

TEST(Jsonl, BrokenJsonArrayNamesTheLine) {
  std::string path = temp_file("b.json", "[\n  {\"prompt\": \"p\", \"chosen\": \"c\"},\n  {\"prompt\": \"q\"\n");
  auto msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "no closing ']'")) << msg;
  path = temp_file("b.json", "[\n  {\"prompt\": \"p\", \"chosen\": \"c\"},\n  {\"prompt\": \"q\" \"chosen\": \"d\"}\n]\n");
  msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "malformed JSON")) << msg;
  EXPECT_TRUE(has(msg, "b.json:3")) << msg;
  path = temp_file("b.json", "[\n  {\"prompt\": \"p\", \"chosen\": \"c\"},\n]\n");  // trailing comma
  msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "malformed JSON")) << msg;
  path = temp_file("b.json", "[{\"prompt\": \"p\", \"chosen\": \"c\"}]\n]\n");
  msg = error_of<ram::DataError>([&] { open(at_path(path)); });
  EXPECT_TRUE(has(msg, "text after the closing ']'")) << msg;
  EXPECT_TRUE(has(msg, "b.json:2")) << msg;
}

TEST(Jsonl, MaxExamplesKeepsTheFirstValidRecords) {
  std::string text;
  for (int i = 0; i < 5; ++i)
    text += "{\"prompt\": \"p" + std::to_string(i) + "\", \"chosen\": \"c\"}\n";
  std::string path = temp_file("x.jsonl", text);
  auto ds = open(at_path(path) + "  max_examples: 2\n");
  ASSERT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->get(1).prompt, "p1");
  EXPECT_EQ(open(at_path(path) + "  max_examples: -1\n")->size(), 5);
  EXPECT_THROW(open(at_path(path) + "  max_examples: 0\n"), ram::ConfigError);
}

TEST(Jsonl, FingerprintFollowsContentAndMapping) {
  std::string a = temp_file("f.jsonl", "{\"prompt\": \"p\", \"chosen\": \"c\", \"other\": \"o\"}\n");
  std::string b = temp_file("f.jsonl", "{\"prompt\": \"p\", \"chosen\": \"c\", \"other\": \"O\"}\n");
  std::string fa = open(at_path(a))->fingerprint();
  EXPECT_EQ(fa.size(), 16u);
  EXPECT_EQ(fa, open(at_path(a))->fingerprint());                       // stable
  EXPECT_NE(fa, open(at_path(b))->fingerprint());                       // bytes differ
  EXPECT_NE(fa, open(at_path(a) + "  chosen_key: other\n")->fingerprint());  // mapping differs
}
