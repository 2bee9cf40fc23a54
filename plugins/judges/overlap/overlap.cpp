// overlap — reference overlap of an output with the example's gold response
// (Example.chosen), in [0, 1]:
//   exact    1 when the normalised token sequences are equal
//   f1       bag-of-tokens F1 (SQuAD's): 2·P·R / (P + R) over the multiset intersection
//   rouge_l  ROUGE-L F-measure (β = 1): LCS of the token sequences, 2·P·R / (P + R)
// Tokens: the text lower-cased (ASCII), split on every character that is not an ASCII letter
// or digit (punctuation and white space separate tokens; bytes ≥ 0x80 are kept in tokens).
// Both sides empty: every score is 1; one side empty: 0.
// Config: none (name only).
#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include <ram/config.hpp>
#include <ram/judge.hpp>
#include <ram/plugin.hpp>

namespace {

std::vector<std::string> tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (c >= 0x80 || std::isalnum(c)) {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

double f_measure(double overlap, std::size_t n_out, std::size_t n_ref) {
  if (overlap <= 0) return 0;
  const double p = overlap / static_cast<double>(n_out), r = overlap / static_cast<double>(n_ref);
  return 2 * p * r / (p + r);
}

class OverlapJudge : public ram::Judge {
 public:
  explicit OverlapJudge(const ram::ConfigView& cfg) {
    cfg.get<std::string>("name", "overlap");
    cfg.finish();
  }

  std::map<std::string, double> score(const ram::Example& example,
                                      const std::string& output) const override {
    const auto out = tokens(output), ref = tokens(example.chosen);
    if (out.empty() || ref.empty()) {
      const double both = out.empty() && ref.empty() ? 1.0 : 0.0;
      return {{"exact", both}, {"f1", both}, {"rouge_l", both}};
    }
    // Bag-of-tokens overlap.
    std::map<std::string, int> counts;
    for (const auto& t : ref) ++counts[t];
    double common = 0;
    for (const auto& t : out) {
      auto it = counts.find(t);
      if (it != counts.end() && it->second > 0) {
        --it->second;
        ++common;
      }
    }
    // Longest common subsequence, one row at a time.
    std::vector<std::size_t> prev(ref.size() + 1, 0), row(ref.size() + 1, 0);
    for (std::size_t i = 1; i <= out.size(); ++i) {
      for (std::size_t j = 1; j <= ref.size(); ++j)
        row[j] = out[i - 1] == ref[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], row[j - 1]);
      std::swap(prev, row);
    }
    const double lcs = static_cast<double>(prev[ref.size()]);
    return {{"exact", out == ref ? 1.0 : 0.0},
            {"f1", f_measure(common, out.size(), ref.size())},
            {"rouge_l", f_measure(lcs, out.size(), ref.size())}};
  }

  std::string describe() const override {
    return "overlap: exact / token F1 / ROUGE-L against the example's chosen response";
  }
};

}  // namespace

RAM_JUDGE_PLUGIN("overlap", "1.0.0",
                 "reference overlap with Example.chosen: exact match, token F1, ROUGE-L",
                 OverlapJudge)
