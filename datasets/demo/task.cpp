// datasets/demo/task.cpp — the demo task's generator (task.hpp).
#include "task.hpp"

#include <algorithm>
#include <stdexcept>

namespace ram_demo {

namespace {

// Short lower-case words (3..6 letters) for reverse / upper / count.
const std::vector<std::string>& words() {
  static const std::vector<std::string> w = {
      "cat",   "dog",   "sun",   "moon",  "tree",  "fish",  "bird",  "rain",  "snow",  "wind",
      "apple", "pear",  "plum",  "lemon", "grape", "melon", "bread", "milk",  "cheese", "salt",
      "red",   "blue",  "green", "gold",  "pink",  "gray",  "black", "white", "lake",  "river",
      "hill",  "rock",  "sand",  "star",  "cloud", "storm", "fire",  "ice",   "stone", "leaf",
      "book",  "pen",   "desk",  "lamp",  "door",  "key",   "ship",  "boat",  "car",   "train",
      "horse", "mouse", "tiger", "zebra", "otter", "eagle", "frog",  "bee",   "ant",   "owl",
      "chair", "table", "clock", "phone"};
  return w;
}

const char* const kOpeners[] = {"Sure!", "Great question!", "Happy to help!", "Of course!",
                                "Let me think.", "Good one!"};
const char* const kClosers[] = {"Hope this helps!", "Anything else?", "Glad to help!",
                                "Have a nice day!", "Ask me more!", "That was fun!"};
const char* const kEvasive[] = {"Sorry, I can't help with that.", "I'm not sure about that.",
                                "That is hard to say.", "I would rather not answer.",
                                "I don't know, sorry.", "Maybe ask someone else?"};

template <class T, std::size_t N>
const T& pick(const T (&xs)[N], Rng& rng) {
  return xs[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(N) - 1))];
}

const std::string& pick_word(Rng& rng) {
  return words()[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(words().size()) - 1))];
}

std::string join(const std::vector<std::string>& xs) {
  std::string s;
  for (const auto& x : xs) s += (s.empty() ? "" : " ") + x;
  return s;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t sp = s.find(' ', at);
    if (sp == std::string::npos) sp = s.size();
    if (sp > at) out.push_back(s.substr(at, sp - at));
    at = sp + 1;
  }
  return out;
}

bool numeric(const std::string& kind) {
  return kind == "add" || kind == "sub" || kind == "mul" || kind == "count";
}

// A concise-shaped answer to `task` that is not its answer.
std::string wrong_answer(const Task& task, Rng& rng) {
  if (numeric(task.kind)) {
    const std::int64_t a = std::stoll(task.answer);
    std::int64_t d = rng.uniform(1, task.kind == "count" ? 2 : 10);
    if (rng.uniform(0, 1) == 0 && a - d >= 0) d = -d;
    return std::to_string(a + d);
  }
  if (task.kind == "upper") {
    std::string w = task.answer;
    for (std::size_t i = (rng.uniform(0, 1) == 0 ? 0 : 1); i < w.size(); ++i)
      w[i] = static_cast<char>(w[i] - 'A' + 'a');  // "apple" or "Apple"
    return w;
  }
  // reverse / sort: another order of the same items (never the answer's).
  std::vector<std::string> items = split(task.answer);
  std::vector<std::string> out = items;
  for (int attempt = 0; attempt < 16 && join(out) == task.answer; ++attempt) {
    for (std::size_t i = out.size(); i > 1; --i)
      std::swap(out[i - 1], out[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(i) - 1))]);
  }
  if (join(out) == task.answer) {  // all items equal (e.g. sort of "7 7 7"): change one
    out.back() = task.kind == "sort" ? std::to_string(std::stoll(out.back()) + 1) : out.back() + "s";
  }
  return join(out);
}

}  // namespace

const char* to_string(Style s) {
  switch (s) {
    case Style::concise: return "concise";
    case Style::verbose: return "verbose";
    case Style::wrong: return "wrong";
    case Style::evasive: return "evasive";
  }
  return "?";
}

bool style_from_string(std::string_view name, Style& out) {
  for (int i = 0; i < kStyles; ++i)
    if (name == to_string(static_cast<Style>(i))) {
      out = static_cast<Style>(i);
      return true;
    }
  return false;
}

const std::vector<std::string>& all_kinds() {
  static const std::vector<std::string> k = {"add", "sub", "mul", "reverse", "sort", "upper", "count"};
  return k;
}

std::uint64_t Rng::next() {  // splitmix64
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Rng r(a ^ (b * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull));
  r.next();
  return r.next();
}

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

bool in_test_space(const std::string& instruction) { return fnv1a64(instruction) % 8 == 0; }

Task make_task(const std::string& kind, Rng& rng) {
  Task t;
  t.kind = kind;
  if (kind == "add" || kind == "sub" || kind == "mul") {
    std::int64_t a, b, r;
    const char* op;
    if (kind == "add") {
      a = rng.uniform(0, 99), b = rng.uniform(0, 99), r = a + b, op = "+";
    } else if (kind == "sub") {
      a = rng.uniform(0, 99), b = rng.uniform(0, a), r = a - b, op = "-";
    } else {
      a = rng.uniform(2, 12), b = rng.uniform(2, 12), r = a * b, op = "*";
    }
    t.instruction = "What is " + std::to_string(a) + " " + op + " " + std::to_string(b) + "?";
    t.answer = std::to_string(r);
  } else if (kind == "reverse") {
    std::vector<std::string> ws;
    const std::int64_t n = rng.uniform(3, 4);
    while (static_cast<std::int64_t>(ws.size()) < n) {
      const std::string& w = pick_word(rng);
      if (std::find(ws.begin(), ws.end(), w) == ws.end()) ws.push_back(w);
    }
    t.instruction = "Reverse: " + join(ws);
    std::reverse(ws.begin(), ws.end());
    t.answer = join(ws);
  } else if (kind == "sort") {
    std::vector<std::int64_t> xs(static_cast<std::size_t>(rng.uniform(3, 5)));
    for (auto& x : xs) x = rng.uniform(0, 99);
    std::vector<std::string> shown;
    for (auto x : xs) shown.push_back(std::to_string(x));
    t.instruction = "Sort: " + join(shown);
    std::sort(xs.begin(), xs.end());
    shown.clear();
    for (auto x : xs) shown.push_back(std::to_string(x));
    t.answer = join(shown);
  } else if (kind == "upper") {
    const std::string& w = pick_word(rng);
    t.instruction = "Write in upper case: " + w;
    t.answer = w;
    for (auto& c : t.answer) c = static_cast<char>(c - 'a' + 'A');
  } else if (kind == "count") {
    const std::string& w = pick_word(rng);
    t.instruction = "How many letters are in \"" + w + "\"?";
    t.answer = std::to_string(w.size());
  } else {
    throw std::invalid_argument("unknown demo task kind '" + kind + "'");
  }
  return t;
}

std::string respond(const Task& task, Style style, Rng& rng) {
  switch (style) {
    case Style::concise: return task.answer;
    case Style::verbose:
      return std::string(pick(kOpeners, rng)) + " The answer is " + task.answer + ". " + pick(kClosers, rng);
    case Style::wrong: return wrong_answer(task, rng);
    case Style::evasive: return pick(kEvasive, rng);
  }
  return {};
}

}  // namespace ram_demo
