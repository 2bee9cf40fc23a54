// plugin/registry.cpp — discovery, checks and factories for plugin libraries.
#include "plugin/registry.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "ram/judge.hpp"
#include "ram/model.hpp"
#include "ram/objective.hpp"

namespace fs = std::filesystem;

namespace ram::plugin {

namespace {

#define RAM_STR2_(x) #x
#define RAM_STR_(x) RAM_STR2_(x)
constexpr const char* kEntry = RAM_STR_(RAM_PLUGIN_ENTRY);

// Libraries stay loaded for the life of the process (unloading first is the classic
// crash); objects additionally hold a reference through their deleter.
std::map<std::string, std::shared_ptr<boost::dll::shared_library>>& libraries() {
  static std::map<std::string, std::shared_ptr<boost::dll::shared_library>> libs;
  return libs;
}
std::mutex g_mutex;

std::optional<PluginKind> kind_from_string(const std::string& s) {
  if (s == "dataset") return PluginKind::dataset;
  if (s == "model") return PluginKind::model;
  if (s == "objective") return PluginKind::objective;
  if (s == "judge") return PluginKind::judge;
  return std::nullopt;
}

// "libram_dataset_jsonl.so" → {dataset, "jsonl"}; nullopt when the name does not fit.
std::optional<std::pair<PluginKind, std::string>> parse_file_name(const std::string& file) {
  const std::string pre = "libram_", suf = ".so";
  if (file.size() <= pre.size() + suf.size() || file.compare(0, pre.size(), pre) != 0 ||
      file.compare(file.size() - suf.size(), suf.size(), suf) != 0)
    return std::nullopt;
  std::string mid = file.substr(pre.size(), file.size() - pre.size() - suf.size());
  auto us = mid.find('_');
  if (us == std::string::npos || us + 1 >= mid.size()) return std::nullopt;
  auto kind = kind_from_string(mid.substr(0, us));
  if (!kind) return std::nullopt;
  return std::make_pair(*kind, mid.substr(us + 1));
}

std::shared_ptr<boost::dll::shared_library> open_library(const std::string& path) {
  auto& libs = libraries();
  if (auto it = libs.find(path); it != libs.end()) return it->second;
  try {
    auto lib = std::make_shared<boost::dll::shared_library>(
        path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    libs.emplace(path, lib);
    return lib;
  } catch (const std::exception& e) {
    throw PluginError("cannot load plugin library: " + std::string(e.what()), path,
                      "rebuild the plugin against this ram, or remove the file from the plugin path");
  }
}

const PluginDescriptor* descriptor_of(boost::dll::shared_library& lib, const std::string& path) {
  if (!lib.has(kEntry))
    throw PluginError(std::string("not a ram plugin: no '") + kEntry + "' entry point", path,
                      "export one with RAM_DATASET_PLUGIN / RAM_MODEL_PLUGIN / ... from ram/plugin.hpp");
  auto fn = lib.get_alias<const PluginDescriptor*()>(kEntry);
  const PluginDescriptor* d = fn();
  if (!d) throw PluginError("plugin returned no descriptor", path);
  return d;
}

}  // namespace

Registry& Registry::instance() {
  static Registry r;
  return r;
}

std::vector<std::string> Registry::search_path() const {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("RAM_PLUGIN_PATH"); env && *env) {
    std::stringstream ss(env);
    std::string d;
    while (std::getline(ss, d, ':'))
      if (!d.empty()) dirs.push_back(d);
  }
  std::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (!ec) dirs.push_back((fs::path(exe.string()).parent_path().parent_path() / "lib/ram/plugins").string());
#ifdef RAM_BUILD_PLUGIN_DIR
  dirs.push_back(RAM_BUILD_PLUGIN_DIR);
#endif
  // Drop duplicates (the installed and build locations can coincide), keep order.
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& d : dirs) {
    std::error_code e2;
    auto canon = fs::weakly_canonical(d, e2).string();
    if (seen.insert(e2 ? d : canon).second) out.push_back(e2 ? d : canon);
  }
  return out;
}

PluginInfo Registry::check_file(const std::string& path) {
  auto parsed = parse_file_name(fs::path(path).filename().string());
  auto lib = open_library(path);
  const PluginDescriptor* d = descriptor_of(*lib, path);
  // The ABI version is the first field and is read before anything else.
  if (d->abi_version != kAbiVersion)
    throw PluginError("plugin ABI " + std::to_string(d->abi_version) + ", this ram: " +
                          std::to_string(kAbiVersion),
                      path, "rebuild the plugin against this ram (find_package(ram) " RAM_VERSION_STRING ")");
  if (d->descriptor_size < sizeof(PluginDescriptor))
    throw PluginError("plugin descriptor has " + std::to_string(d->descriptor_size) +
                          " bytes, this ram needs " + std::to_string(sizeof(PluginDescriptor)),
                      path, "rebuild the plugin against this ram");
  PluginInfo info{d->kind, d->name ? d->name : "", d->version ? d->version : "",
                  d->summary ? d->summary : "", path, d->build_id ? d->build_id : ""};
  if (info.build_id != RAM_BUILD_ID)
    throw PluginError("plugin build id '" + info.build_id + "', this ram: '" RAM_BUILD_ID "'", path,
                      "rebuild the plugin with the same ram, LibTorch and compiler");
  if (!kind_from_string(to_string(d->kind)))
    throw PluginError("plugin declares unknown kind " + std::to_string(static_cast<int>(d->kind)), path);
  if (parsed && (parsed->first != d->kind || parsed->second != info.name))
    throw PluginError(std::string("file name says ") + to_string(parsed->first) + " '" + parsed->second +
                          "' but the plugin declares " + to_string(d->kind) + " '" + info.name + "'",
                      path, "name the file libram_<kind>_<name>.so after its descriptor");
  if (!d->factory) throw PluginError("plugin has no factory", path);
  return info;
}

