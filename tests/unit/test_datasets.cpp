// The file-format dataset plugins (hh, hh_harmless, tldr, ultrachat, alpaca), loaded through
// the registry as the runtime loads them. Every fixture is written by the test in the real
// format (gzip included, via zlib here); the oracles are the templates of ram-method.md
// ("Data") spelled out literally, and for bad input the error kind plus the file:line.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/compose.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
// ram::test::write_file, creating the parent folders first.
void write_file(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ram::test::write_file(path, bytes);
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// gzip member of `text` (zlib's deflate with a gzip wrapper).
std::string gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A JSON string literal for `s` (the fixtures' texts hold only ASCII escapes we need).
std::string q(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '\n') o += "\\n";
    else if (c == '"') o += "\\\"";
    else if (c == '\\') o += "\\\\";
    else o += c;
  }
  return o + "\"";
}

std::string hh_line(const std::string& chosen, const std::string& rejected) {
  return "{\"chosen\": " + q(chosen) + ", \"rejected\": " + q(rejected) + "}\n";
}

// Opens plugin `name` with `dataset:` set to `body` (YAML lines indented by two spaces).
std::shared_ptr<ram::Dataset> open(const std::string& name, const std::string& body) {
  auto root = ram::config::parse_yaml("dataset:\n  name: " + name + "\n" + body, "test.yaml");
  return ram::plugin::Registry::instance().make_dataset(name, ram::ConfigView(root).child("dataset"));
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

// ram-method.md's single-turn template, spelled out.
std::string single(const std::string& instruction) {
  return "\n\nHuman: " + instruction + "\n\nAssistant: ";
}

const std::string kMultiChosen =
    "\n\nHuman: Hi there.\n\nAssistant: Hello! How can I help?\n\nHuman: Name a fruit."
    "\n\nAssistant: An apple.";
const std::string kMultiRejected =
    "\n\nHuman: Hi there.\n\nAssistant: Hello! How can I help?\n\nHuman: Name a fruit."
    "\n\nAssistant: A car.";
const std::string kMultiPrompt =
    "\n\nHuman: Hi there.\n\nAssistant: Hello! How can I help?\n\nHuman: Name a fruit."
    "\n\nAssistant: ";

// <root>/helpful-base/train.jsonl.gz (2 records) and <root>/harmless-base/train.jsonl (1).
std::string hh_root() {
  std::string root = ram::test::temp_dir("hh");
  write_file(root + "/helpful-base/train.jsonl.gz",
             gzip(hh_line(kMultiChosen, kMultiRejected) +
                  hh_line("\n\nHuman: 2+2?\n\nAssistant: 4.", "\n\nHuman: 2+2?\n\nAssistant: 5.")));
  write_file(root + "/harmless-base/train.jsonl",
             hh_line("\n\nHuman: How do I pick a lock?\n\nAssistant: I can't help with that.",
                     "\n\nHuman: How do I pick a lock?\n\nAssistant: Use a pin."));
  return root;
}

}  // namespace

// ------------------------------------------------------------------ hh

TEST(DatasetHh, MultiTurnPromptIsTheTranscriptUpToTheLastAssistantTurn) {
  std::string root = hh_root();
  auto ds = open("hh", "  root: '" + root + "'\n  subsets: [helpful-base, harmless-base]\n");
  ASSERT_EQ(ds->size(), 3);
  EXPECT_EQ(ds->skipped(), 0);
  ram::Example a = ds->get(0);
  EXPECT_EQ(a.prompt, kMultiPrompt);
  EXPECT_EQ(a.chosen, "An apple.");
  EXPECT_EQ(a.rejected, "A car.");
  EXPECT_EQ(a.prompt + a.chosen, kMultiChosen);  // nothing lost at the cut
  EXPECT_EQ(a.id, "helpful-base/train:1");
  EXPECT_EQ(a.meta.at("source"), root + "/helpful-base/train.jsonl.gz:1");
  EXPECT_EQ(a.meta.at("subset"), "helpful-base");
  ram::Example b = ds->get(1);
  EXPECT_EQ(b.prompt, "\n\nHuman: 2+2?\n\nAssistant: ");
  EXPECT_EQ(b.chosen, "4.");
  EXPECT_EQ(b.rejected, "5.");
  ram::Example c = ds->get(2);  // the plain .jsonl of the second subset
  EXPECT_EQ(c.prompt, single("How do I pick a lock?"));
  EXPECT_EQ(c.chosen, "I can't help with that.");
  EXPECT_EQ(c.id, "harmless-base/train:1");
  EXPECT_EQ(c.meta.at("source"), root + "/harmless-base/train.jsonl:1");
  EXPECT_TRUE(has(ds->describe(), "hh: 3 examples (split train)")) << ds->describe();
  EXPECT_THROW(ds->get(3), ram::Error);
}

