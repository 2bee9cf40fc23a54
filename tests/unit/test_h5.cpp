// ram::h5 on one rank: round trips through our Writer and Reader, atomic finalize, and
// the errors for truncated and corrupt files (library and `ram inspect`).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "h5/reader.hpp"
#include "h5/writer.hpp"
#include "ram/error.hpp"
#include "ram/version.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using ram::h5::Reader;
using ram::h5::Writer;

namespace {

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

template <class T>
void round_trip_array(const std::vector<T>& v) {
  auto dir = ram::test::temp_dir("h5-array");
  auto path = dir + "/a.h5";
  auto w = Writer::create(path, false);
  w.write_array<T>("/g/x", v);
  w.write_array<T>("/g/empty", std::vector<T>{});
  w.finalize();
  auto r = Reader::open(path);
  EXPECT_EQ(r.read_array<T>("/g/x"), v);
  EXPECT_TRUE(r.read_array<T>("g/empty").empty());
  if (v.size() >= 3) {
    EXPECT_EQ(r.read_array<T>("/g/x", 1, 3), std::vector<T>(v.begin() + 1, v.begin() + 3));
  }
}

// A file holding one of everything, finalized.
std::string write_sample(const std::string& dir) {
  auto path = dir + "/sample.h5";
  auto w = Writer::create(path, false);
  w.write_provenance("ram test sample", "seed: 3\nmodel:\n  name: tiny\n");
  w.write_array<std::int64_t>("/examples/index", {7, 3, 9});
  w.write_ragged("/examples/prompt_text", {"hello", "", "héllo wörld ✓"});
  w.write_ragged_ids("/examples/proposal_ids", {{1, 2, 3}, {}, {-4}});
  w.write_tensor("/model/w", at::arange(12, at::kFloat).reshape({3, 4}).to(at::kBFloat16));
  w.set_attr("/examples", "dataset", "demo");
  w.finalize();
  return path;
}

}  // namespace

TEST(H5, ArraysRoundTripEveryType) {
  round_trip_array<std::int64_t>({std::numeric_limits<std::int64_t>::min(), -1, 0, 42,
                                  std::numeric_limits<std::int64_t>::max()});
  round_trip_array<std::int32_t>({-7, 0, 1 << 30});
  round_trip_array<std::uint8_t>({0, 1, 255});
  round_trip_array<std::uint16_t>({0, 65535, 0x3f80});
  round_trip_array<float>({-1.5f, 0.f, 3.25f, std::numeric_limits<float>::denorm_min()});
  round_trip_array<double>({1e-300, -2.0, 3.0});
}

TEST(H5, RaggedStringsKeepEmptyItemsAndUtf8Bytes) {
  auto dir = ram::test::temp_dir("h5-ragged");
  auto path = dir + "/r.h5";
  std::vector<std::string> items = {"", "a", "", "ünïcödé ✓ 😀", std::string("nul\0byte", 8), ""};
  auto w = Writer::create(path, false);
  w.write_ragged("/t", items);
  w.write_ragged("/none", {});
  w.write_ragged_ids("/ids", {{}, {5, -1, 2147483647}, {0}});
  w.finalize();
  auto r = Reader::open(path);
  EXPECT_EQ(r.read_ragged("/t"), items);
  EXPECT_EQ(r.ragged_size("/t"), 6);
  EXPECT_EQ(r.read_ragged("/t", 3, 5), std::vector<std::string>(items.begin() + 3, items.begin() + 5));
  EXPECT_TRUE(r.read_ragged("/t", 2, 2).empty());
  EXPECT_TRUE(r.read_ragged("/none").empty());
  auto offs = r.read_array<std::int64_t>("/t_offsets");
  ASSERT_EQ(offs.size(), items.size() + 1);
  EXPECT_EQ(offs.front(), 0);
  std::int64_t total = 0;
  for (auto& s : items) total += s.size();
  EXPECT_EQ(offs.back(), total);
  EXPECT_EQ(r.read_array<std::uint8_t>("/t").size(), static_cast<size_t>(total));
  auto ids = r.read_ragged_ids("/ids");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_TRUE(ids[0].empty());
  EXPECT_EQ(ids[1], (std::vector<std::int32_t>{5, -1, 2147483647}));
  EXPECT_EQ(r.read_ragged_ids("/ids", 2, 3)[0], std::vector<std::int32_t>{0});
}

