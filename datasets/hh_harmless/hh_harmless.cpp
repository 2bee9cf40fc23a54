// hh_harmless — the harmless-base subset of Anthropic HH-RLHF: the `hh` plugin with the
// subset list fixed (no `subsets` key). Keys: root and the common ones
// (common/hh.hpp, common/record_dataset.hpp).
#include <ram/dataset.hpp>
#include <ram/plugin.hpp>

#include "common/hh.hpp"

namespace {

class HhHarmless : public ram_datasets::HhDataset {
 public:
  explicit HhHarmless(const ram::ConfigView& cfg) : HhDataset(cfg, "hh_harmless", {"harmless-base"}) {}
};

}  // namespace

RAM_DATASET_PLUGIN("hh_harmless", "1.0.0", "Anthropic HH-RLHF harmless-base (<root>/harmless-base/<split>.jsonl[.gz])",
                   HhHarmless)
