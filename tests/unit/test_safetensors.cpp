// ram::safetensors: reader and writer.
// Oracles: bit-exact round trips (memcmp of the bytes) through save/save_sharded; the
// process's own /proc/self/maps for zero-copy and lifetime (the tensor's bytes lie inside
// the file's mapping, which outlives the Archive and goes with the last tensor);
// tests/python/safetensors_ref.py, written from the format description alone, which writes
// files by hand that our reader must see identically and checks the layout and values of
// the files our writer makes; hand-built corrupt files, each of which must give one
// one-line FormatError naming the file (and the tensor).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ram/error.hpp"
#include "ram/safetensors.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace st = ram::safetensors;
using json = nlohmann::json;

namespace {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& tag) : path(ram::test::temp_dir(tag)) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& f) const { return path + "/" + f; }
};

std::string bytes_of(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

// Random values plus the awkward ones (signed zero, infinities, NaN, a subnormal).
at::Tensor awkward(at::ScalarType dtype, std::vector<std::int64_t> shape, std::uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor t = at::randn(shape, at::kFloat);
  auto f = t.view(-1);
  const float special[] = {-0.0f, INFINITY, -INFINITY, NAN, 1e-40f};
  for (int i = 0; i < 5 && i < f.numel(); ++i) f[i] = special[i];
  return t.to(dtype);
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ram::FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<another exception: ") + e.what() + ">";
  }
  return "<no error>";
}

// One FormatError, one line, naming the file, the tensor (when given) and saying `what`.
void expect_format_error(const std::string& msg, const std::string& file,
                         const std::string& tensor, const std::string& what) {
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_NE(msg.find(file), std::string::npos) << "file not named: " << msg;
  if (!tensor.empty())
    EXPECT_NE(msg.find("tensor '" + tensor + "'"), std::string::npos)
        << "tensor not named: " << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << "expected '" << what << "' in: " << msg;
}

// A file built by hand: u64 length, the header text as given, then `data`.
void write_raw(const std::string& path, std::uint64_t n, const std::string& header,
               const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header << data;
}
void write_raw(const std::string& path, const json& header, const std::string& data) {
  std::string h = header.dump();
  write_raw(path, h.size(), h, data);
}

// [start, end) of the mapping of `file` in this process holding `p`, or {0, 0}.
std::pair<std::uintptr_t, std::uintptr_t> mapping_of(const std::string& file, const void* p) {
  std::string canon = fs::weakly_canonical(file).string();
  std::ifstream maps("/proc/self/maps");
  std::string line;
  auto addr = reinterpret_cast<std::uintptr_t>(p);
  while (std::getline(maps, line)) {
    if (line.size() < canon.size() || line.compare(line.size() - canon.size(), canon.size(), canon))
      continue;
    std::uintptr_t lo = 0, hi = 0;
    std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi);
    if (addr >= lo && addr < hi) return {lo, hi};
  }
  return {0, 0};
}

bool mapped(const std::string& file) {
  std::string canon = fs::weakly_canonical(file).string();
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.size() >= canon.size() &&
        line.compare(line.size() - canon.size(), canon.size(), canon) == 0)
      return true;
  return false;
}

void expect_same(const st::Archive& a, const st::NamedTensors& want) {
  ASSERT_EQ(a.names().size(), want.size());
  for (const auto& [name, t] : want) {
    ASSERT_TRUE(a.contains(name)) << name;
    at::Tensor got = a.get(name);
    EXPECT_EQ(got.scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), t.sizes()) << name;
    EXPECT_EQ(bytes_of(got), bytes_of(t)) << name << " differs bit-wise";
  }
}

st::NamedTensors float_set(at::ScalarType dtype) {
  return {{"model.embed.weight", awkward(dtype, {37, 8}, 1)},
          {"model.layers.0.w", awkward(dtype, {5, 3, 2}, 2)},
          {"model.layers.0.bias", awkward(dtype, {3}, 3)},
          {"lm_head.weight", awkward(dtype, {37, 8}, 4)},
          {"scalar", awkward(dtype, {}, 5)}};
}

