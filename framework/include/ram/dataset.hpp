// ram/dataset.hpp — the Dataset plugin interface.
//
// A dataset is opened from its config node (paths, split, field mapping) and offers
// random access, so any rank can take any index: sample and train shard by index.
// Building the prompt text (the "\n\nHuman: ...\n\nAssistant: " template, TL;DR's
// "\nTL;DR:", the aligner's "\n\nCorrection: " format) is the dataset's job.
//
// Contract:
//   - size() and get(i) are const and thread-compatible; get(i) for 0 <= i < size().
//   - Opening validates the whole input; a malformed record is a DataError with
//     file:line, or, when the config says `on_error: skip`, skipped and counted in
//     skipped() — never a crash, never a silent wrong answer.
#pragma once

#include <cstdint>
#include <string>

#include "ram/example.hpp"

namespace ram {

class ConfigView;

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::int64_t size() const = 0;
  virtual Example get(std::int64_t index) const = 0;
  // Records skipped while opening (on_error: skip); 0 otherwise.
  virtual std::int64_t skipped() const { return 0; }
  // A stable content hash of what was read (provenance attributes of outputs).
  virtual std::string fingerprint() const = 0;
  // One line for logs: "jsonl: 1200 examples from data/x.jsonl (split train)".
  virtual std::string describe() const = 0;
};

}  // namespace ram
