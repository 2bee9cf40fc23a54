// ram/example.hpp — one training / evaluation example as datasets hand it out.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace ram {

struct Example {
  std::int64_t index = -1;  // position in the dataset (0..size-1); stable across runs
  std::string id;           // the source's own id when it has one, else the index as text
  std::string prompt;       // the prompt as the proposal model sees it (template applied)
  std::string chosen;       // gold / preferred response
  std::string rejected;     // dispreferred response; empty when the dataset has none
  std::map<std::string, std::string> meta;  // source file:line, subset, raw fields, ...
};

}  // namespace ram