TEST(DatasetHh, GzAndPlainReadTheSameAndFingerprintFollowsContent) {
  std::string a = ram::test::temp_dir("hh_gz"), b = ram::test::temp_dir("hh_plain");
  std::string text = hh_line(kMultiChosen, kMultiRejected);
  write_file(a + "/helpful-base/train.jsonl.gz", gzip(text.substr(0, 40)) + gzip(text.substr(40)));  // 2 members
  write_file(b + "/helpful-base/train.jsonl", text);
  auto da = open("hh", "  root: '" + a + "'\n  subsets: [helpful-base]\n");
  auto db = open("hh", "  root: '" + b + "'\n  subsets: [helpful-base]\n");
  ASSERT_EQ(da->size(), 1);
  EXPECT_EQ(da->get(0).prompt, db->get(0).prompt);
  EXPECT_EQ(da->get(0).chosen, db->get(0).chosen);
  EXPECT_EQ(da->fingerprint(), db->fingerprint());  // the inflated bytes are hashed
  write_file(b + "/helpful-base/train.jsonl", hh_line(kMultiChosen + "!", kMultiRejected));
  EXPECT_NE(open("hh", "  root: '" + b + "'\n  subsets: [helpful-base]\n")->fingerprint(), db->fingerprint());
  EXPECT_NE(open("hh", "  root: '" + a + "'\n  subsets: [helpful-base]\n  aligner_format: true\n")->fingerprint(),
            da->fingerprint());
}

TEST(DatasetHh, TruncatedOrCorruptGzipIsADataErrorNamingTheFile) {
  std::string root = ram::test::temp_dir("hh_badgz");
  std::string z = gzip(hh_line(kMultiChosen, kMultiRejected));
  std::string file = root + "/helpful-base/train.jsonl.gz";
  write_file(file, z.substr(0, z.size() / 2));
  std::string m = error_of<ram::DataError>([&] { open("hh", "  root: '" + root + "'\n  subsets: [helpful-base]\n"); });
  EXPECT_TRUE(has(m, "truncated") || has(m, "corrupt")) << m;
  EXPECT_TRUE(has(m, file)) << m;
  std::string bad = z;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);
  bad[bad.size() / 2 + 1] = static_cast<char>(bad[bad.size() / 2 + 1] ^ 0xa5);
  write_file(file, bad);
  m = error_of<ram::DataError>([&] { open("hh", "  root: '" + root + "'\n  subsets: [helpful-base]\n"); });
  EXPECT_TRUE(has(m, "gzip")) << m;
  EXPECT_TRUE(has(m, file)) << m;
}

TEST(DatasetHh, DifferentPromptsFailWithFileLineOrAreSkippedAndCounted) {
  std::string root = ram::test::temp_dir("hh_mismatch");
  std::string file = root + "/helpful-base/test.jsonl";
  write_file(file, hh_line("\n\nHuman: a?\n\nAssistant: x", "\n\nHuman: a?\n\nAssistant: y") +
                       hh_line("\n\nHuman: b?\n\nAssistant: x", "\n\nHuman: c?\n\nAssistant: y") +
                       hh_line("\n\nHuman: no assistant turn", "\n\nHuman: no assistant turn") +
                       "{\"chosen\": \"\\n\\nHuman: d?\\n\\nAssistant: x\"}\n" +
                       hh_line("\n\nHuman: e?\n\nAssistant: x", "\n\nHuman: e?\n\nAssistant: z"));
  std::string cfg = "  root: '" + root + "'\n  subsets: [helpful-base]\n  split: test\n";
  std::string m = error_of<ram::DataError>([&] { open("hh", cfg); });
  EXPECT_TRUE(has(m, "different prompts")) << m;
  EXPECT_TRUE(has(m, file + ":2")) << m;
  auto ds = open("hh", cfg + "  on_error: skip\n");
  ASSERT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->skipped(), 3);
  EXPECT_EQ(ds->get(0).id, "helpful-base/test:1");
  EXPECT_EQ(ds->get(1).id, "helpful-base/test:5");
  EXPECT_EQ(ds->get(1).rejected, "z");
  EXPECT_TRUE(has(ds->describe(), "3 skipped, first:")) << ds->describe();
  EXPECT_TRUE(has(ds->describe(), file + ":2")) << ds->describe();
  // The other bad records' messages, one at a time.
  write_file(file, hh_line("\n\nHuman: no assistant turn", "\n\nHuman: no assistant turn"));
  m = error_of<ram::DataError>([&] { open("hh", cfg); });
  EXPECT_TRUE(has(m, "no \"\\n\\nAssistant:\" turn")) << m;
  EXPECT_TRUE(has(m, file + ":1")) << m;
  write_file(file, "\n{\"chosen\": \"\\n\\nHuman: d?\\n\\nAssistant: x\"}\n");
  m = error_of<ram::DataError>([&] { open("hh", cfg); });
  EXPECT_TRUE(has(m, "field 'rejected' missing")) << m;
  EXPECT_TRUE(has(m, file + ":2")) << m;
}

