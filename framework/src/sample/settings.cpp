#include "sample/settings.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/hf_dir.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ram::sample {

namespace fs = std::filesystem;

namespace {

void require(bool ok, const ConfigView& v, const std::string& key, const std::string& what) {
  if (!ok) throw ConfigError(v.dotted(key) + " " + what, v.where(key).str(), "fix the value in the config or on the command line");
}

std::string read_bytes(const fs::path& p, std::uint64_t offset, std::uint64_t n) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw FormatError("cannot read " + p.string(), p.string(), "check the model directory");
  f.seekg(static_cast<std::streamoff>(offset));
  std::string s(n, '\0');
  f.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<std::size_t>(f.gcount()));
  return s;
}

}  // namespace

Settings read_settings(const ConfigView& root) {
  Settings s;
  ConfigView m = root.child("model");
  s.model_path = m.get<std::string>("path");
  s.dtype = model::check_dtype(m.get<std::string>("dtype", std::string("f32")), m.dotted("dtype"));

  ConfigView c = root.child("sample");
  auto& sp = s.engine.sampling;
  auto& st = s.engine.stop;
  sp.seed = static_cast<std::uint64_t>(root.get<std::int64_t>("seed", 0));
  sp.temperature = c.get<double>("temperature", sp.temperature);
  require(sp.temperature > 0, c, "temperature", "must be > 0");
  sp.top_p = c.get<double>("top_p", sp.top_p);
  require(sp.top_p > 0 && sp.top_p <= 1, c, "top_p", "must lie in (0, 1]");
  sp.top_k = c.get<std::int64_t>("top_k", sp.top_k);
  sp.repetition_penalty = c.get<double>("repetition_penalty", sp.repetition_penalty);
  require(sp.repetition_penalty > 0, c, "repetition_penalty", "must be > 0");
  sp.order = c.get<std::vector<std::string>>("order", sp.order);
  st.stop_strings = c.get<std::vector<std::string>>("stop", {});
  for (const auto& x : st.stop_strings) require(!x.empty(), c, "stop", "holds an empty string");
  st.max_new_tokens = c.get<std::int64_t>("max_new_tokens", st.max_new_tokens);
  require(st.max_new_tokens >= 1, c, "max_new_tokens", "must be ≥ 1");
  st.max_length = c.get<std::int64_t>("max_length", st.max_length);
  st.max_prompt_length = c.get<std::int64_t>("max_prompt_length", st.max_prompt_length);
  require(st.max_prompt_length >= 1, c, "max_prompt_length", "must be ≥ 1");
  require(st.max_length > st.max_prompt_length, c, "max_length",
          fmt::format("({}) must exceed sample.max_prompt_length ({}) to leave room for new tokens",
                      st.max_length, st.max_prompt_length));
  s.engine.batch_size = c.get<std::int64_t>("batch_size", s.engine.batch_size);
  require(s.engine.batch_size >= 1, c, "batch_size", "must be ≥ 1");
  s.engine.refill_min_free = c.get<std::int64_t>("refill_min_free", s.engine.refill_min_free);
  require(s.engine.refill_min_free >= 1, c, "refill_min_free", "must be ≥ 1");
  s.n = c.get<std::int64_t>("n", 1);
  require(s.n >= 1, c, "n", "must be ≥ 1");
  s.chunk_size = c.get<std::int64_t>("chunk_size", 64);
  require(s.chunk_size >= 1, c, "chunk_size", "must be ≥ 1");
  s.out = c.get<std::string>("out");
  require(!s.out.empty(), c, "out", "is empty");
  std::string on_empty = c.get<std::string>("on_empty_prompt", std::string("fail"));
  require(on_empty == "fail" || on_empty == "skip", c, "on_empty_prompt",
          "is '" + on_empty + "'; expected fail or skip");
  s.on_empty = on_empty == "skip" ? OnEmpty::skip : OnEmpty::fail;
  s.tokenizer_dir = c.get<std::string>("tokenizer", std::string());
  return s;
}

std::string model_hash(const fs::path& dir) {
  std::string acc = "config.json\n" + read_bytes(dir / "config.json", 0, 1u << 24);
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".safetensors") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  constexpr std::uint64_t kSample = 64 * 1024;
  for (const auto& f : files) {
    const std::uint64_t size = fs::file_size(f);
    std::string len8 = read_bytes(f, 0, 8);
    std::uint64_t hlen = 0;
    for (int i = 7; i >= 0 && len8.size() == 8; --i)
      hlen = (hlen << 8) | static_cast<unsigned char>(len8[static_cast<std::size_t>(i)]);
    hlen = std::min<std::uint64_t>(hlen, size > 8 ? size - 8 : 0);
    const std::uint64_t data = 8 + hlen;
    acc += fmt::format("\n{}\n{}\n", f.filename().string(), size);
    acc += read_bytes(f, 0, data);
    acc += read_bytes(f, data, kSample);
    if (size > data + kSample) acc += read_bytes(f, std::max(data + kSample, size - kSample), kSample);
  }
  return tok::sha256_hex(acc);
}

std::string settings_hash(const Settings& s, const std::string& model_hash_hex,
                          const std::string& dataset_fingerprint,
                          const std::string& tokenizer_fingerprint) {
  const auto& sp = s.engine.sampling;
  const auto& st = s.engine.stop;
  std::string text = fmt::format(
      "ram-sample-v1\nmodel={}\ndtype={}\ndataset={}\ntokenizer={}\ngreedy={}\ntemperature={:.17g}\n"
      "top_k={}\ntop_p={:.17g}\nrepetition_penalty={:.17g}\norder={}\nseed={}\n"
      "max_new_tokens={}\nmax_length={}\nmax_prompt_length={}\nn={}\nchunk_size={}\n"
      "on_empty={}\n",
      model_hash_hex, s.dtype, dataset_fingerprint, tokenizer_fingerprint, sp.greedy, sp.temperature,
      sp.top_k, sp.top_p, sp.repetition_penalty, fmt::join(sp.order, ","), sp.seed,
      st.max_new_tokens, st.max_length, st.max_prompt_length, s.n, s.chunk_size,
      s.on_empty == OnEmpty::skip ? "skip" : "fail");
  for (const auto& x : st.stop_strings) text += "stop=" + std::to_string(x.size()) + ":" + x + "\n";
  return tok::sha256_hex(text);
}

std::string describe(const Settings& s) {
  const auto& sp = s.engine.sampling;
  const auto& st = s.engine.stop;
  std::vector<std::string> stops;
  for (const auto& x : st.stop_strings) {
    std::string e;
    for (char ch : x) e += ch == '\n' ? std::string("\\n") : std::string(1, ch);
    stops.push_back("\"" + e + "\"");
  }
  return fmt::format(
      "order [{}], temperature {}, top_k {}, top_p {}, repetition_penalty {}, stop [{}], "
      "max_new_tokens {}, max_length {}, max_prompt_length {}, n {}, seed {}, batch_size {}, "
      "chunk_size {}",
      fmt::join(sp.order, ", "), sp.temperature, sp.top_k, sp.top_p, sp.repetition_penalty,
      fmt::join(stops, ", "), st.max_new_tokens, st.max_length, st.max_prompt_length, s.n,
      sp.seed, s.engine.batch_size, s.chunk_size);
}

}  // namespace ram::sample
