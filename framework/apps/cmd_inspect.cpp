// `ram inspect FILE [--attrs-full]` — what an HDF5 file of ours holds: groups, datasets
// (dtype, shape, count), ragged pairs as "<name>: N items, B bytes", attributes. Rank 0
// prints. A missing, truncated or non-HDF5 file is a FormatError: one line, exit != 0.
#include <cstdio>
#include <string>

#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "h5/reader.hpp"

RAM_VERB(inspect) {
  auto* cmd = app.add_subcommand("inspect", "show the groups, datasets and attributes of an HDF5 file");
  static std::string file;
  static bool full = false;
  cmd->add_option("file", file, "the HDF5 file (synth.h5, outputs.h5, ckpt/step-N.h5)")->required();
  cmd->add_flag("--attrs-full", full, "print long attributes (config) in full");
  cmd->callback([] {
    if (ram::dist::rank() != 0) return;
    std::string text = ram::h5::inspect(file, full);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  });
}