TEST(DatasetHh, InvalidUtf8AndMalformedJsonNameTheLine) {
  std::string root = ram::test::temp_dir("hh_utf8");
  std::string file = root + "/harmless-base/train.jsonl";
  write_file(file, hh_line("\n\nHuman: ok\n\nAssistant: fine", "\n\nHuman: ok\n\nAssistant: no") +
                       hh_line("\n\nHuman: caf\xC3\n\nAssistant: x", "\n\nHuman: caf\xC3\n\nAssistant: y") +
                       "{\"chosen\": \"\\n\\nHuman: x\n");
  std::string cfg = "  root: '" + root + "'\n  subsets: [harmless-base]\n";
  std::string m = error_of<ram::DataError>([&] { open("hh", cfg); });
  EXPECT_TRUE(has(m, "invalid UTF-8 (byte 0xc3")) << m;
  EXPECT_TRUE(has(m, file + ":2")) << m;
  auto ds = open("hh", cfg + "  on_error: skip\n");
  EXPECT_EQ(ds->size(), 1);
  EXPECT_EQ(ds->skipped(), 2);
  write_file(file, "{\"chosen\": \"\\n\\nHuman: x\n");
  m = error_of<ram::DataError>([&] { open("hh", cfg); });
  EXPECT_TRUE(has(m, "malformed JSON")) << m;
  EXPECT_TRUE(has(m, file + ":1")) << m;
}

TEST(DatasetHh, MissingSplitFileListsWhatWasTried) {
  std::string root = hh_root();
  std::string m = error_of<ram::DataError>(
      [&] { open("hh", "  root: '" + root + "'\n  subsets: [helpful-base]\n  split: test\n"); });
  EXPECT_TRUE(has(m, "no 'test' file of HH subset helpful-base")) << m;
  EXPECT_TRUE(has(m, root + "/helpful-base/test.jsonl.gz")) << m;
  EXPECT_TRUE(has(m, root + "/helpful-base/test.jsonl,")) << m;
  EXPECT_TRUE(has(m, "dataset.root")) << m;
  // The default subset list is all four: the two missing ones are named, in order.
  m = error_of<ram::DataError>([&] { open("hh", "  root: '" + root + "'\n"); });
  EXPECT_TRUE(has(m, "HH subset helpful-online")) << m;
  EXPECT_TRUE(has(error_of<ram::ConfigError>([&] { open("hh", "  root: '" + root + "'\n  split: dev\n"); }),
                  "must be train or test"));
  EXPECT_TRUE(has(error_of<ram::ConfigError>([&] { open("hh", "  root: '" + root + "'\n  subset: [x]\n"); }),
                  "dataset.subset"));
}

TEST(DatasetHh, HarmlessIsThePresetOfOneSubset) {
  std::string root = hh_root();
  auto ds = open("hh_harmless", "  root: '" + root + "'\n");
  ASSERT_EQ(ds->size(), 1);
  EXPECT_EQ(ds->get(0).meta.at("subset"), "harmless-base");
  EXPECT_EQ(ds->get(0).prompt, single("How do I pick a lock?"));
  EXPECT_TRUE(has(ds->describe(), "hh_harmless: 1 examples")) << ds->describe();
  // The subset list is fixed: `subsets` is not a key of this plugin.
  std::string m = error_of<ram::ConfigError>(
      [&] { open("hh_harmless", "  root: '" + root + "'\n  subsets: [helpful-base]\n"); });
  EXPECT_TRUE(has(m, "dataset.subsets")) << m;
}

