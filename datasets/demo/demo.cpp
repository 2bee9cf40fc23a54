// demo — the bundled demo task as a dataset plugin: examples GENERATED from a seed (no
// files), programmatic instructions with a checkable answer and responses in four styles
// (task.hpp; docs/demo-task.md). The judge plugin `demo` scores outputs on it.
//
// Config (defaults in parentheses):
//   seed             (0)      every example is a function of (seed, split, index)
//   size             (2000)   number of examples
//   split            (train)  train: D, responses in mixed styles drawn by style_weights;
//                             align: S, the same prompts as train (index i of align has
//                               train's instruction i for the same seed, so S ⊂ D), the
//                               preferred (concise) style only;
//                             test: held-out prompts (a disjoint instruction space, task.hpp),
//                               chosen in the preferred style (the reference for overlap).
//   style_weights    (concise 0.3, verbose 0.3, wrong 0.2, evasive 0.2) train only;
//                             non-negative, not all zero; normalised
//   kinds            (all: [add, sub, mul, reverse, sort, upper, count]) drawn uniformly
//   prompt_template  ("\n\nHuman: {instruction}\n\nAssistant: ") {instruction} is replaced
//   name             (demo)   the plugin's own name; read and ignored
//
// Example: prompt = template(instruction); chosen = the response in the example's style
// (train: drawn; align / test: concise); rejected = the response in another style, drawn
// uniformly from the other three (train) or from verbose / wrong / evasive (align / test);
// meta: kind, instruction, answer, style, rejected_style, source ("demo:<split>:<seed>:<i>").
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <ram/config.hpp>
#include <ram/dataset.hpp>
#include <ram/error.hpp>
#include <ram/plugin.hpp>

#include "task.hpp"

namespace {

using namespace ram_demo;

constexpr std::uint64_t kPromptStream = 1, kStyleStream = 2, kResponseStream = 3, kRejectStream = 4;

std::string hex64(std::uint64_t h) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) s[static_cast<std::size_t>(i)] = digits[h & 0xF];
  return s;
}

class Demo : public ram::Dataset {
 public:
  explicit Demo(const ram::ConfigView& cfg) {
    cfg.get<std::string>("name", "demo");
    seed_ = static_cast<std::uint64_t>(cfg.get<std::int64_t>("seed", 0));
    size_ = cfg.get<std::int64_t>("size", 2000);
    split_ = cfg.get<std::string>("split", "train");
    template_ = cfg.get<std::string>("prompt_template", "\n\nHuman: {instruction}\n\nAssistant: ");
    kinds_ = cfg.get<std::vector<std::string>>("kinds", all_kinds());
    ram::ConfigView w = cfg.child("style_weights");
    const double defaults[kStyles] = {0.3, 0.3, 0.2, 0.2};
    for (int s = 0; s < kStyles; ++s)
      weights_[s] = w.get<double>(to_string(static_cast<Style>(s)), defaults[s]);
    cfg.finish();

    if (size_ <= 0)
      throw ram::ConfigError("key '" + cfg.dotted("size") + "' must be positive, got " +
                                 std::to_string(size_),
                             cfg.where("size").str(), "set the number of examples to generate");
    if (split_ != "train" && split_ != "align" && split_ != "test")
      throw ram::ConfigError("key '" + cfg.dotted("split") + "' must be train, align or test, got '" +
                                 split_ + "'",
                             cfg.where("split").str(),
                             "train: mixed styles (D); align: the preferred style (S); test: held-out prompts");
    if (template_.find("{instruction}") == std::string::npos)
      throw ram::ConfigError("key '" + cfg.dotted("prompt_template") + "' has no {instruction}",
                             cfg.where("prompt_template").str(),
                             "put {instruction} where the instruction goes, e.g. \"\\n\\nHuman: {instruction}\\n\\nAssistant: \"");
    if (kinds_.empty())
      throw ram::ConfigError("key '" + cfg.dotted("kinds") + "' is empty", cfg.where("kinds").str(),
                             "list task kinds, e.g. [add, sub, mul, reverse, sort, upper, count]");
    for (const auto& k : kinds_) {
      bool known = false;
      for (const auto& a : all_kinds()) known = known || a == k;
      if (!known) {
        std::string list;
        for (const auto& a : all_kinds()) list += (list.empty() ? "" : ", ") + a;
        throw ram::ConfigError("unknown demo task kind '" + k + "' in " + cfg.dotted("kinds"),
                               cfg.where("kinds").str(), "use some of: " + list);
      }
    }
    double total = 0;
    for (int s = 0; s < kStyles; ++s) {
      const std::string key = std::string("style_weights.") + to_string(static_cast<Style>(s));
      if (!(weights_[s] >= 0) || !std::isfinite(weights_[s]))
        throw ram::ConfigError("key '" + cfg.dotted(key) + "' must be a finite weight ≥ 0",
                               w.where(to_string(static_cast<Style>(s))).str(), "e.g. 0.25");
      total += weights_[s];
    }
    if (total <= 0)
      throw ram::ConfigError("every weight under '" + cfg.dotted("style_weights") + "' is 0",
                             cfg.where("style_weights").str(), "give at least one style a positive weight");
    for (double& x : weights_) x /= total;

    std::string desc = "demo v1\nseed=" + std::to_string(seed_) + "\nsize=" + std::to_string(size_) +
                       "\nsplit=" + split_ + "\ntemplate=" + template_ + "\nkinds=";
    for (const auto& k : kinds_) desc += k + ",";
    if (split_ == "train")
      for (double x : weights_) desc += "\nw=" + std::to_string(x);
    fingerprint_ = hex64(fnv1a64(desc));
  }

