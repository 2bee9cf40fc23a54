// counting — a dataset plugin written against the public API only (ram/*.hpp).
//
// It makes `size` arithmetic examples from a seed: "What is 17 + 25?" → "42". Config:
//   dataset: { name: counting, size: 100, seed: 0, max_operand: 99 }
#include <cstdint>
#include <random>
#include <string>

#include <ram/config.hpp>
#include <ram/dataset.hpp>
#include <ram/error.hpp>
#include <ram/plugin.hpp>

namespace {

class Counting : public ram::Dataset {
 public:
  explicit Counting(const ram::ConfigView& cfg)
      : size_(cfg.get<std::int64_t>("size", 100)),
        seed_(cfg.get<std::int64_t>("seed", 0)),
        max_operand_(cfg.get<std::int64_t>("max_operand", 99)) {
    cfg.get<std::string>("name", "counting");
    if (size_ <= 0)
      throw ram::ConfigError("counting: size must be positive, got " + std::to_string(size_),
                             cfg.where("size").str(), "set dataset.size to a positive number");
    cfg.finish();
  }

  std::int64_t size() const override { return size_; }

  ram::Example get(std::int64_t index) const override {
    // Seeded per example, so any rank computes the same example for an index.
    std::mt19937_64 rng(static_cast<std::uint64_t>(seed_) * 1000003u + static_cast<std::uint64_t>(index));
    std::uniform_int_distribution<std::int64_t> d(0, max_operand_);
    std::int64_t a = d(rng), b = d(rng);
    ram::Example e;
    e.index = index;
    e.id = "counting-" + std::to_string(index);
    e.prompt = "\n\nHuman: What is " + std::to_string(a) + " + " + std::to_string(b) + "?\n\nAssistant: ";
    e.chosen = std::to_string(a + b);
    e.rejected = std::to_string(a + b + 1);
    return e;
  }

  std::string fingerprint() const override {
    return "counting:" + std::to_string(size_) + ":" + std::to_string(seed_) + ":" +
           std::to_string(max_operand_);
  }
  std::string describe() const override {
    return "counting: " + std::to_string(size_) + " arithmetic examples (seed " + std::to_string(seed_) + ")";
  }

 private:
  std::int64_t size_, seed_, max_operand_;
};

}  // namespace

RAM_DATASET_PLUGIN("counting", "1.0.0", "example plugin: seeded arithmetic questions", Counting)