TEST(DatasetHh, AlignerFormatPutsTheRejectedResponseBeforeCorrection) {
  std::string root = hh_root();
  auto ds = open("hh", "  root: '" + root + "'\n  subsets: [helpful-base]\n  aligner_format: true\n");
  ram::Example a = ds->get(0);
  EXPECT_EQ(a.prompt, kMultiPrompt + "A car." + "\n\nCorrection: ");
  EXPECT_EQ(a.chosen, "An apple.");
  EXPECT_TRUE(has(ds->describe(), "aligner format")) << ds->describe();
}

// ------------------------------------------------------------------ tldr

TEST(DatasetTldr, SftPromptGetsTldrOnceAndLabelIsTheResponse) {
  std::string root = ram::test::temp_dir("tldr");
  write_file(root + "/train.jsonl",
             "{\"prompt\": \"SUBREDDIT: r/cats\\nTITLE: Cat\\nPOST: My cat sleeps.\\nTL;DR:\", \"label\": \" cat sleeps\"}\n"
             "{\"prompt\": \"SUBREDDIT: r/dogs\\nPOST: My dog runs.\", \"label\": \" dog runs\", \"proposal\": \" a dog\"}\n");
  auto ds = open("tldr", "  root: '" + root + "'\n");
  ASSERT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->get(0).prompt, "SUBREDDIT: r/cats\nTITLE: Cat\nPOST: My cat sleeps.\nTL;DR:");
  EXPECT_EQ(ds->get(0).chosen, " cat sleeps");
  EXPECT_EQ(ds->get(0).rejected, "");
  EXPECT_EQ(ds->get(0).id, "train:1");
  EXPECT_EQ(ds->get(1).prompt, "SUBREDDIT: r/dogs\nPOST: My dog runs." "\nTL;DR:");
  EXPECT_EQ(ds->get(1).meta.at("instruction"), "SUBREDDIT: r/dogs\nPOST: My dog runs.");
  // aligner_format needs a proposal response: from rejected_key, else a record error.
  auto al = open("tldr", "  root: '" + root + "'\n  rejected_key: proposal\n  aligner_format: true\n  on_error: skip\n");
  ASSERT_EQ(al->size(), 1);
  EXPECT_EQ(al->skipped(), 1);
  EXPECT_EQ(al->get(0).prompt, "SUBREDDIT: r/dogs\nPOST: My dog runs.\nTL;DR: a dog\n\nCorrection: ");
  std::string m = error_of<ram::DataError>([&] { open("tldr", "  root: '" + root + "'\n  aligner_format: true\n"); });
  EXPECT_TRUE(has(m, "aligner_format needs")) << m;
  EXPECT_TRUE(has(m, root + "/train.jsonl:1")) << m;
}

TEST(DatasetTldr, ComparisonsCutTheLeadingTldrFromBothResponses) {
  std::string root = ram::test::temp_dir("tldr_cmp");
  write_file(root + "/test.jsonl.gz",
             gzip("{\"prompt\": \"SUBREDDIT: r/a\\nPOST: text\", \"chosen\": \"TL;DR: good\", \"rejected\": \"TL;DR: bad\"}\n"
                  "{\"prompt\": \"SUBREDDIT: r/b\\nPOST: more\", \"chosen\": \"TL;DR: yes\"}\n"));
  std::string cfg = "  root: '" + root + "'\n  split: test\n  format: comparisons\n";
  std::string m = error_of<ram::DataError>([&] { open("tldr", cfg); });
  EXPECT_TRUE(has(m, root + "/test.jsonl.gz:2")) << m;
  EXPECT_TRUE(has(m, "field 'rejected' missing (keys: prompt, chosen)")) << m;
  auto ds = open("tldr", cfg + "  on_error: skip\n");
  ASSERT_EQ(ds->size(), 1);
  EXPECT_EQ(ds->get(0).prompt, "SUBREDDIT: r/a\nPOST: text\nTL;DR:");
  EXPECT_EQ(ds->get(0).chosen, " good");
  EXPECT_EQ(ds->get(0).rejected, " bad");
  EXPECT_EQ(ds->get(0).id, "test:1");
  EXPECT_TRUE(has(error_of<ram::ConfigError>([&] { open("tldr", "  root: '" + root + "'\n  format: pairs\n"); }),
                  "must be sft or comparisons"));
}

