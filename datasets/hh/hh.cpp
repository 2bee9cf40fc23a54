// hh — Anthropic HH-RLHF (helpful-base, helpful-online, helpful-rejection-sampled,
// harmless-base) as distributed; see common/hh.hpp for the format, the prompt / response
// cut and the keys (root, subsets), and common/record_dataset.hpp for the common keys.
#include <ram/dataset.hpp>
#include <ram/plugin.hpp>

#include "common/hh.hpp"

namespace {

class Hh : public ram_datasets::HhDataset {
 public:
  explicit Hh(const ram::ConfigView& cfg) : HhDataset(cfg, "hh", {}) {}
};

}  // namespace

RAM_DATASET_PLUGIN("hh", "1.0.0", "Anthropic HH-RLHF subsets (<root>/<subset>/<split>.jsonl[.gz])", Hh)
