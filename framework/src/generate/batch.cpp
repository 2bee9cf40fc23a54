#include "generate/batch.hpp"

#include <algorithm>

#include <ATen/ATen.h>

#include "ram/error.hpp"

namespace ram::generate {

at::Tensor positions_from_mask(const at::Tensor& attention) {
  auto pos = attention.cumsum(-1) - 1;
  return pos.masked_fill(attention == 0, 1);
}

LeftPadded left_pad(const std::vector<std::vector<std::int64_t>>& seqs, std::int64_t pad_id) {
  std::int64_t b = static_cast<std::int64_t>(seqs.size()), t = 0;
  for (const auto& s : seqs) t = std::max<std::int64_t>(t, static_cast<std::int64_t>(s.size()));
  LeftPadded out;
  out.ids = at::full({b, t}, pad_id, at::kLong);
  out.attention = at::zeros({b, t}, at::kLong);
  auto ids = out.ids.accessor<std::int64_t, 2>();
  auto mask = out.attention.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < b; ++r) {
    const auto& s = seqs[r];
    if (s.empty()) throw DataError("empty sequence in a batch", "row " + std::to_string(r),
                                   "every prompt needs at least one token");
    std::int64_t off = t - static_cast<std::int64_t>(s.size());
    out.pad.push_back(off);
    for (std::size_t j = 0; j < s.size(); ++j) {
      ids[r][off + static_cast<std::int64_t>(j)] = s[j];
      mask[r][off + static_cast<std::int64_t>(j)] = 1;
    }
  }
  out.positions = positions_from_mask(out.attention);
  return out;
}

}  // namespace ram::generate
