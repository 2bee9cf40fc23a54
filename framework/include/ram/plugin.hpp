// ram/plugin.hpp — what a plugin exports: one versioned descriptor, through one macro.
//
//   // my_dataset.cpp
//   #include <ram/plugin.hpp>
//   #include <ram/dataset.hpp>
//   class MyDataset : public ram::Dataset { public: explicit MyDataset(const ram::ConfigView&); ... };
//   RAM_DATASET_PLUGIN("my_dataset", "1.0.0", "one line on what it reads", MyDataset)
//
// The loader reads the descriptor's first field (abi_version) before anything else and
// refuses a mismatch; then kind, then the build id (ram version, LibTorch version,
// compiler, C++ ABI), because factories return C++ objects across the library boundary.
// The descriptor is append-only: new fields go at the end, descriptor_size tells which
// fields a plugin has.
#pragma once

#include <cstdint>
#include <memory>

#include <boost/dll/alias.hpp>
#include <torch/csrc/api/include/torch/version.h>

#include "ram/version.hpp"

namespace ram {

class ConfigView;
class Dataset;
class CausalLM;
class Objective;
class Judge;

// Bump when the descriptor or any interface in ram/ changes incompatibly.
inline constexpr std::uint32_t kAbiVersion = 1;

enum class PluginKind : std::uint32_t { dataset = 1, model = 2, objective = 3, judge = 4 };
const char* to_string(PluginKind kind);

#define RAM_STRINGIFY_(x) #x
#define RAM_STRINGIFY(x) RAM_STRINGIFY_(x)
#if defined(__clang__)
#define RAM_COMPILER_ID "clang " RAM_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define RAM_COMPILER_ID "gcc " RAM_STRINGIFY(__GNUC__)
#else
#define RAM_COMPILER_ID "unknown-compiler"
#endif
// Compiled into each plugin and into the runtime; they must agree byte for byte.
#define RAM_BUILD_ID                                                                  \
  "ram " RAM_VERSION_STRING "; torch " RAM_STRINGIFY(TORCH_VERSION_MAJOR) "."          \
      RAM_STRINGIFY(TORCH_VERSION_MINOR) "; " RAM_COMPILER_ID "; cxx11abi "           \
      RAM_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)

struct PluginDescriptor {
  std::uint32_t abi_version;      // first, always
  std::uint32_t descriptor_size;  // sizeof(PluginDescriptor) as the plugin saw it
  PluginKind kind;
  const char* name;       // [a-z0-9_]+, unique per kind
  const char* version;    // the plugin's own version, free-form
  const char* build_id;   // RAM_BUILD_ID as the plugin was compiled
  const char* summary;    // one line for `ram plugins`
  void* factory;          // kind-specific factory (below), as an untyped pointer
};

using DatasetFactory = std::unique_ptr<Dataset> (*)(const ConfigView&);
using ModelFactory = std::unique_ptr<CausalLM> (*)(const ConfigView&);
using ObjectiveFactory = std::unique_ptr<Objective> (*)(const ConfigView&);
using JudgeFactory = std::unique_ptr<Judge> (*)(const ConfigView&);

}  // namespace ram

// The exported alias every plugin library has; the loader looks it up by this name.
#define RAM_PLUGIN_ENTRY ram_plugin_descriptor_v1

#define RAM_PLUGIN_(KIND, IFACE, NAME, VERSION, SUMMARY, CLASS)                       \
  namespace {                                                                          \
  std::unique_ptr<::ram::IFACE> ram_plugin_factory_(const ::ram::ConfigView& cfg) {    \
    return std::unique_ptr<::ram::IFACE>(new CLASS(cfg));                              \
  }                                                                                    \
  const ::ram::PluginDescriptor ram_plugin_descriptor_value_{                          \
      ::ram::kAbiVersion, sizeof(::ram::PluginDescriptor), ::ram::PluginKind::KIND,    \
      NAME, VERSION, RAM_BUILD_ID, SUMMARY,                                            \
      reinterpret_cast<void*>(&ram_plugin_factory_)};                                  \
  const ::ram::PluginDescriptor* ram_plugin_descriptor_fn_() {                         \
    return &ram_plugin_descriptor_value_;                                              \
  }                                                                                    \
  }                                                                                    \
  BOOST_DLL_ALIAS(ram_plugin_descriptor_fn_, RAM_PLUGIN_ENTRY)

#define RAM_DATASET_PLUGIN(NAME, VERSION, SUMMARY, CLASS) \
  RAM_PLUGIN_(dataset, Dataset, NAME, VERSION, SUMMARY, CLASS)
#define RAM_MODEL_PLUGIN(NAME, VERSION, SUMMARY, CLASS) \
  RAM_PLUGIN_(model, CausalLM, NAME, VERSION, SUMMARY, CLASS)
#define RAM_OBJECTIVE_PLUGIN(NAME, VERSION, SUMMARY, CLASS) \
  RAM_PLUGIN_(objective, Objective, NAME, VERSION, SUMMARY, CLASS)
#define RAM_JUDGE_PLUGIN(NAME, VERSION, SUMMARY, CLASS) \
  RAM_PLUGIN_(judge, Judge, NAME, VERSION, SUMMARY, CLASS)