TEST(H5, TensorsKeepDtypeShapeAndBits) {
  auto dir = ram::test::temp_dir("h5-tensor");
  auto path = dir + "/t.h5";
  at::manual_seed(0);
  auto f32 = at::randn({2, 3, 4});
  auto bf16 = at::randn({5, 7}).to(at::kBFloat16);
  auto f16 = at::randn({3}).to(at::kHalf);
  auto i64 = at::arange(-5, 5, at::kLong).reshape({2, 5});
  auto scalar = at::scalar_tensor(2.5, at::kDouble);
  auto empty = at::empty({0, 4}, at::kFloat);
  auto flags = at::tensor({1, 0, 1}, at::kInt).to(at::kBool);
  auto strided = at::arange(20, at::kFloat).reshape({4, 5}).t();  // not contiguous
  auto w = Writer::create(path, false);
  w.write_tensor("/model/f32", f32);
  w.write_tensor("/model/bf16", bf16);
  w.write_tensor("/model/f16", f16);
  w.write_tensor("/model/i64", i64);
  w.write_tensor("/model/scalar", scalar);
  w.write_tensor("/model/empty", empty);
  w.write_tensor("/model/flags", flags);
  w.write_tensor("/model/strided", strided);
  w.finalize();

  auto r = Reader::open(path);
  auto same = [&](const char* name, const at::Tensor& want) {
    auto got = r.read_tensor(name);
    EXPECT_EQ(got.scalar_type(), want.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), want.sizes()) << name;
    EXPECT_TRUE(at::equal(got, want)) << name;
  };
  same("/model/f32", f32);
  same("/model/f16", f16);
  same("/model/i64", i64);
  same("/model/scalar", scalar);
  same("/model/empty", empty);
  same("/model/flags", flags);
  same("/model/strided", strided.contiguous());
  // bf16: the stored uint16 words are exactly the tensor's bits.
  auto got = r.read_tensor("/model/bf16");
  EXPECT_EQ(got.scalar_type(), at::kBFloat16);
  EXPECT_EQ(got.sizes(), bf16.sizes());
  EXPECT_EQ(std::memcmp(got.data_ptr(), bf16.data_ptr(), bf16.numel() * 2), 0);
}

TEST(H5, Bf16StoredAsUint16BitsWithDtypeAttribute) {
  auto dir = ram::test::temp_dir("h5-bf16");
  auto path = dir + "/b.h5";
  auto t = at::tensor({1.0f, -2.5f, 3.14159f, 1e-20f, 65504.f}).to(at::kBFloat16);
  auto w = Writer::create(path, false);
  w.write_tensor("/w", t);
  w.finalize();
  auto r = Reader::open(path);
  EXPECT_EQ(r.attr_string("/w", "dtype"), "bfloat16");
  auto words = r.read_array<std::uint16_t>("/w");
  ASSERT_EQ(words.size(), 5u);
  const auto* raw = reinterpret_cast<const std::uint16_t*>(t.data_ptr());
  for (size_t i = 0; i < words.size(); ++i) EXPECT_EQ(words[i], raw[i]) << i;
  auto back = r.read_tensor("/w");
  EXPECT_EQ(std::memcmp(back.data_ptr(), t.data_ptr(), 10), 0);
}

