// generate/rng.hpp — the counter-based uniform draws of sampling (DESIGN §6, issue 4 item 3).
//
// A draw is a pure function of (seed, example_index, sample_index, step): no generator
// state, so a sample's randomness never depends on the rank, the batch slot, the batch size
// or what else was decoded before it. The hash is SplitMix64's output function (the
// "mix64" finaliser of java.util.SplittableRandom, Steele, Lea & Flood 2014) absorbing the
// four words in turn:
//   h = mix(seed); h = mix(h ^ example); h = mix(h ^ sample); h = mix(h ^ step)
//   u = (h >> 11) · 2⁻⁵³                                   ∈ [0, 1), 53 random bits
// where mix(z) = SplitMix64's step on z + golden-gamma. Each mix is a bijection of 64-bit
// words, so draws with the same prefix and different last word never collide. This is the
// counter-based idea of Random123/JAX keys with a cheaper mixer than Philox; it is not
// cryptographic and need not be.
#pragma once

#include <cstdint>

namespace ram::generate {

// SplitMix64: z += 0x9e3779b97f4a7c15, then the two xor-shift-multiply rounds.
std::uint64_t splitmix64(std::uint64_t z);

// The 64-bit hash of (seed, example, sample, step) described above.
std::uint64_t draw_bits(std::uint64_t seed, std::int64_t example_index, std::int64_t sample_index,
                        std::int64_t step);

// Uniform u ∈ [0, 1) from the top 53 bits of draw_bits.
double draw_uniform(std::uint64_t seed, std::int64_t example_index, std::int64_t sample_index,
                    std::int64_t step);

}  // namespace ram::generate
