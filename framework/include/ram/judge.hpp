// ram/judge.hpp — the Judge plugin interface (first cut; the eval issue refines it).
//
// A judge scores one output for one example. Scores are named numbers in [0, 1] where
// higher is better (e.g. "correct", "style"); eval averages them over examples.
#pragma once

#include <map>
#include <string>

#include "ram/example.hpp"

namespace ram {

class Judge {
 public:
  virtual ~Judge() = default;
  virtual std::map<std::string, double> score(const Example& example,
                                              const std::string& output) const = 0;
  virtual std::string describe() const = 0;
};

}  // namespace ram