const at::ScalarType kFloatTypes[] = {at::kFloat, at::kHalf, at::kBFloat16};

}  // namespace

TEST(Safetensors, RoundTripSingleBitExact) {
  TempDir d("st-single");
  for (auto dtype : kFloatTypes) {
    auto tensors = float_set(dtype);
    std::string file = d / (std::string(c10::toString(dtype)) + ".safetensors");
    std::map<std::string, std::string> meta{{"format", "pt"}, {"dtype", c10::toString(dtype)}};
    st::save(file, tensors, meta);
    auto a = st::Archive::open(file);
    expect_same(a, tensors);
    EXPECT_EQ(a.metadata(), meta);
    EXPECT_EQ(a.names(), (std::vector<std::string>{"lm_head.weight", "model.embed.weight",
                                                  "model.layers.0.bias", "model.layers.0.w",
                                                  "scalar"}));
    EXPECT_EQ(a.info("model.layers.0.w").shape, (std::vector<std::int64_t>{5, 3, 2}));
    EXPECT_EQ(a.info("model.layers.0.w").file, fs::path(file));
  }
  for (const auto& e : fs::directory_iterator(d.path))  // no temporary left behind
    EXPECT_EQ(e.path().filename().string().rfind(".", 0), std::string::npos) << e.path();
}

TEST(Safetensors, RoundTripEveryDtypeAndNonContiguousInput) {
  TempDir d("st-dtypes");
  at::manual_seed(9);
  at::Tensor base = at::randn({6, 4});
  st::NamedTensors tensors{
      {"f64", base.to(at::kDouble)},
      {"i64", at::randint(-(1LL << 40), 1LL << 40, {5}, at::kLong)},
      {"i32", at::randint(-100000, 100000, {2, 3}, at::kInt)},
      {"i16", at::randint(-30000, 30000, {7}, at::kShort)},
      {"i8", at::randint(-128, 127, {3}, at::kChar)},
      {"u8", at::randint(0, 255, {9}, at::kByte)},
      {"bool", at::randint(0, 2, {4}, at::kLong).to(at::kBool)},
      {"transposed", base.t()},  // written contiguous
      {"empty", at::empty({0, 4}, at::kFloat)}};
  st::save(d / "all.safetensors", tensors);
  auto a = st::Archive::open(d / "all.safetensors");
  expect_same(a, tensors);
  EXPECT_TRUE(a.metadata().empty());
  EXPECT_TRUE(a.get("transposed").equal(base.t()));
}

TEST(Safetensors, RoundTripShardedBitExact) {
  for (auto dtype : kFloatTypes) {
    TempDir d("st-sharded");
    auto tensors = float_set(dtype);
    std::map<std::string, std::string> meta{{"format", "pt"}};
    // 37*8 elements is the largest tensor: a shard of 300 elements' bytes holds at most one
    // of the big ones.
    std::uint64_t max_bytes = 300 * at::elementSize(dtype);
    st::save_sharded(d.path, tensors, max_bytes, meta);
    EXPECT_TRUE(fs::exists(d / "model.safetensors.index.json"));
    EXPECT_FALSE(fs::exists(d / "model.safetensors"));
    EXPECT_TRUE(fs::exists(d / "model-00001-of-00003.safetensors"));
    EXPECT_TRUE(fs::exists(d / "model-00003-of-00003.safetensors"));
    auto index = json::parse(ram::test::read_file(d / "model.safetensors.index.json"));
    std::uint64_t total = 0;
    for (const auto& kv : tensors) total += kv.second.nbytes();
    EXPECT_EQ(index["metadata"]["total_size"].get<std::uint64_t>(), total);
    EXPECT_EQ(index["weight_map"]["model.embed.weight"], "model-00001-of-00003.safetensors");
    EXPECT_EQ(index["weight_map"]["lm_head.weight"], "model-00003-of-00003.safetensors");
    for (const std::string& p : {d.path, d / "model.safetensors.index.json"}) {
      auto a = st::Archive::open(p);
      expect_same(a, tensors);
      EXPECT_EQ(a.metadata(), meta);
      EXPECT_EQ(a.info("lm_head.weight").file.filename(), "model-00003-of-00003.safetensors");
    }
    // Saving again as one shard replaces the sharded layout.
    st::save_sharded(d.path, tensors, 1ULL << 30, meta);
    EXPECT_TRUE(fs::exists(d / "model.safetensors"));
    EXPECT_FALSE(fs::exists(d / "model.safetensors.index.json"));
    EXPECT_FALSE(fs::exists(d / "model-00001-of-00003.safetensors"));
    expect_same(st::Archive::open(d.path), tensors);
  }
}