  std::int64_t size() const override { return size_; }

  ram::Example get(std::int64_t index) const override {
    if (index < 0 || index >= size_)
      throw ram::Error("demo: index " + std::to_string(index) + " is outside [0, " +
                           std::to_string(size_) + ")",
                       "dataset (demo, split " + split_ + ")", "ask for an index below size()");
    const bool test = split_ == "test";
    // train and align share the prompt stream (S ⊂ D); test has its own, in its own space.
    const std::uint64_t base = mix(seed_, test ? 0x7e57ull : 0x7a1full);
    const std::uint64_t key = mix(base, static_cast<std::uint64_t>(index));
    Task task;
    for (std::uint64_t attempt = 0;; ++attempt) {
      Rng rng(mix(mix(key, kPromptStream), attempt));
      const std::string& kind = kinds_[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(kinds_.size()) - 1))];
      task = make_task(kind, rng);
      if (in_test_space(task.instruction) == test) break;
      if (attempt > 10000)  // a kinds list whose instruction space misses this split
        throw ram::ConfigError("demo: no " + split_ + " instruction found for kinds " + kinds_list(),
                               "dataset.kinds", "add more task kinds");
    }

    Style style = Style::concise;
    if (split_ == "train") {
      Rng srng(mix(key, kStyleStream));
      double u = srng.unit(), acc = 0;
      style = Style::evasive;
      for (int s = 0; s < kStyles; ++s) {
        acc += weights_[s];
        if (u < acc && weights_[s] > 0) {
          style = static_cast<Style>(s);
          break;
        }
      }
      // u may sit above a rounded total: keep the last style with positive weight.
      if (u >= acc)
        for (int s = kStyles - 1; s >= 0; --s)
          if (weights_[s] > 0) {
            style = static_cast<Style>(s);
            break;
          }
    }
    Rng rrng(mix(key, kRejectStream));
    std::vector<Style> others;
    for (int s = 0; s < kStyles; ++s)
      if (static_cast<Style>(s) != style) others.push_back(static_cast<Style>(s));
    const Style rejected_style =
        others[static_cast<std::size_t>(rrng.uniform(0, static_cast<std::int64_t>(others.size()) - 1))];

    Rng resp(mix(key, kResponseStream));
    ram::Example e;
    e.index = index;
    e.id = "demo-" + split_ + "-" + std::to_string(seed_) + "-" + std::to_string(index);
    e.prompt = expand(task.instruction);
    e.chosen = respond(task, style, resp);
    e.rejected = respond(task, rejected_style, resp);
    e.meta["kind"] = task.kind;
    e.meta["instruction"] = task.instruction;
    e.meta["answer"] = task.answer;
    e.meta["style"] = to_string(style);
    e.meta["rejected_style"] = to_string(rejected_style);
    e.meta["source"] = "demo:" + split_ + ":" + std::to_string(seed_) + ":" + std::to_string(index);
    return e;
  }

  std::string fingerprint() const override { return fingerprint_; }

  std::string describe() const override {
    std::string s = "demo: " + std::to_string(size_) + " generated examples (split " + split_ +
                    ", seed " + std::to_string(seed_) + ", kinds " + kinds_list();
    if (split_ == "train") {
      s += ", styles";
      for (int k = 0; k < kStyles; ++k)
        s += std::string(k ? ", " : " ") + to_string(static_cast<Style>(k)) + " " +
             std::to_string(weights_[k]).substr(0, 4);
    } else {
      s += ", style concise";
    }
    return s + ")";
  }

 private:
  std::string kinds_list() const {
    std::string s;
    for (const auto& k : kinds_) s += (s.empty() ? "" : ",") + k;
    return s;
  }

  std::string expand(const std::string& instruction) const {
    std::string out;
    std::size_t pos = 0, hit;
    while ((hit = template_.find("{instruction}", pos)) != std::string::npos) {
      out.append(template_, pos, hit - pos);
      out += instruction;
      pos = hit + 13;
    }
    out.append(template_, pos, std::string::npos);
    return out;
  }

  std::uint64_t seed_ = 0;
  std::int64_t size_ = 0;
  std::string split_, template_, fingerprint_;
  std::vector<std::string> kinds_;
  double weights_[kStyles] = {};
};

}  // namespace

RAM_DATASET_PLUGIN("demo", "1.0.0",
                   "the bundled demo task, generated from a seed: arithmetic / reverse / sort / "
                   "upper / count instructions, responses in four styles",
                   Demo)
