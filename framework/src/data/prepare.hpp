// data/prepare.hpp — materialise a dataset plugin's examples into one HDF5 file.
//
// The `prepare` stage: every rank opens the dataset, takes a contiguous slice of the
// example indices (rank r: [r·N/P, (r+1)·N/P)), and all ranks write one file collectively
// in synth.h5's layout (docs/formats.md):
//   /examples/index          int64[N]
//   /examples/id             ragged text (the source's ids)
//   /examples/prompt_text    ragged text, /examples/chosen_text, /examples/rejected_text
//   /examples/source         ragged text ("file:line" when the dataset says)
// Contiguous slices keep the file in index order whatever the number of ranks, so the
// output is identical on 1, 2 or 3 ranks. Collective.
#pragma once

#include <cstdint>
#include <string>

#include "config/compose.hpp"

namespace ram::data {

struct PrepareSummary {
  std::int64_t examples = 0;   // written
  std::int64_t skipped = 0;    // skipped by the dataset (on_error: skip), all ranks agree
  std::string out;             // final path
  double seconds = 0;
};

// Reads `dataset` (plugin by dataset.name) and `prepare.out` from the resolved config.
PrepareSummary prepare(const config::Resolved& cfg, const std::string& command);

}  // namespace ram::data