TEST(Safetensors, ZeroCopyViewsTheMapping) {
  TempDir d("st-zerocopy");
  std::string file = d / "z.safetensors";
  at::manual_seed(3);
  st::NamedTensors tensors{{"a", at::randn({100})}, {"b", at::randn({8, 8})}};
  st::save(file, tensors);
  std::uint64_t n = 0;
  std::ifstream(file, std::ios::binary).read(reinterpret_cast<char*>(&n), 8);
  auto a = st::Archive::open(file);
  for (const auto& [name, t] : tensors) {
    at::Tensor got = a.get(name);
    auto [lo, hi] = mapping_of(file, got.data_ptr());
    ASSERT_NE(lo, 0u) << name << " is not inside the mapping of " << file;
    // The mapping starts at file offset 0, so the view sits at 8 + N + begin.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(got.data_ptr()) - lo, 8 + n + a.info(name).begin);
    EXPECT_EQ(a.get(name).data_ptr(), got.data_ptr());  // the same bytes, not a copy
  }
}

TEST(Safetensors, UnalignedDataIsCopied) {
  TempDir d("st-unaligned");
  std::string file = d / "u.safetensors";
  // A 3-byte U8 first: the F32 after it starts at an odd offset.
  st::NamedTensors tensors{{"bytes", at::arange(3, at::kLong).to(at::kByte)},
                           {"f", at::randn({5})}, {"h", at::randn({3}).to(at::kHalf)}};
  st::save(file, tensors);
  auto a = st::Archive::open(file);
  expect_same(a, tensors);
  at::Tensor f = a.get("f");
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.data_ptr()) % 4, 0u);
  EXPECT_EQ(mapping_of(file, f.data_ptr()).first, 0u) << "an unaligned tensor must be a copy";
}

TEST(Safetensors, TensorOutlivesArchive) {
  TempDir d("st-lifetime");
  std::string file = d / "l.safetensors";
  at::Tensor want = at::randn({64, 64});
  st::save(file, {{"w", want}});
  at::Tensor kept;
  {
    auto a = st::Archive::open(file);
    kept = a.get("w");
    EXPECT_TRUE(mapped(file));
  }
  EXPECT_TRUE(mapped(file)) << "the mapping must live while a tensor does";
  fs::remove(file);  // even the name going away does not matter to a mapping
  EXPECT_TRUE(kept.equal(want));
  EXPECT_NE(mapping_of(file + " (deleted)", kept.data_ptr()).first, 0u);
  kept = at::Tensor();
  std::ifstream maps("/proc/self/maps");
  std::stringstream all;
  all << maps.rdbuf();
  EXPECT_EQ(all.str().find(fs::path(file).filename().string()), std::string::npos)
      << "the mapping must go with the last tensor";
}

// --- validation: each corrupt file gives one FormatError naming the file (and tensor) ---

TEST(SafetensorsInvalid, HeaderLengthHuge) {
  TempDir d("st-bad");
  std::string f = d / "huge.safetensors";
  write_raw(f, 1ULL << 40, "{}", "");
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "", "exceeds the 100 MB limit");
}

