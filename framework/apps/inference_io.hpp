// apps/inference_io.hpp — what `ram score` and `ram generate` share: the model
// directory's tokenizer (loaded on first use), sharding input lines over ranks, and writing
// the outputs in input order from rank 0.
//
// MPI: every rank reads and validates the whole input (so a bad line is the same error on
// every rank), runs the lines i with i % size == rank, and rank 0 gathers the results and
// writes them in input order. One rank is the plain case.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "dist/dist.hpp"
#include "generate/requests.hpp"
#include "model/hf_dir.hpp"
#include "ram/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ram::apps {

// Loads DIR's tokenizer when a line first needs it; text input without one is an error.
class LazyTokenizer {
 public:
  explicit LazyTokenizer(std::filesystem::path dir) : dir_(std::move(dir)) {}
  bool available() const { return std::filesystem::is_regular_file(dir_ / "tokenizer.json"); }
  const tok::Tokenizer& get() {
    if (!tok_) {
      if (!available())
        throw NotSupported("text input needs a tokenizer, and the model directory has no "
                           "tokenizer.json", dir_.string(),
                           "give token ids (\"prompt_ids\") or a model made with "
                           "`ram make-tiny-model --tokenizer DIR`");
      tok_ = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_dir(dir_));
    }
    return *tok_;
  }
  generate::Encode encoder() {
    return [this](const std::string& text, bool special) {
      auto ids = get().encode(text, special);
      return std::vector<std::int64_t>(ids.begin(), ids.end());
    };
  }
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special) {
    return get().decode(std::vector<std::int32_t>(ids.begin(), ids.end()), skip_special);
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<tok::Tokenizer> tok_;
};

// This rank's share of n lines, longest first (less padding per batch); `len` gives a
// line's token count.
template <class Len>
std::vector<std::size_t> my_lines(std::size_t n, Len len) {
  std::vector<std::size_t> mine;
  for (std::size_t i = static_cast<std::size_t>(dist::rank()); i < n;
       i += static_cast<std::size_t>(dist::size()))
    mine.push_back(i);
  std::stable_sort(mine.begin(), mine.end(),
                   [&](std::size_t a, std::size_t b) { return len(a) > len(b); });
  return mine;
}

// Gathers (line index, JSON text) from every rank; rank 0 writes them in index order to
// `output` ("" or "-": stdout; a file is written under a temporary name, then renamed).
inline void write_in_order(std::vector<std::pair<std::size_t, std::string>> results,
                           const std::string& output) {
  std::string packed;
  for (const auto& [i, json] : results) packed += std::to_string(i) + "\t" + json + "\n";
  auto parts = dist::gather(packed);
  if (!dist::is_root()) return;
  results.clear();
  for (const auto& part : parts) {
    std::size_t pos = 0;
    while (pos < part.size()) {
      std::size_t tab = part.find('\t', pos), nl = part.find('\n', tab);
      results.emplace_back(std::stoull(part.substr(pos, tab - pos)), part.substr(tab + 1, nl - tab - 1));
      pos = nl + 1;
    }
  }
  std::sort(results.begin(), results.end());
  if (output.empty() || output == "-") {
    for (const auto& r : results) std::fprintf(stdout, "%s\n", r.second.c_str());
    std::fflush(stdout);
    return;
  }
  std::filesystem::path out(output), tmp(output + ".tmp-" + std::to_string(::getpid()));
  {
    std::ofstream f(tmp, std::ios::binary);
    for (const auto& r : results) f << r.second << '\n';
    f.close();
    if (!f) throw FormatError("cannot write the output file", tmp.string(),
                              "check free space and permissions");
  }
  std::filesystem::rename(tmp, out);
}

}  // namespace ram::apps