TEST(DatasetTldr, TestSubsampleIsSeededSortedAndOnlyForTheTestSplit) {
  std::string root = ram::test::temp_dir("tldr_sub");
  std::string lines;
  for (int i = 0; i < 40; ++i)
    lines += "{\"prompt\": \"POST: p" + std::to_string(i) + "\", \"label\": \" s" + std::to_string(i) + "\"}\n";
  write_file(root + "/test.jsonl", lines);
  write_file(root + "/train.jsonl", lines);
  auto draw = [&](int seed, const std::string& split = "test") {
    auto ds = open("tldr", "  root: '" + root + "'\n  split: " + split +
                               "\n  n_test_subsample: 7\n  subsample_seed: " + std::to_string(seed) + "\n");
    std::vector<std::string> ids;
    for (std::int64_t i = 0; i < ds->size(); ++i) ids.push_back(ds->get(i).id);
    return std::make_pair(ids, ds->fingerprint());
  };
  auto [a, fa] = draw(3);
  auto [b, fb] = draw(3);
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a, b);  // deterministic
  EXPECT_EQ(fa, fb);
  std::set<std::string> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), 7u);
  std::vector<int> lines_drawn;
  for (auto& id : a) lines_drawn.push_back(std::stoi(id.substr(id.find(':') + 1)));
  EXPECT_TRUE(std::is_sorted(lines_drawn.begin(), lines_drawn.end()));  // file order kept
  EXPECT_GE(lines_drawn.front(), 1);
  EXPECT_LE(lines_drawn.back(), 40);
  bool another_seed_differs = false;
  for (int s = 4; s < 10; ++s) {
    auto [c, fc] = draw(s);
    if (c != a) {
      another_seed_differs = true;
      EXPECT_NE(fc, fa);
    }
  }
  EXPECT_TRUE(another_seed_differs);
  // Each example's text is the one of the line its id names.
  auto ds = open("tldr", "  root: '" + root + "'\n  split: test\n  n_test_subsample: 7\n  subsample_seed: 3\n");
  for (std::int64_t i = 0; i < ds->size(); ++i) {
    ram::Example e = ds->get(i);
    EXPECT_EQ(e.index, i);
    EXPECT_EQ(e.prompt, "POST: p" + std::to_string(lines_drawn[i] - 1) + "\nTL;DR:");
    EXPECT_EQ(e.meta.at("source"), root + "/test.jsonl:" + std::to_string(lines_drawn[i]));
  }
  EXPECT_TRUE(has(ds->describe(), "7 of 40 drawn with seed 3")) << ds->describe();
  EXPECT_EQ(draw(3, "train").first.size(), 40u);  // the train split is never subsampled
  // More than there is: all of it.
  EXPECT_EQ(open("tldr", "  root: '" + root + "'\n  split: test\n  n_test_subsample: 300\n")->size(), 40);
  // max_examples applies first (the first N valid records), then the draw.
  auto capped = open("tldr", "  root: '" + root + "'\n  split: test\n  max_examples: 10\n  n_test_subsample: 4\n");
  ASSERT_EQ(capped->size(), 4);
  for (std::int64_t i = 0; i < 4; ++i)
    EXPECT_LE(std::stoi(capped->get(i).id.substr(5)), 10) << capped->get(i).id;
  EXPECT_TRUE(has(error_of<ram::ConfigError>([&] { open("tldr", "  root: '" + root + "'\n  n_test_subsample: 0\n"); }),
                  "n_test_subsample"));
}

// ------------------------------------------------------------------ ultrachat

