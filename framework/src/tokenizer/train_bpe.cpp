// tokenizer/train_bpe.cpp — train_bpe.hpp.
#include "tokenizer/train_bpe.hpp"

#include <map>
#include <string_view>
#include <unordered_map>

#include "tokenizer/state.hpp"

namespace ram::tok {

std::string byte_symbol(unsigned char b) {
  auto printable = [](int x) {
    return (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
  };
  int cp = b;
  if (!printable(b)) {
    int n = 0;
    for (int x = 0; x < b; ++x)
      if (!printable(x)) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {  // cp < 0x800 here
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::vector<std::pair<std::string, std::string>> train_bpe(const std::vector<std::string>& texts,
                                                           std::int64_t merges,
                                                           std::int64_t min_count) {
  // Distinct pieces and how often each occurs.
  const detail::Regex split(detail::kGpt2Pattern, false, "train_bpe", "ByteLevel");
  std::unordered_map<std::string, std::int64_t> counts;
  std::vector<std::string_view> pieces;
  for (const auto& t : texts) {
    pieces.clear();
    split.split_isolated(t, pieces);
    for (auto p : pieces) ++counts[std::string(p)];
  }
  std::vector<std::string> sym_of(256);
  for (int b = 0; b < 256; ++b) sym_of[static_cast<std::size_t>(b)] = byte_symbol(static_cast<unsigned char>(b));
  struct Word {
    std::vector<std::string> syms;
    std::int64_t count;
  };
  std::vector<Word> words;
  std::map<std::string, std::int64_t> ordered(counts.begin(), counts.end());  // fixed order
  for (const auto& [piece, n] : ordered) {
    Word w{{}, n};
    for (unsigned char c : piece) w.syms.push_back(sym_of[c]);
    words.push_back(std::move(w));
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (std::int64_t m = 0; m < merges; ++m) {
    std::map<std::pair<std::string, std::string>, std::int64_t> pairs;
    for (const auto& w : words)
      for (std::size_t i = 0; i + 1 < w.syms.size(); ++i) pairs[{w.syms[i], w.syms[i + 1]}] += w.count;
    const std::pair<std::string, std::string>* best = nullptr;
    std::int64_t best_n = 0;
    for (const auto& [p, n] : pairs)  // ascending pair order: the first of the largest count wins
      if (n > best_n) best = &p, best_n = n;
    if (best == nullptr || best_n < min_count) break;
    const auto merged = *best;
    const std::string joined = merged.first + merged.second;
    for (auto& w : words) {
      std::vector<std::string> next;
      next.reserve(w.syms.size());
      for (std::size_t i = 0; i < w.syms.size(); ++i) {
        if (i + 1 < w.syms.size() && w.syms[i] == merged.first && w.syms[i + 1] == merged.second) {
          next.push_back(joined);
          ++i;
        } else {
          next.push_back(w.syms[i]);
        }
      }
      w.syms = std::move(next);
    }
    out.push_back(merged);
  }
  return out;
}

}  // namespace ram::tok