TEST(H5, AttributesAndProvenance) {
  auto dir = ram::test::temp_dir("h5-attrs");
  auto path = dir + "/p.h5";
  auto w = Writer::create(path, false);
  w.write_provenance("ram sample exp=demo", "a: 1\nb: [2, 3]\n");
  w.set_attr("/", "seed", 1234);
  w.set_attr("/", "alpha", 1e-4);
  w.set_attr("/sampling", "stop", std::vector<std::string>{"\n\nHuman", "</s>"});
  w.set_attr("/sampling", "empty_list", std::vector<std::string>{});
  w.set_attr("/sampling", "name", "top_p ✓");
  w.set_attr("/sampling", "name", "replaced");
  w.write_array<float>("/sampling/temps", {0.5f});
  w.set_attr("/sampling/temps", "unit", "kelvin");
  w.finalize();
  auto r = Reader::open(path);
  EXPECT_EQ(r.attr_string("/", "ram_version"), RAM_VERSION_STRING);
  EXPECT_FALSE(r.attr_string("/", "git_commit").empty());
  EXPECT_EQ(r.attr_string("/", "config"), "a: 1\nb: [2, 3]\n");
  EXPECT_EQ(r.attr_string("/", "command"), "ram sample exp=demo");
  EXPECT_EQ(r.attr_int("/", "world_size"), 1);
  auto created = r.attr_string("/", "created");
  ASSERT_EQ(created.size(), 20u) << created;  // 2024-05-01T12:34:56Z
  EXPECT_EQ(created[10], 'T');
  EXPECT_EQ(created.back(), 'Z');
  EXPECT_EQ(r.attr_int("/", "seed"), 1234);
  EXPECT_DOUBLE_EQ(r.attr_double("/", "alpha"), 1e-4);
  EXPECT_EQ(r.attr_strings("/sampling", "stop"), (std::vector<std::string>{"\n\nHuman", "</s>"}));
  EXPECT_TRUE(r.attr_strings("/sampling", "empty_list").empty());
  EXPECT_EQ(r.attr_string("/sampling", "name"), "replaced");
  EXPECT_EQ(r.attr_string("/sampling/temps", "unit"), "kelvin");
  EXPECT_TRUE(r.has_attr("/", "seed"));
  EXPECT_FALSE(r.has_attr("/", "nope"));
  EXPECT_THROW(r.attr_int("/", "config"), ram::FormatError);  // a string, not an int
  EXPECT_THROW(r.attr_string("/", "nope"), ram::FormatError);
}

TEST(H5, ListAndHas) {
  auto dir = ram::test::temp_dir("h5-list");
  auto path = write_sample(dir);
  auto r = Reader::open(path);
  EXPECT_EQ(r.list("/"), (std::vector<std::string>{"examples", "model"}));
  EXPECT_EQ(r.list("/examples"),
            (std::vector<std::string>{"index", "prompt_text", "prompt_text_offsets",
                                      "proposal_ids", "proposal_ids_offsets"}));
  EXPECT_TRUE(r.has("/examples/index"));
  EXPECT_TRUE(r.has("examples"));
  EXPECT_TRUE(r.is_group("examples"));
  EXPECT_FALSE(r.has("/examples/nope"));
  EXPECT_FALSE(r.has("/nope/deeper"));
  EXPECT_EQ(r.shape("/model/w"), (std::vector<std::int64_t>{3, 4}));
}

