// plugin/registry.hpp — finds, checks and loads plugins; makes objects from them.
//
// Search path, in order: $RAM_PLUGIN_PATH (colon-separated directories), then
// <prefix>/lib/ram/plugins next to the running binary (../lib/ram/plugins), then the
// build tree's lib/ram/plugins. A file is a candidate when named libram_<kind>_<name>.so.
// Libraries are never unloaded; every object made holds a reference to its library anyway,
// so an object can never outlive the code of its vtable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ram/plugin.hpp"

namespace ram {
class ConfigView;
class Dataset;
class CausalLM;
class Objective;
class Judge;
}  // namespace ram

namespace ram::plugin {

struct PluginInfo {
  PluginKind kind;
  std::string name, version, summary, path, build_id;
};

struct Candidate {         // what discovery saw, for `ram plugins -v` and error messages
  std::string path;
  std::string problem;     // empty when usable
};

class Registry {
 public:
  static Registry& instance();

  std::vector<std::string> search_path() const;
  // Scans the search path once (first call) and returns every usable plugin; files that
  // look like plugins but fail a check are kept in candidates() with the reason.
  const std::vector<PluginInfo>& plugins();
  const std::vector<Candidate>& candidates();
  // Rescan (tests that change RAM_PLUGIN_PATH).
  void rescan();

  // Throws PluginError: not found (lists what exists, where it looked, did you mean),
  // ABI / kind / build-id mismatch (both values), factory failure.
  std::shared_ptr<Dataset> make_dataset(const std::string& name, const ConfigView& cfg);
  std::shared_ptr<CausalLM> make_model(const std::string& name, const ConfigView& cfg);
  std::shared_ptr<Objective> make_objective(const std::string& name, const ConfigView& cfg);
  std::shared_ptr<Judge> make_judge(const std::string& name, const ConfigView& cfg);

  // Loads one library file and checks its descriptor (used by discovery and tests).
  // Throws PluginError naming the file on any problem.
  PluginInfo check_file(const std::string& path);

 private:
  Registry() = default;
  void* factory(PluginKind kind, const std::string& name, std::shared_ptr<void>& lib_ref);
  bool scanned_ = false;
  std::vector<PluginInfo> plugins_;
  std::vector<Candidate> candidates_;
};

}  // namespace ram::plugin
