// length — length statistics of an output (no reference needed). Unlike the [0, 1] scores of
// other judges these are raw counts; `ram eval` reports their mean / sd / min / max.
//   chars  Unicode code points of the output (UTF-8 continuation bytes are not counted)
//   bytes  bytes of the output
//   words  white-space separated words
//   lines  lines (newline-separated; an empty output has 0)
// Config: none (name only). Token counts need a tokenizer: `ram eval` adds them under
// "tokens" when eval.tokenizer is set.
#include <cctype>
#include <map>
#include <string>

#include <ram/config.hpp>
#include <ram/judge.hpp>
#include <ram/plugin.hpp>

namespace {

class LengthJudge : public ram::Judge {
 public:
  explicit LengthJudge(const ram::ConfigView& cfg) {
    cfg.get<std::string>("name", "length");
    cfg.finish();
  }

  std::map<std::string, double> score(const ram::Example&, const std::string& output) const override {
    double chars = 0, words = 0, lines = output.empty() ? 0 : 1;
    bool in_word = false;
    for (unsigned char c : output) {
      if ((c & 0xC0) != 0x80) ++chars;
      if (c == '\n') ++lines;
      const bool space = std::isspace(c) != 0;
      if (!space && !in_word) ++words;
      in_word = !space;
    }
    return {{"chars", chars}, {"bytes", static_cast<double>(output.size())}, {"words", words},
            {"lines", lines}};
  }

  std::string describe() const override { return "length: chars, bytes, words, lines of each output"; }
};

}  // namespace

RAM_JUDGE_PLUGIN("length", "1.0.0", "length statistics of outputs: chars, bytes, words, lines",
                 LengthJudge)