TEST(H5, FinalizeIsAtomic) {
  auto dir = ram::test::temp_dir("h5-atomic");
  auto path = dir + "/out.h5";
  {
    auto w = Writer::create(path, false);
    w.write_array<std::int32_t>("/x", {1, 2, 3});
    // Before finalize: only the temp file, in the same directory, never the final name.
    auto names = files_in(dir);
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0].rfind("out.h5.tmp-", 0), 0u) << names[0];
    EXPECT_EQ(fs::path(w.temp_path()).parent_path(), fs::path(path).parent_path());
    EXPECT_FALSE(fs::exists(path));
    w.finalize();
    EXPECT_TRUE(w.finalized());
    EXPECT_EQ(files_in(dir), std::vector<std::string>{"out.h5"});
    EXPECT_THROW(w.write_array<std::int32_t>("/y", {1}), ram::Error);
  }
  EXPECT_EQ(Reader::open(path).read_array<std::int32_t>("/x"), (std::vector<std::int32_t>{1, 2, 3}));
  // A writer dropped without finalize leaves its temp file and the old final file as is.
  std::string temp;
  {
    auto w = Writer::create(path, false);
    w.write_array<std::int32_t>("/x", {9});
    temp = w.temp_path();
  }
  EXPECT_TRUE(fs::exists(temp));
  EXPECT_EQ(Reader::open(path).read_array<std::int32_t>("/x"), (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(files_in(dir).size(), 2u);
}

TEST(H5, MissingDatasetAndWrongTypeNameFileAndPath) {
  auto dir = ram::test::temp_dir("h5-missing");
  auto path = write_sample(dir);
  auto r = Reader::open(path);
  try {
    r.read_array<std::int64_t>("/examples/nope");
    FAIL() << "no exception";
  } catch (const ram::FormatError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("/examples/nope"), std::string::npos) << m;
  }
  EXPECT_THROW(r.read_array<float>("/examples/index"), ram::FormatError);  // int64 as float
  EXPECT_THROW(r.read_array<std::int64_t>("/examples/index", 2, 5), ram::Error);
  EXPECT_THROW(r.read_array<std::uint16_t>("/model/w"), ram::FormatError);  // 2-D
  EXPECT_THROW(Reader::open(dir + "/does-not-exist.h5"), ram::FormatError);
}

TEST(H5, CorruptRaggedOffsetsAreFormatErrors) {
  auto dir = ram::test::temp_dir("h5-corrupt");
  auto path = dir + "/c.h5";
  auto w = Writer::create(path, false);
  std::string bytes = "abcdef";
  w.write_array<std::uint8_t>("/down", reinterpret_cast<const std::uint8_t*>(bytes.data()), 6);
  w.write_array<std::int64_t>("/down_offsets", {0, 4, 2, 6});  // not monotone
  w.write_array<std::uint8_t>("/short", reinterpret_cast<const std::uint8_t*>(bytes.data()), 6);
  w.write_array<std::int64_t>("/short_offsets", {0, 2, 5});  // last != data length
  w.write_array<std::uint8_t>("/first", reinterpret_cast<const std::uint8_t*>(bytes.data()), 6);
  w.write_array<std::int64_t>("/first_offsets", {1, 6});  // first != 0
  w.finalize();
  auto r = Reader::open(path);
  auto expect_corrupt = [&](const char* name, const char* word) {
    try {
      r.read_ragged(name);
      ADD_FAILURE() << name << ": no exception";
    } catch (const ram::FormatError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("corrupt ragged data"), std::string::npos) << m;
      EXPECT_NE(m.find(word), std::string::npos) << m;
      EXPECT_NE(m.find(path), std::string::npos) << m;
    }
  };
  expect_corrupt("/down", "monotone");
  expect_corrupt("/short", "last offset");
  expect_corrupt("/first", "first offset");
}

TEST(H5, TruncatedFileIsAFormatErrorNamingTheFile) {
  auto dir = ram::test::temp_dir("h5-trunc");
  auto path = write_sample(dir);
  auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
  try {
    Reader::open(path);
    FAIL() << "opened a truncated file";
  } catch (const ram::FormatError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'" + path + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("truncated"), std::string::npos) << m;
    EXPECT_FALSE(e.hint().empty());
  }
  EXPECT_THROW(ram::h5::inspect(path), ram::FormatError);
  // Not HDF5 at all.
  ram::test::write_file(dir + "/text.h5", "just text\n");
  EXPECT_THROW(Reader::open(dir + "/text.h5"), ram::FormatError);
}

