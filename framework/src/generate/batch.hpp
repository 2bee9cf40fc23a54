// generate/batch.hpp — sequences of different lengths → one left-padded batch, with the
// attention mask and the positions HF's generate computes (cumsum(mask) − 1, padding → 1),
// so that every row sees exactly what it would see alone.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ram::generate {

struct LeftPadded {
  at::Tensor ids;        // [B, T] int64, padding = pad_id
  at::Tensor attention;  // [B, T] int64, 1 = token, 0 = padding
  at::Tensor positions;  // [B, T] int64
  std::vector<std::int64_t> pad;  // padding tokens at the left of each row
};

// T = the longest sequence. Every sequence must be non-empty.
LeftPadded left_pad(const std::vector<std::vector<std::int64_t>>& seqs, std::int64_t pad_id = 0);

// HF's positions for a mask: cumsum(mask, -1) − 1, with masked places set to 1.
at::Tensor positions_from_mask(const at::Tensor& attention);

}  // namespace ram::generate