TEST(SafetensorsInvalid, HeaderLengthPastEndOfFile) {
  TempDir d("st-bad");
  std::string f = d / "short.safetensors";
  write_raw(f, 1000, "{\"a\": 1}", "");
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "",
                      "runs past the end of the file");
  std::string tiny = d / "tiny.safetensors";
  ram::test::write_file(tiny, "abc");
  expect_format_error(error_of([&] { st::Archive::open(tiny); }), tiny, "",
                      "shorter than the 8-byte header length");
}

TEST(SafetensorsInvalid, BadJson) {
  TempDir d("st-bad");
  std::string f = d / "json.safetensors";
  std::string h = "{\"a\": {\"dtype\": \"F32\",\n \"shape\": [1] ";
  write_raw(f, h.size(), h, "");
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "", "header is not valid JSON");
  write_raw(f, json::array({1, 2}), "");
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "", "not an object");
  write_raw(f, {{"a", {{"dtype", "F32"}, {"shape", {1}}}}}, "abcd");
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "a", "lacks 'data_offsets'");
  write_raw(f, {{"a", {{"dtype", "F32"}, {"shape", {-1}}, {"data_offsets", {0, 4}}}}}, "abcd");
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "a", "not a non-negative");
}

TEST(SafetensorsInvalid, UnknownDtype) {
  TempDir d("st-bad");
  std::string f = d / "dtype.safetensors";
  write_raw(f, {{"w", {{"dtype", "F33"}, {"shape", {1}}, {"data_offsets", {0, 4}}}}}, "abcd");
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "w", "dtype 'F33'");
}

TEST(SafetensorsInvalid, OffsetsOutsideDataArea) {
  TempDir d("st-bad");
  std::string f = d / "outside.safetensors";
  write_raw(f,
            {{"ok", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}},
             {"far", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {100, 108}}}}},
            std::string(8, '\0'));
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "far",
                      "run past the end of the data area");
  write_raw(f, {{"rev", {{"dtype", "U8"}, {"shape", {0}}, {"data_offsets", {4, 0}}}}},
            std::string(8, '\0'));
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "rev", "end before they begin");
}

TEST(SafetensorsInvalid, WrongByteLength) {
  TempDir d("st-bad");
  std::string f = d / "length.safetensors";
  write_raw(f, {{"w", {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {0, 12}}}}},
            std::string(16, '\0'));
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "w",
                      "span 12 bytes but dtype F32 and the shape need 16");
}

TEST(SafetensorsInvalid, Overlap) {
  TempDir d("st-bad");
  std::string f = d / "overlap.safetensors";
  write_raw(f,
            {{"first", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}},
             {"second", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {4, 12}}}}},
            std::string(12, '\0'));
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, "second",
                      "overlap those of tensor 'first'");
}

TEST(SafetensorsInvalid, TruncatedNamesFirstTensorCut) {
  TempDir d("st-bad");
  std::string f = d / "trunc.safetensors";
  st::NamedTensors tensors;
  for (int i = 0; i < 6; ++i) tensors.push_back({"t" + std::to_string(i), at::randn({100})});
  st::save(f, tensors);
  auto size = fs::file_size(f);
  std::uint64_t n = 0;
  std::ifstream(f, std::ios::binary).read(reinterpret_cast<char*>(&n), 8);
  std::string first_cut;  // independent of the reader: from the order we wrote them in
  for (int i = 0; i < 6 && first_cut.empty(); ++i)
    if (8 + n + (i + 1) * 400ULL > size / 2) first_cut = "t" + std::to_string(i);
  fs::resize_file(f, size / 2);
  expect_format_error(error_of([&] { st::Archive::open(f); }), f, first_cut,
                      "run past the end of the data area");
}