TEST(H5, InspectShowsTreeRaggedCountsAndAttributes) {
  auto dir = ram::test::temp_dir("h5-inspect");
  auto path = write_sample(dir);
  std::string text = ram::h5::inspect(path);
  auto has = [&](const std::string& s) {
    EXPECT_NE(text.find(s), std::string::npos) << "missing '" << s << "' in:\n" << text;
  };
  has("/examples/");
  has("index: int64[3] (3 elements)");
  has("prompt_text: 3 items, " + std::to_string(5 + std::string("héllo wörld ✓").size()) + " bytes");
  has("proposal_ids: 3 items, 4 int32 values");
  has("w: bfloat16[3, 4] (12 elements, stored as uint16)");
  has("@command = ram test sample");
  has("@world_size = 1");
  has("@dataset = demo");
  has("@config = seed: 3 ... (");  // multi-line config cut to one line with its length
  EXPECT_EQ(text.find("prompt_text_offsets:"), std::string::npos) << text;
  std::string full = ram::h5::inspect(path, true);
  EXPECT_NE(full.find("  name: tiny"), std::string::npos) << full;
}

TEST(H5, VlenStringsRoundTrip) {
  auto dir = ram::test::temp_dir("h5-vlen");
  auto path = dir + "/v.h5";
  std::vector<std::string> items = {"a", "", "ü ✓"};
  auto w = Writer::create(path, false);
  w.write_vlen_strings("/s", items);
  w.finalize();
  EXPECT_EQ(Reader::open(path).read_vlen_strings("/s"), items);
}

TEST(H5, ReadableByH5py) {
  auto dir = ram::test::temp_dir("h5-py");
  auto path = write_sample(dir);
  std::string script =
      "import h5py, numpy as np, sys\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "d, o = f['examples/prompt_text'][:], f['examples/prompt_text_offsets'][:]\n"
      "items = [bytes(d[o[i]:o[i+1]]).decode('utf-8') for i in range(len(o) - 1)]\n"
      "assert items == ['hello', '', 'héllo wörld ✓'], items\n"
      "assert list(f['examples/index'][:]) == [7, 3, 9]\n"
      "w = f['model/w']\n"
      "assert w.attrs['dtype'] == 'bfloat16' and w.dtype == np.uint16 and w.shape == (3, 4)\n"
      "x = (w[:].astype(np.uint32) << 16).view(np.float32)\n"
      "assert (x.ravel() == np.arange(12, dtype=np.float32)).all(), x\n"
      "assert f.attrs['command'] == 'ram test sample', f.attrs['command']\n"
      "assert f.attrs['world_size'] == 1\n"
      "print('ok')\n";
  ram::test::write_file(dir + "/check.py", script);
  auto res = ram::test::run(ram::test::python() + " " + dir + "/check.py " + path);
  EXPECT_EQ(res.exit_code, 0) << res.output;
  // The same script fails on a different expectation (the oracle can fail).
  ram::test::write_file(dir + "/bad.py", script.replace(script.find("[7, 3, 9]"), 9, "[7, 3, 8]"));
  EXPECT_NE(ram::test::run(ram::test::python() + " " + dir + "/bad.py " + path).exit_code, 0);
}

TEST(H5Cli, InspectTruncatedFilePrintsOneErrorLine) {
  auto dir = ram::test::temp_dir("h5-cli");
  auto path = write_sample(dir);
  auto ok = ram::test::run(ram::test::ram_bin() + " inspect " + path);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("prompt_text: 3 items"), std::string::npos) << ok.output;
  fs::resize_file(path, fs::file_size(path) / 2);
  auto res = ram::test::run(ram::test::ram_bin() + " inspect " + path);
  EXPECT_NE(res.exit_code, 0) << res.output;
  EXPECT_LT(res.exit_code, 128) << "crashed: " << res.output;
  std::istringstream lines(res.output);
  std::string line;
  int error_lines = 0, other = 0;
  while (std::getline(lines, line)) {
    if (line.find("error") != std::string::npos) {
      ++error_lines;
      EXPECT_NE(line.find(path), std::string::npos) << line;
    } else if (!line.empty() && line.find("] info: ") == std::string::npos) {
      ++other;
    }
  }
  EXPECT_EQ(error_lines, 1) << res.output;
  EXPECT_EQ(other, 0) << res.output;
}
