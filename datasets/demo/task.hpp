// datasets/demo/task.hpp — the demo task's generator: programmatic instructions with a
// checkable answer, and a response to each in one of four styles. No files, no I/O: every
// example is a pure function of (seed, split, index). docs/demo-task.md describes the task.
//
// Kinds (instruction → answer):
//   add      "What is 23 + 45?"                  → "68"          (a, b in 0..99)
//   sub      "What is 50 - 17?"                  → "33"          (0 <= b <= a <= 99)
//   mul      "What is 7 * 8?"                    → "56"          (a, b in 2..12)
//   reverse  "Reverse: cat dog sun"              → "sun dog cat" (3..4 words)
//   sort     "Sort: 5 2 9 1"                     → "1 2 5 9"     (3..5 numbers in 0..99)
//   upper    "Write in upper case: apple"        → "APPLE"
//   count    "How many letters are in \"apple\"?" → "5"
// Styles (response to an instruction with answer A):
//   concise  "A"                                  the preferred style
//   verbose  "<opener> The answer is A. <closer>"  correct, wrapped in filler
//   wrong    "W"                                  concise-shaped, W != A (a near miss)
//   evasive  "<an evasive sentence>"              no answer
// Instructions stay ≤ 36 characters and responses ≤ 80 (a byte-level tokenizer reads them).
//
// Held-out prompts: an instruction belongs to the test space when fnv1a64(instruction) % 8
// == 0. train/align draw only outside it and test only inside it, so test instructions never
// occur in train or align, whatever the seeds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ram_demo {

enum class Style { concise = 0, verbose = 1, wrong = 2, evasive = 3 };
inline constexpr int kStyles = 4;
const char* to_string(Style s);
// "concise" → Style::concise; false when the name is unknown.
bool style_from_string(std::string_view name, Style& out);

const std::vector<std::string>& all_kinds();  // add, sub, mul, reverse, sort, upper, count

// A counter-based generator: every draw is a function of the key it was made from.
class Rng {
 public:
  explicit Rng(std::uint64_t key) : state_(key) {}
  std::uint64_t next();
  // Uniform in [lo, hi] (inclusive); the modulo bias is below 2^-50 for these ranges.
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) { return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1)); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b);
std::uint64_t fnv1a64(std::string_view bytes);
bool in_test_space(const std::string& instruction);

struct Task {
  std::string kind, instruction, answer;
};

// One instruction of `kind`, drawn with `rng`.
Task make_task(const std::string& kind, Rng& rng);
// The response to `task` in `style`, drawn with `rng` (fillers, the wrong answer, ...).
std::string respond(const Task& task, Style style, Rng& rng);

}  // namespace ram_demo
