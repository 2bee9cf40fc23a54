// ram::h5 on several ranks: every rank writes a different number of items into ONE file
// (collective hyperslabs); h5py (Debian python3-h5py, not our reader) must read back what
// the ranks meant to write, and so must our Reader. The verdict is shared by all ranks.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/dist.hpp"
#include "h5/reader.hpp"
#include "h5/writer.hpp"
#include "ram/error.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace dist = ram::dist;
using ram::h5::Reader;
using ram::h5::Writer;

namespace {

// What rank r contributes: uneven counts, empty items, multi-byte UTF-8.
int n_prompts(int r) { return 3 + 2 * r; }
int n_chosen(int r) { return r % 2 == 1 ? 0 : 4; }  // rank 1 writes nothing here
std::string prompt(int r, int i) {
  if (i % 3 == 1) return "";
  return "r" + std::to_string(r) + " item " + std::to_string(i) + " — ünï ✓" +
         std::string(static_cast<size_t>(i), 'x');
}
std::string chosen(int r, int i) { return "chosen " + std::to_string(r * 100 + i); }
std::vector<std::int32_t> ids(int r, int i) {
  std::vector<std::int32_t> v;
  for (int k = 0; k < (i + r) % 4; ++k) v.push_back(r * 1000 + i * 10 + k - 5);
  return v;
}

template <class F>
auto local(int r, int n, F f) {
  std::vector<decltype(f(r, 0))> v;
  for (int i = 0; i < n; ++i) v.push_back(f(r, i));
  return v;
}
template <class F>
auto global(int (*count)(int), F f) {
  std::vector<decltype(f(0, 0))> v;
  for (int r = 0; r < dist::size(); ++r)
    for (int i = 0; i < count(r); ++i) v.push_back(f(r, i));
  return v;
}

std::int64_t index_of(int r, int i) { return 10 * r + i; }
float logprob_of(int r, int i) { return -0.25f * static_cast<float>(r * 10 + i); }

at::Tensor rank_tensor(int r) {  // rank 0's must win; others pass the same shape
  return (at::arange(6, at::kFloat).reshape({2, 3}) * 1.5f - r * 100.f).to(at::kBFloat16);
}

nlohmann::json expected_json(const std::string& command) {
  using nlohmann::json;
  json e;
  e["ragged"]["/examples/prompt_text"] = global(n_prompts, prompt);
  e["ragged"]["/examples/chosen_text"] = global(n_chosen, chosen);
  e["ragged_ids"]["/examples/proposal_ids"] = global(n_prompts, ids);
  e["arrays"]["/examples/index"] = {{"dtype", "int64"}, {"values", global(n_prompts, index_of)}};
  std::vector<double> lp;
  for (float x : global(n_prompts, logprob_of)) lp.push_back(x);
  e["arrays"]["/examples/proposal_logprob"] = {{"dtype", "float32"}, {"values", lp}};
  e["arrays"]["/examples/none"] = {{"dtype", "uint8"}, {"values", json::array()}};
  at::Tensor t = rank_tensor(0);
  const auto* bits = reinterpret_cast<const std::uint16_t*>(t.data_ptr());
  e["tensors"]["/model/w"] = {{"dtype", "bfloat16"},
                              {"shape", {2, 3}},
                              {"bits", std::vector<std::uint16_t>(bits, bits + 6)}};
  e["attrs"]["/"] = {{"world_size", dist::size()}, {"command", command}};
  e["attrs"]["/examples"] = {{"dataset", "demo"},
                             {"stop", {"\n\nHuman", "</s>"}},
                             {"seed", 1234}};
  return e;
}

void write_all(Writer& w, const std::string& command) {
  int r = dist::rank();
  w.write_provenance(command, "seed: 1234\n");
  w.write_ragged("/examples/prompt_text", local(r, n_prompts(r), prompt));
  w.write_ragged("/examples/chosen_text", local(r, n_chosen(r), chosen));
  w.write_ragged_ids("/examples/proposal_ids", local(r, n_prompts(r), ids));
  w.write_array<std::int64_t>("/examples/index", local(r, n_prompts(r), index_of));
  w.write_array<float>("/examples/proposal_logprob", local(r, n_prompts(r), logprob_of));
  w.write_array<std::uint8_t>("/examples/none", std::vector<std::uint8_t>{});
  w.write_tensor("/model/w", rank_tensor(r));
  // Rank 0's attribute values are written; the others' differ on purpose.
  w.set_attr("/examples", "dataset", r == 0 ? "demo" : "not-rank-0");
  w.set_attr("/examples", "stop", std::vector<std::string>{"\n\nHuman", "</s>"});
  w.set_attr("/examples", "seed", r == 0 ? 1234 : 99);
}

// Rank 0 runs the h5py checker; every rank gets the exit code.
int run_checker(const std::string& file, const std::string& json_path) {
  std::int64_t code = 0;
  if (dist::rank() == 0) {
    auto res = ram::test::run(ram::test::python() + " " + ram::test::source_dir() +
                              "/tests/python/check_h5_parallel.py " + file + " " + json_path);
    std::printf("%s", res.output.c_str());
    code = res.exit_code;
  }
  return static_cast<int>(dist::all_reduce(code, dist::ReduceOp::max));
}

}  // namespace