void Registry::rescan() {
  std::lock_guard<std::mutex> lock(g_mutex);
  scanned_ = false;
  plugins_.clear();
  candidates_.clear();
}

const std::vector<PluginInfo>& Registry::plugins() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (scanned_) return plugins_;
  std::set<std::pair<int, std::string>> taken;
  for (const auto& dir : search_path()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (auto& entry : fs::directory_iterator(dir, ec))
      if (parse_file_name(entry.path().filename().string())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      Candidate c{file.string(), {}};
      try {
        PluginInfo info = check_file(c.path);
        if (!taken.insert({static_cast<int>(info.kind), info.name}).second) {
          auto first = std::find_if(plugins_.begin(), plugins_.end(), [&](const PluginInfo& p) {
            return p.kind == info.kind && p.name == info.name;
          });
          c.problem = "shadowed by " + first->path + " (earlier on the search path)";
        } else {
          plugins_.push_back(info);
        }
      } catch (const Error& e) {
        c.problem = e.what_part();
      }
      candidates_.push_back(c);
    }
  }
  scanned_ = true;
  return plugins_;
}

const std::vector<Candidate>& Registry::candidates() {
  plugins();
  return candidates_;
}

void* Registry::factory(PluginKind kind, const std::string& name, std::shared_ptr<void>& lib_ref) {
  const auto& found = plugins();
  for (const auto& p : found) {
    if (p.kind != kind || p.name != name) continue;
    auto lib = open_library(p.path);
    lib_ref = lib;
    return descriptor_of(*lib, p.path)->factory;
  }
  // Not usable: a candidate with that exact name that failed its checks says why.
  std::string file = std::string("libram_") + to_string(kind) + "_" + name + ".so";
  for (const auto& c : candidates_)
    if (fs::path(c.path).filename() == file && !c.problem.empty())
      throw PluginError(std::string(to_string(kind)) + " plugin '" + name + "' is unusable: " + c.problem,
                        c.path, "rebuild it against this ram");
  std::vector<std::string> names;
  for (const auto& p : found)
    if (p.kind == kind) names.push_back(p.name);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  std::string dirs;
  for (const auto& d : search_path()) dirs += (dirs.empty() ? "" : ":") + d;
  std::string hint = "available " + std::string(to_string(kind)) + " plugins: " +
                     (list.empty() ? std::string("none") : list);
  if (auto near = nearest(name, names); !near.empty()) hint += "; did you mean '" + near + "'?";
  hint += "; add directories with RAM_PLUGIN_PATH";
  throw PluginError(std::string("no ") + to_string(kind) + " plugin named '" + name + "'",
                    "searched " + dirs, hint);
}

namespace {
template <class T, class Factory>
std::shared_ptr<T> make(void* fp, std::shared_ptr<void> lib, const ConfigView& cfg) {
  auto f = reinterpret_cast<Factory>(fp);
  std::unique_ptr<T> obj = f(cfg);
  if (!obj) throw PluginError("plugin factory returned nothing");
  // The deleter holds the library: the object's code stays mapped as long as it lives.
  return std::shared_ptr<T>(obj.release(), [lib](T* p) { delete p; });
}
}  // namespace

std::shared_ptr<Dataset> Registry::make_dataset(const std::string& name, const ConfigView& cfg) {
  std::shared_ptr<void> lib;
  void* f = factory(PluginKind::dataset, name, lib);
  return make<Dataset, DatasetFactory>(f, lib, cfg);
}
std::shared_ptr<CausalLM> Registry::make_model(const std::string& name, const ConfigView& cfg) {
  std::shared_ptr<void> lib;
  void* f = factory(PluginKind::model, name, lib);
  return make<CausalLM, ModelFactory>(f, lib, cfg);
}
std::shared_ptr<Objective> Registry::make_objective(const std::string& name, const ConfigView& cfg) {
  std::shared_ptr<void> lib;
  void* f = factory(PluginKind::objective, name, lib);
  return make<Objective, ObjectiveFactory>(f, lib, cfg);
}
std::shared_ptr<Judge> Registry::make_judge(const std::string& name, const ConfigView& cfg) {
  std::shared_ptr<void> lib;
  void* f = factory(PluginKind::judge, name, lib);
  return make<Judge, JudgeFactory>(f, lib, cfg);
}

}  // namespace ram::plugin