TEST(DatasetUltraChat, JsonArrayWithSamplingIdsAndSingleTurnTemplate) {
  std::string root = ram::test::temp_dir("uc");
  write_file(root + "/train.json",
             "[\n"
             "  {\"id\": 17, \"instruction\": \"Say hi.\", \"output\": \"Hi!\", \"sampling\": \"Hello.\"},\n"
             "  {\"instruction\": \"Count to 2.\",\n   \"output\": \"1, 2\"}\n"
             "]\n");
  auto ds = open("ultrachat", "  root: '" + root + "'\n");
  ASSERT_EQ(ds->size(), 2);
  ram::Example a = ds->get(0), b = ds->get(1);
  EXPECT_EQ(a.prompt, "\n\nHuman: Say hi.\n\nAssistant: ");
  EXPECT_EQ(a.chosen, "Hi!");
  EXPECT_EQ(a.rejected, "Hello.");
  EXPECT_EQ(a.id, "17");
  EXPECT_EQ(a.meta.at("instruction"), "Say hi.");
  EXPECT_EQ(a.meta.at("source"), root + "/train.json:2");
  EXPECT_EQ(b.prompt, single("Count to 2."));
  EXPECT_EQ(b.rejected, "");
  EXPECT_EQ(b.id, "train:3");
  // The aligner format uses `sampling`; the record without one is an error at its line.
  std::string m = error_of<ram::DataError>([&] { open("ultrachat", "  root: '" + root + "'\n  aligner_format: true\n"); });
  EXPECT_TRUE(has(m, root + "/train.json:3")) << m;
  auto al = open("ultrachat", "  root: '" + root + "'\n  aligner_format: true\n  on_error: skip\n");
  ASSERT_EQ(al->size(), 1);
  EXPECT_EQ(al->get(0).prompt, "\n\nHuman: Say hi.\n\nAssistant: Hello.\n\nCorrection: ");
  EXPECT_EQ(al->get(0).chosen, "Hi!");
  // A JSONL file of the same records reads the same.
  std::string path = root + "/other.jsonl";
  write_file(path, "{\"instruction\": \"Say hi.\", \"output\": \"Hi!\", \"sampling\": 3}\n");
  m = error_of<ram::DataError>([&] { open("ultrachat", "  path: '" + path + "'\n"); });
  EXPECT_TRUE(has(m, "field 'sampling' is a number")) << m;
  EXPECT_TRUE(has(m, path + ":1")) << m;
  EXPECT_EQ(open("ultrachat", "  path: '" + path + "'\n  rejected_key: null\n")->get(0).rejected, "");
}

// ------------------------------------------------------------------ alpaca

TEST(DatasetAlpaca, InputFollowsTheInstructionAndAlpacaEvalFieldsAreKept) {
  std::string root = ram::test::temp_dir("alpaca");
  write_file(root + "/test.jsonl",
             "{\"instruction\": \"Translate.\", \"input\": \"caf\xC3\xA9\", \"output\": \"coffee\"}\n"
             "{\"instruction\": \"Say hi.\", \"input\": \"\", \"output\": \"Hi!\"}\n"
             "{\"instruction\": \"Name a colour.\", \"output\": \"Red.\", \"generator\": \"gpt4_turbo\", "
             "\"dataset\": \"helpful_base\"}\n");
  auto ds = open("alpaca", "  root: '" + root + "'\n  split: test\n");
  ASSERT_EQ(ds->size(), 3);
  EXPECT_EQ(ds->get(0).prompt, "\n\nHuman: Translate.\n\ncaf\xC3\xA9\n\nAssistant: ");
  EXPECT_EQ(ds->get(0).meta.at("instruction"), "Translate.");
  EXPECT_EQ(ds->get(0).meta.at("input"), "caf\xC3\xA9");
  EXPECT_EQ(ds->get(1).prompt, single("Say hi."));
  EXPECT_EQ(ds->get(2).prompt, single("Name a colour."));
  EXPECT_EQ(ds->get(2).chosen, "Red.");
  EXPECT_EQ(ds->get(2).meta.at("dataset"), "helpful_base");
  EXPECT_EQ(ds->get(2).meta.at("generator"), "gpt4_turbo");
  auto sep = open("alpaca", "  root: '" + root + "'\n  split: test\n  input_separator: ' | '\n");
  EXPECT_EQ(sep->get(0).prompt, single("Translate. | caf\xC3\xA9"));
  // Neither root nor path: one clear config error.
  std::string m = error_of<ram::ConfigError>([&] { open("alpaca", "  split: test\n"); });
  EXPECT_TRUE(has(m, "neither 'dataset.root' nor 'dataset.path'")) << m;
  m = error_of<ram::DataError>([&] { open("alpaca", "  root: '" + root + "'\n"); });
  EXPECT_TRUE(has(m, root + "/train.jsonl.gz")) << m;
  m = error_of<ram::DataError>([&] { open("alpaca", "  path: '" + root + "/nope.json'\n"); });
  EXPECT_TRUE(has(m, "nope.json' does not exist")) << m;
  EXPECT_TRUE(has(m, "dataset.path")) << m;
  // An empty file has no records.
  write_file(root + "/empty.json", "[]");
  m = error_of<ram::DataError>([&] { open("alpaca", "  path: '" + root + "/empty.json'\n"); });
  EXPECT_TRUE(has(m, "no valid records")) << m;
}
