#include "generate/rng.hpp"

namespace ram::generate {

std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t draw_bits(std::uint64_t seed, std::int64_t example_index, std::int64_t sample_index,
                        std::int64_t step) {
  std::uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ static_cast<std::uint64_t>(example_index));
  h = splitmix64(h ^ static_cast<std::uint64_t>(sample_index));
  return splitmix64(h ^ static_cast<std::uint64_t>(step));
}

double draw_uniform(std::uint64_t seed, std::int64_t example_index, std::int64_t sample_index,
                    std::int64_t step) {
  return static_cast<double>(draw_bits(seed, example_index, sample_index, step) >> 11) * 0x1.0p-53;
}

}  // namespace ram::generate
