// demo — the demo task's judge (docs/demo-task.md): is an output correct, and is it in the
// preferred style? It reads the example's meta "kind" and "answer" (the demo dataset sets
// them; any dataset that sets them can use this judge).
//
// Extraction of the answer from an output (surrounding white space trimmed first):
//   - when the text contains "answer is" (any case): what follows its LAST occurrence, up to
//     the first '.', '!', '?' or newline;
//   - otherwise: the first line;
//   then surrounding quotes and trailing '.', '!' are removed, commas become spaces (lists)
//   and runs of white space one space.
// Scores (each in [0, 1]):
//   correct    the extracted answer equals meta "answer" (case-insensitive, except for kind
//              "upper" where case is the task)
//   answered   the extracted answer has the kind's shape (an integer; numbers or words
//              separated by spaces; one word of letters) and the text is not evasive
//   evasive    the text contains an evasive phrase ("sorry", "not sure", "can't", "cannot",
//              "don't know", "rather not", "hard to say", "ask someone")
//   preferred  the preferred (concise) style: the whole text is the answer alone, or the one
//              sentence "The answer is X." — answered, not evasive, no other words
//   score      1 when correct and preferred, 0.5 when correct only, else 0
// Config: none (name only).
#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include <ram/config.hpp>
#include <ram/error.hpp>
#include <ram/judge.hpp>
#include <ram/plugin.hpp>

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Commas to spaces, white-space runs to one space, trimmed.
std::string squeeze(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string strip_decoration(std::string s) {
  s = trim(s);
  while (!s.empty() && (s.back() == '.' || s.back() == '!')) s.pop_back();
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return squeeze(s);
}

}  // namespace

namespace ram_demo_judge {

// The answer extracted from `text` (see the header).
std::string extract(const std::string& text) {
  const std::string t = trim(text);
  const std::string lt = lower(t);
  const std::string marker = "answer is";
  std::size_t at = lt.rfind(marker);
  std::string candidate;
  if (at != std::string::npos) {
    std::size_t b = at + marker.size();
    std::size_t e = t.find_first_of(".!?\n", b);
    candidate = t.substr(b, e == std::string::npos ? std::string::npos : e - b);
  } else {
    candidate = t.substr(0, t.find('\n'));
  }
  return strip_decoration(candidate);
}

bool shaped(const std::string& kind, const std::string& a) {
  if (a.empty()) return false;
  auto all = [&](auto pred) { return std::all_of(a.begin(), a.end(), pred); };
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  auto alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  if (kind == "upper") return all(alpha);
  if (kind == "sort") return all([&](char c) { return digit(c) || c == ' '; });
  if (kind == "reverse") return all([&](char c) { return alpha(c) || c == ' '; });
  // add, sub, mul, count and any other numeric kind: one integer
  std::size_t from = a[0] == '-' ? 1 : 0;
  return a.size() > from && std::all_of(a.begin() + static_cast<std::ptrdiff_t>(from), a.end(), digit);
}

bool evasive(const std::string& text) {
  static const char* const markers[] = {"sorry", "not sure", "can't", "cannot", "don't know",
                                        "rather not", "hard to say", "ask someone"};
  const std::string lt = lower(text);
  for (const char* m : markers)
    if (lt.find(m) != std::string::npos) return true;
  return false;
}

}  // namespace ram_demo_judge

namespace {

using namespace ram_demo_judge;

class DemoJudge : public ram::Judge {
 public:
  explicit DemoJudge(const ram::ConfigView& cfg) {
    cfg.get<std::string>("name", "demo");
    cfg.finish();
  }

  std::map<std::string, double> score(const ram::Example& example,
                                      const std::string& output) const override {
    auto kind_it = example.meta.find("kind");
    auto answer_it = example.meta.find("answer");
    if (kind_it == example.meta.end() || answer_it == example.meta.end())
      throw ram::DataError("example " + example.id + " has no meta \"kind\" / \"answer\"",
                           "judge demo", "use the demo dataset (dataset.name=demo) or a dataset "
                           "that sets meta kind and answer");
    const std::string& kind = kind_it->second;
    const std::string answer = squeeze(answer_it->second);
    const std::string got = extract(output);
    const bool is_correct = kind == "upper" ? got == answer : lower(got) == lower(answer);
    const bool is_evasive = evasive(output);
    const bool is_answered = shaped(kind, got) && !is_evasive;
    // The whole text, decoration removed, must be X or "The answer is X".
    const std::string whole = strip_decoration(output);
    const bool concise_form = whole == got || lower(whole) == "the answer is " + lower(got);
    const bool preferred = is_answered && !is_evasive && concise_form;
    return {{"correct", is_correct ? 1.0 : 0.0},
            {"answered", is_answered ? 1.0 : 0.0},
            {"evasive", is_evasive ? 1.0 : 0.0},
            {"preferred", preferred ? 1.0 : 0.0},
            {"score", is_correct ? (preferred ? 1.0 : 0.5) : 0.0}};
  }

  std::string describe() const override {
    return "demo: correct (answer extracted = meta answer), preferred style (the answer alone), "
           "score 1 / 0.5 / 0";
  }
};

}  // namespace

RAM_JUDGE_PLUGIN("demo", "1.0.0",
                 "the demo task's checker: correct? preferred (concise) style? score 1 / 0.5 / 0",
                 DemoJudge)