TEST(SafetensorsInvalid, IndexNamesMissingShardOrTensor) {
  TempDir d("st-bad");
  st::NamedTensors tensors{{"a", at::randn({50})}, {"b", at::randn({50})}, {"c", at::randn({50})}};
  st::save_sharded(d.path, tensors, 200);
  std::string index = d / "model.safetensors.index.json";
  json j = json::parse(ram::test::read_file(index));
  ASSERT_EQ(j["weight_map"].size(), 3u);

  json missing_file = j;
  missing_file["weight_map"]["b"] = "model-00009-of-00009.safetensors";
  ram::test::write_file(index, missing_file.dump());
  expect_format_error(error_of([&] { st::Archive::open(d.path); }), index, "b",
                      "names shard 'model-00009-of-00009.safetensors', which does not exist");

  json missing_tensor = j;
  missing_tensor["weight_map"]["ghost"] = "model-00002-of-00003.safetensors";
  ram::test::write_file(index, missing_tensor.dump());
  expect_format_error(error_of([&] { st::Archive::open(index); }), index, "ghost",
                      "does not hold it");

  ram::test::write_file(index, "{\"weight_map\": ");
  expect_format_error(error_of([&] { st::Archive::open(index); }), index, "",
                      "index is not valid JSON");
  ram::test::write_file(index, "{\"metadata\": {}}");
  expect_format_error(error_of([&] { st::Archive::open(index); }), index, "",
                      "no \"weight_map\"");
}

TEST(SafetensorsInvalid, AbsentTensorAndMissingPaths) {
  TempDir d("st-bad");
  std::string f = d / "x.safetensors";
  st::save(f, {{"x", at::ones({2})}});
  auto a = st::Archive::open(f);
  expect_format_error(error_of([&] { a.get("y"); }), f, "y", "no tensor of that name");
  expect_format_error(error_of([&] { st::Archive::open(d / "nope.safetensors"); }),
                      d / "nope.safetensors", "", "cannot open");
  fs::create_directories(d / "empty");
  expect_format_error(error_of([&] { st::Archive::open(d / "empty"); }), d / "empty", "",
                      "holds neither");
}

TEST(SafetensorsInvalid, WriterRejectsBadInput) {
  TempDir d("st-bad");
  std::string f = d / "w.safetensors";
  expect_format_error(error_of([&] { st::save(f, {{"a", at::ones({1})}, {"a", at::ones({1})}}); }),
                      f, "a", "appears twice");
  expect_format_error(error_of([&] { st::save(f, {{"c", at::ones({1}, at::kComplexFloat)}}); }),
                      f, "c", "cannot be written");
  expect_format_error(error_of([&] { st::save(f, {{"__metadata__", at::ones({1})}}); }), f,
                      "__metadata__", "reserved");
  EXPECT_FALSE(fs::exists(f));
}

// --- the independent Python reference ---

