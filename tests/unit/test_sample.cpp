// ram::sample: part files (names, round trip, a damaged part is a FormatError), the
// settings hash (batch_size and the output path do not change it; every sampling
// parameter, the seed, n and chunk_size do) and config validation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/compose.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "sample/parts.hpp"
#include "sample/settings.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace ram::sample;

namespace {

Rows two_rows() {
  Rows r;
  r.index = {4, 4};
  r.sample_index = {0, 1};
  r.prompt_text = {"p é", "p é"};
  r.chosen_text = {"gold", "gold"};
  r.proposal_text = {"a", ""};
  r.proposal_ids = {{1, 2, 3}, {50256}};
  r.proposal_logprob = {-1.5f, -0.25f};
  r.finish_reason = {2, 0};
  r.prompt_truncated = {0, 0};
  r.prompt_tokens = {7, 7};
  return r;
}

ram::ConfigView view_of(const std::string& yaml) {
  static std::vector<std::shared_ptr<ram::ConfigNode>> keep;
  keep.push_back(ram::config::parse_yaml(yaml, "test.yaml"));
  return ram::ConfigView(keep.back());
}

const char* kBase =
    "seed: 3\nmodel:\n  path: /m\n  dtype: f32\nsample:\n  temperature: 0.5\n  top_p: 0.95\n"
    "  top_k: 10\n  repetition_penalty: 1.05\n  stop: [\"\\n\\nHuman\"]\n  max_new_tokens: 8\n"
    "  max_length: 64\n  max_prompt_length: 32\n  n: 1\n  batch_size: 8\n  chunk_size: 16\n"
    "  out: /o/synth.h5\n  on_empty_prompt: fail\n";

std::string hash_with(const std::string& edit_key, const std::string& value) {
  std::string yaml = kBase;
  if (!edit_key.empty()) {
    auto at = yaml.find("  " + edit_key + ":");
    auto end = yaml.find('\n', at);
    yaml.replace(at, end - at, "  " + edit_key + ": " + value);
  }
  auto s = read_settings(view_of(yaml));
  return settings_hash(s, "model", "data", "tok");
}

}  // namespace

TEST(SampleParts, FileNamesRoundTrip) {
  EXPECT_EQ(part_path("/x", 123).string(), "/x/chunk-000123.h5");
  EXPECT_EQ(part_chunk("chunk-000123.h5"), 123);
  EXPECT_EQ(part_chunk("chunk-1234567.h5"), 1234567);
  EXPECT_EQ(part_chunk("chunk-000123.h5.tmp-4-5"), -1);
  EXPECT_EQ(part_chunk("chunk-12.h5"), -1);
  EXPECT_EQ(part_chunk("chunk-00012x.h5"), -1);
  EXPECT_EQ(part_chunk("other.h5"), -1);
}

TEST(SampleParts, WriteReadRoundTripAndNoTempLeft) {
  auto dir = fs::path(ram::test::temp_dir("sample_parts"));
  PartInfo info{5, 80, 96, 1, 2, "abc"};
  write_part(dir, info, two_rows());
  auto back = read_part_info(part_path(dir, 5));
  EXPECT_EQ(back.chunk, 5);
  EXPECT_EQ(back.begin, 80);
  EXPECT_EQ(back.end, 96);
  EXPECT_EQ(back.skipped_empty, 1);
  EXPECT_EQ(back.truncated_prompts, 2);
  EXPECT_EQ(back.settings_hash, "abc");
  Rows r = read_part_rows(part_path(dir, 5));
  Rows want = two_rows();
  EXPECT_EQ(r.index, want.index);
  EXPECT_EQ(r.sample_index, want.sample_index);
  EXPECT_EQ(r.prompt_text, want.prompt_text);
  EXPECT_EQ(r.proposal_text, want.proposal_text);
  EXPECT_EQ(r.proposal_ids, want.proposal_ids);
  EXPECT_EQ(r.proposal_logprob, want.proposal_logprob);
  EXPECT_EQ(r.finish_reason, want.finish_reason);
  EXPECT_EQ(r.prompt_tokens, want.prompt_tokens);
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 1);
}

TEST(SampleParts, DamagedPartIsAFormatError) {
  auto dir = fs::path(ram::test::temp_dir("sample_parts_bad"));
  write_part(dir, PartInfo{0, 0, 2, 0, 0, "h"}, two_rows());
  auto p = part_path(dir, 0);
  fs::resize_file(p, fs::file_size(p) / 2);
  EXPECT_THROW(read_part_info(p), ram::FormatError);
}

TEST(SampleSettings, HashIgnoresBatchSizeAndOutput) {
  const std::string h = hash_with("", "");
  EXPECT_EQ(hash_with("batch_size", "3"), h);
  EXPECT_EQ(hash_with("out", "/elsewhere.h5"), h);
  EXPECT_EQ(hash_with("temperature", "0.5"), h);
}

TEST(SampleSettings, HashCoversWhatDecidesTheSamples) {
  const std::string h = hash_with("", "");
  EXPECT_NE(hash_with("temperature", "0.7"), h);
  EXPECT_NE(hash_with("top_p", "0.9"), h);
  EXPECT_NE(hash_with("top_k", "5"), h);
  EXPECT_NE(hash_with("repetition_penalty", "1.0"), h);
  EXPECT_NE(hash_with("stop", "[\"\\n\\nUser\"]"), h);
  EXPECT_NE(hash_with("max_new_tokens", "9"), h);
  EXPECT_NE(hash_with("max_prompt_length", "31"), h);
  EXPECT_NE(hash_with("n", "2"), h);
  EXPECT_NE(hash_with("chunk_size", "8"), h);
  EXPECT_NE(hash_with("on_empty_prompt", "skip"), h);
  auto s = read_settings(view_of(kBase));
  EXPECT_NE(settings_hash(s, "model2", "data", "tok"), h);
  EXPECT_NE(settings_hash(s, "model", "data2", "tok"), h);
  EXPECT_NE(settings_hash(s, "model", "data", "tok2"), h);
  s.engine.sampling.seed = 4;
  EXPECT_NE(settings_hash(s, "model", "data", "tok"), h);
}

TEST(SampleSettings, BadValuesNameTheKey) {
  auto expect_error = [](const std::string& key, const std::string& value, const std::string& text) {
    std::string yaml = kBase;
    auto at = yaml.find("  " + key + ":");
    yaml.replace(at, yaml.find('\n', at) - at, "  " + key + ": " + value);
    try {
      read_settings(view_of(yaml));
      ADD_FAILURE() << key << "=" << value << " accepted";
    } catch (const ram::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  expect_error("temperature", "0", "sample.temperature must be > 0");
  expect_error("top_p", "1.5", "sample.top_p");
  expect_error("n", "0", "sample.n");
  expect_error("chunk_size", "0", "sample.chunk_size");
  expect_error("on_empty_prompt", "ignore", "expected fail or skip");
  expect_error("max_length", "32", "sample.max_length");
  expect_error("dtype", "f16", "f16");
}