TEST(H5Parallel, H5ReadableByH5py) {
  ASSERT_GE(dist::size(), 2) << "run under mpirun -np 2";
  auto dir = ram::test::temp_dir("h5-parallel");
  auto path = dir + "/synth.h5";
  const std::string command = "ram sample test";
  {
    auto w = Writer::create(path, true);
    EXPECT_TRUE(w.parallel());
    write_all(w, command);
    dist::barrier();
    std::int64_t wrong = dist::rank() == 0 && (fs::exists(path) || !fs::exists(w.temp_path()));
    EXPECT_EQ(dist::all_reduce(wrong, dist::ReduceOp::max), 0) << "final name before finalize";
    w.finalize();
  }
  // After finalize, on every rank: the final name, no temp file left.
  std::int64_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += e.path().filename() == "synth.h5" ? 0 : 1;
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(entries, 0);
  dist::barrier();  // every rank has looked before rank 0 adds the JSON files

  auto exp = expected_json(command);
  std::string good = dir + "/expected.json", bad = dir + "/broken.json";
  if (dist::rank() == 0) {
    ram::test::write_file(good, exp.dump(1));
    auto broken = exp;  // one byte different in rank 1's part: the checker must fail
    broken["ragged"]["/examples/prompt_text"][4] = "r1 item 1 — tampered";
    ram::test::write_file(bad, broken.dump(1));
  }
  dist::barrier();
  EXPECT_EQ(run_checker(path, good), 0) << "h5py disagrees with what the ranks wrote";
  EXPECT_NE(run_checker(path, bad), 0) << "the h5py checker accepted a wrong expectation";

  // Our Reader, on every rank, agrees too.
  auto r = Reader::open(path);
  EXPECT_EQ(r.read_ragged("/examples/prompt_text"), global(n_prompts, prompt));
  EXPECT_EQ(r.read_ragged("/examples/chosen_text"), global(n_chosen, chosen));
  EXPECT_EQ(r.read_ragged_ids("/examples/proposal_ids"), global(n_prompts, ids));
  EXPECT_EQ(r.read_array<std::int64_t>("/examples/index"), global(n_prompts, index_of));
  EXPECT_EQ(r.read_array<float>("/examples/proposal_logprob"), global(n_prompts, logprob_of));
  EXPECT_TRUE(r.read_array<std::uint8_t>("/examples/none").empty());
  auto t = r.read_tensor("/model/w");
  EXPECT_EQ(t.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(t, rank_tensor(0)));
  EXPECT_EQ(r.attr_int("/", "world_size"), dist::size());
  EXPECT_EQ(r.attr_string("/examples", "dataset"), "demo");
  EXPECT_EQ(r.attr_int("/examples", "seed"), 1234);
  // A range that spans the rank boundary reads as one list.
  int n0 = n_prompts(0);
  auto mid = r.read_ragged("/examples/prompt_text", n0 - 1, n0 + 1);
  EXPECT_EQ(mid, (std::vector<std::string>{prompt(0, n0 - 1), prompt(1, 0)}));
}

TEST(H5Parallel, DroppedWriterLeavesOnlyItsTempFile) {
  auto dir = ram::test::temp_dir("h5-parallel-drop");
  auto path = dir + "/out.h5";
  std::string temp;
  {
    auto w = Writer::create(path, true);
    w.write_array<std::int32_t>("/x", std::vector<std::int32_t>(dist::rank() + 1, 7));
    temp = w.temp_path();
  }  // every rank drops it: collective close, no rename
  dist::barrier();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::exists(temp));
  // The temp file is complete HDF5 (closed), just not published.
  EXPECT_EQ(Reader::open(temp).read_array<std::int32_t>("/x").size(),
            static_cast<size_t>(dist::size() * (dist::size() + 1) / 2));
}