namespace {

std::string reference() {
  return ram::test::python() + " " + ram::test::source_dir() + "/tests/python/safetensors_ref.py";
}

// What our reader sees in `file`, in the form safetensors_ref.py check-read expects.
json dump(const st::Archive& a) {
  json out = {{"metadata", a.metadata()}, {"tensors", json::object()}};
  for (const auto& name : a.names()) {
    at::Tensor t = a.get(name);
    std::string raw = bytes_of(t), hex;
    char buf[3];
    for (unsigned char c : raw) {
      std::snprintf(buf, sizeof buf, "%02x", c);
      hex += buf;
    }
    json values = json::array();
    at::Tensor v = t.to(at::kDouble).contiguous();
    for (std::int64_t i = 0; i < v.numel(); ++i) {
      double x = v.data_ptr<double>()[i];
      if (std::isnan(x))
        values.push_back("nan");
      else if (std::isinf(x))
        values.push_back(x > 0 ? "inf" : "-inf");
      else
        values.push_back(x);
    }
    out["tensors"][name] = {{"torch_dtype", c10::toString(t.scalar_type())},
                            {"shape", t.sizes().vec()},
                            {"hex", hex},
                            {"values", values}};
  }
  return out;
}

// Mirrors SPEC in safetensors_ref.py: names, dtypes, shapes, in this order; values by formula.
st::NamedTensors spec_tensors() {
  struct S {
    const char* name;
    at::ScalarType dtype;
    std::vector<std::int64_t> shape;
  };
  const S spec[] = {{"zz.first", at::kFloat, {4}},   {"w.f32", at::kFloat, {3, 5}},
                    {"w.f16", at::kHalf, {7}},       {"w.bf16", at::kBFloat16, {2, 3}},
                    {"w.f64", at::kDouble, {2}},     {"w.i64", at::kLong, {4}},
                    {"w.i32", at::kInt, {3}},        {"w.i16", at::kShort, {3}},
                    {"w.i8", at::kChar, {5}},        {"w.u8", at::kByte, {2, 2}},
                    {"w.bool", at::kBool, {3}},      {"w.scalar", at::kFloat, {}},
                    {"w.empty", at::kHalf, {0}},     {"a.last", at::kBFloat16, {1, 3}}};
  st::NamedTensors out;
  for (const auto& s : spec) {
    std::int64_t n = 1;
    for (auto d : s.shape) n *= d;
    at::Tensor k = at::arange(n, at::kLong);
    at::Tensor v;
    if (at::isFloatingType(s.dtype))
      v = (k.to(at::kDouble) * 0.37 - 3.0).to(s.dtype);
    else if (s.dtype == at::kByte)
      v = (k * 7).to(s.dtype);
    else if (s.dtype == at::kBool)
      v = (k % 2 == 1);
    else
      v = (k * 7 - 5).to(s.dtype);
    out.push_back({s.name, v.reshape(s.shape)});
  }
  return out;
}

}  // namespace

TEST(SafetensorsPython, ReadsHandWrittenFiles) {
  TempDir d("st-py-read");
  auto w = ram::test::run(reference() + " write " + d.path);
  ASSERT_EQ(w.exit_code, 0) << w.output;
  for (const char* name : {"hand_padded", "hand_unpadded"}) {
    std::string file = d / (std::string(name) + ".safetensors");
    std::string out = d / (std::string(name) + ".ours.json");
    ram::test::write_file(out, dump(st::Archive::open(file)).dump());
    auto r = ram::test::run(reference() + " check-read " + file + " " + out);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_NE(r.output.find("OK"), std::string::npos) << r.output;
    // The padded file's tensors are all aligned (viewed in place), the unpadded one's are
    // not (copied).
    auto a = st::Archive::open(file);
    bool padded = std::string(name) == "hand_padded";
    for (const char* t : {"m.matrix", "e.f64", "c.f16"})
      EXPECT_EQ(mapping_of(file, a.get(t).data_ptr()).first != 0, padded) << name << " " << t;
  }
  // The reference must notice a reader that got one bit wrong.
  std::string out = d / "wrong.json";
  json j = dump(st::Archive::open(d / "hand_padded.safetensors"));
  std::string& hex = j["tensors"]["m.matrix"]["hex"].get_ref<std::string&>();
  hex[0] = hex[0] == '0' ? '1' : '0';
  ram::test::write_file(out, j.dump());
  EXPECT_NE(ram::test::run(reference() + " check-read x " + out).exit_code, 0);
}

TEST(SafetensorsPython, ChecksWhatWeWrite) {
  TempDir d("st-py-write");
  std::string file = d / "ours.safetensors";
  st::save(file, spec_tensors(), {{"format", "pt"}, {"who", "ram"}});
  auto r = ram::test::run(reference() + " check-written " + file);
  EXPECT_EQ(r.exit_code, 0) << r.output;

  std::string sharded = d / "sharded";
  st::save_sharded(sharded, spec_tensors(), 40, {{"format", "pt"}, {"who", "ram"}});
  r = ram::test::run(reference() + " check-sharded " + sharded + " 40");
  EXPECT_EQ(r.exit_code, 0) << r.output;

  // And must reject a file with one byte changed in the last tensor's data.
  auto size = fs::file_size(file);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 1));
    f.put('\x55');
  }
  EXPECT_NE(ram::test::run(reference() + " check-written " + file).exit_code, 0);
}
