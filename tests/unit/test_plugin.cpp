// Plugin discovery and checks: real plugins load; broken ones are refused with both values.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "dist/dist.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "ram/objective.hpp"
#include "test_util.hpp"

using ram::plugin::Registry;

namespace {

std::string broken(const std::string& name) {
  return std::string(RAM_BROKEN_PLUGIN_DIR) + "/libram_dataset_" + name + ".so";
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ram::PluginError& e) {
    return e.what();
  }
  return "<no PluginError>";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(Plugin, BuiltInPluginsAreFoundOnTheSearchPath) {
  Registry::instance().rescan();
  bool jsonl = false, sft = false;
  for (const auto& p : Registry::instance().plugins()) {
    if (p.kind == ram::PluginKind::dataset && p.name == "jsonl") jsonl = true;
    if (p.kind == ram::PluginKind::objective && p.name == "sft") sft = true;
    EXPECT_EQ(p.build_id, RAM_BUILD_ID) << p.path;
  }
  EXPECT_TRUE(jsonl);
  EXPECT_TRUE(sft);
}

TEST(Plugin, AbiMismatchNamesFileAndBothVersions) {
  auto msg = error_of([] { Registry::instance().check_file(broken("bad_abi")); });
  EXPECT_TRUE(has(msg, "plugin ABI 999, this ram: " + std::to_string(ram::kAbiVersion))) << msg;
  EXPECT_TRUE(has(msg, "libram_dataset_bad_abi.so")) << msg;
}

TEST(Plugin, BuildIdMismatchIsRefused) {
  auto msg = error_of([] { Registry::instance().check_file(broken("bad_build")); });
  EXPECT_TRUE(has(msg, "build id 'ram 0.0.0")) << msg;
  EXPECT_TRUE(has(msg, RAM_BUILD_ID)) << msg;
}

TEST(Plugin, KindInFileNameMustMatchDescriptor) {
  auto msg = error_of([] { Registry::instance().check_file(broken("liar")); });
  EXPECT_TRUE(has(msg, "file name says dataset 'liar' but the plugin declares objective 'liar'")) << msg;
}

TEST(Plugin, NotAPluginLibraryIsRefused) {
  // A shared library without the entry point (LibTorch's c10 is one).
  auto msg = error_of([] { Registry::instance().check_file("/usr/lib/x86_64-linux-gnu/libc10.so"); });
  EXPECT_TRUE(has(msg, "not a ram plugin")) << msg;
}

TEST(Plugin, MissingPluginListsWhatExistsAndSuggests) {
  Registry::instance().rescan();
  auto msg = error_of([] { Registry::instance().make_dataset("jsnol", ram::ConfigView()); });
  EXPECT_TRUE(has(msg, "no dataset plugin named 'jsnol'")) << msg;
  EXPECT_TRUE(has(msg, "searched ")) << msg;
  EXPECT_TRUE(has(msg, "available dataset plugins: ")) << msg;
  EXPECT_TRUE(has(msg, "did you mean 'jsonl'?")) << msg;
}

TEST(Plugin, BrokenPluginOnSearchPathExplainsWhyItIsUnusable) {
  std::string old = ram::test::env_or("RAM_PLUGIN_PATH", "");
  setenv("RAM_PLUGIN_PATH", RAM_BROKEN_PLUGIN_DIR, 1);
  Registry::instance().rescan();
  auto msg = error_of([] { Registry::instance().make_dataset("bad_abi", ram::ConfigView()); });
  setenv("RAM_PLUGIN_PATH", old.c_str(), 1);
  Registry::instance().rescan();
  EXPECT_TRUE(has(msg, "dataset plugin 'bad_abi' is unusable: plugin ABI 999")) << msg;
}

TEST(Plugin, ObjectsKeepTheirLibraryAlive) {
  auto obj = Registry::instance().make_objective("sft", ram::ConfigView());
  ASSERT_TRUE(obj);
  // Dropping the registry's view of the world must not invalidate a live object.
  Registry::instance().rescan();
  EXPECT_FALSE(obj->describe().empty());
  EXPECT_FALSE(obj->needs_reference());
}

TEST(Plugin, CliListsPluginsOnTwoRanks) {
  if (ram::dist::rank() != 0) return;
  auto r = ram::test::run("mpirun -np 2 --oversubscribe " + ram::test::ram_bin() + " plugins");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "dataset")) << r.output;
  EXPECT_TRUE(has(r.output, "jsonl")) << r.output;
  EXPECT_TRUE(has(r.output, "sft")) << r.output;
  EXPECT_TRUE(has(r.output, "(2 ranks)")) << r.output;
}
