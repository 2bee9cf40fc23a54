// Config: the strict view (getters, required keys, finish), composition (defaults,
// experiment, overrides, interpolation) and the `ram config` verb. Oracles: hand-written
// expected values and messages, the fixture's known line numbers, and YAML round trips.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <sstream>

#include <gtest/gtest.h>

#include "config/compose.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using ram::ConfigError;
using ram::ConfigView;
using ram::config::ComposeOptions;
using ram::config::compose;
using ram::config::parse_yaml;

namespace {

std::string fixture_dir() { return ram::test::source_dir() + "/tests/unit/fixtures/config"; }

ConfigView view_of(const std::string& yaml, const std::string& file = "x.yaml") {
  return ConfigView(parse_yaml(yaml, file));
}

// The message of the ConfigError `f` throws; fails the test when it throws nothing.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

ram::config::Resolved compose_fixture(std::vector<std::string> overrides,
                                      const std::string& experiment = {}) {
  ComposeOptions o;
  o.config_dir = fixture_dir();
  o.experiment = experiment;
  o.overrides = std::move(overrides);
  return compose(o);
}

}  // namespace

// ------------------------------------------------------------------ view: getters

TEST(ConfigView, GettersReadYamlCoreKinds) {
  auto v = view_of(
      "s: hello\nq: \"5\"\nb: true\nB: FALSE\ni: -42\nbig: 9000000000\nd: 2.5e-3\n"
      "di: 3\ninf: -.inf\nnan: .nan\nss: [a, \"b c\"]\nis: [1, -2]\nds: [1, 0.5]\n");
  EXPECT_EQ(v.get<std::string>("s"), "hello");
  EXPECT_EQ(v.get<std::string>("q"), "5");
  EXPECT_EQ(v.get<std::string>("i"), "-42");  // any scalar reads as text
  EXPECT_TRUE(v.get<bool>("b"));
  EXPECT_FALSE(v.get<bool>("B"));
  EXPECT_EQ(v.get<int>("i"), -42);
  EXPECT_EQ(v.get<std::int64_t>("big"), 9000000000LL);
  EXPECT_DOUBLE_EQ(v.get<double>("d"), 2.5e-3);
  EXPECT_DOUBLE_EQ(v.get<double>("di"), 3.0);
  EXPECT_FLOAT_EQ(v.get<float>("d"), 2.5e-3f);
  EXPECT_TRUE(std::isinf(v.get<double>("inf")) && v.get<double>("inf") < 0);
  EXPECT_TRUE(std::isnan(v.get<double>("nan")));
  EXPECT_EQ(v.get<std::vector<std::string>>("ss"), (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(v.get<std::vector<std::int64_t>>("is"), (std::vector<std::int64_t>{1, -2}));
  EXPECT_EQ(v.get<std::vector<double>>("ds"), (std::vector<double>{1.0, 0.5}));
}

TEST(ConfigView, ScalarKindFollowsYamlCoreSchema) {
  auto kind = [](const std::string& text) { return parse_yaml("k: " + text, "x")->map[0].second->scalar_kind(); };
  EXPECT_EQ(kind("1"), "int");
  EXPECT_EQ(kind("+1"), "int");
  EXPECT_EQ(kind("1.5"), "float");
  EXPECT_EQ(kind("1e5"), "float");
  EXPECT_EQ(kind(".5"), "float");
  EXPECT_EQ(kind(".inf"), "float");
  EXPECT_EQ(kind("true"), "bool");
  EXPECT_EQ(kind("yes"), "string");  // YAML 1.1's yes is not a bool in 1.2
  EXPECT_EQ(kind("'1'"), "string");
  EXPECT_EQ(kind("~"), "null");
  EXPECT_EQ(kind("1.2.3"), "string");
  EXPECT_EQ(kind("0x1F"), "string");
}

TEST(ConfigView, IntOnTextNamesKeyFileLineAndType) {
  auto v = view_of("model:\n  name: x\n  layers: abc\n  ratio: 1.5\n  flag: yes\n", "configs/m.yaml");
  std::string m = error_of([&] { v.child("model").get<std::int64_t>("layers"); });
  EXPECT_NE(m.find("'model.layers'"), std::string::npos) << m;
  EXPECT_NE(m.find("configs/m.yaml:3"), std::string::npos) << m;
  EXPECT_NE(m.find("an int"), std::string::npos) << m;
  m = error_of([&] { v.get<int>("model.ratio"); });
  EXPECT_NE(m.find("'model.ratio' must be an int, got float '1.5'"), std::string::npos) << m;
  EXPECT_NE(m.find("configs/m.yaml:4"), std::string::npos) << m;
  m = error_of([&] { v.get<bool>("model.flag"); });
  EXPECT_NE(m.find("'model.flag' must be a bool"), std::string::npos) << m;
  m = error_of([&] { v.get<double>("model.name"); });
  EXPECT_NE(m.find("a number"), std::string::npos) << m;
  m = error_of([&] { v.get<std::vector<std::int64_t>>("model.layers"); });
  EXPECT_NE(m.find("a sequence"), std::string::npos) << m;
}

TEST(ConfigView, QuotedNumberIsAString) {
  auto v = view_of("n: '12'\n");
  EXPECT_THROW(v.get<int>("n"), ConfigError);
  EXPECT_EQ(v.get<std::string>("n"), "12");
}

TEST(ConfigView, RequiredMarkerNamesKeyAndHowToSetIt) {
  auto v = view_of("dataset:\n  path: ???\n", "c.yaml");
  EXPECT_EQ(error_of([&] { v.child("dataset").get<std::string>("path"); }),
            "key dataset.path is required (c.yaml:2); set it with dataset.path=<value>");
  EXPECT_THROW(v.get<std::string>("dataset.path", "fallback"), ConfigError);
  EXPECT_TRUE(v.has("dataset.path"));
}

TEST(ConfigView, FallbackOnAbsentOrNullButNotOnWrongType) {
  auto v = view_of("a: null\nb: 3\n");
  EXPECT_EQ(v.get<int>("a", 7), 7);
  EXPECT_EQ(v.get<int>("missing", 8), 8);
  EXPECT_EQ(v.get<int>("b", 9), 3);
  EXPECT_THROW(v.get<bool>("b", false), ConfigError);
  EXPECT_FALSE(v.has("a"));
  EXPECT_FALSE(v.has("missing"));
  EXPECT_TRUE(v.has("b"));
  EXPECT_THROW(v.get<int>("missing"), ConfigError);
  ConfigView empty;
  EXPECT_EQ(empty.get<std::string>("x", "d"), "d");
  EXPECT_TRUE(empty.keys().empty());
}

TEST(ConfigView, ChildKeysDottedAndWhere) {
  auto v = view_of("a:\n  b:\n    c: 1\n  d: 2\n", "w.yaml");
  ConfigView b = v.child("a").child("b");
  EXPECT_EQ(b.path(), "a.b");
  EXPECT_EQ(b.dotted("c"), "a.b.c");
  EXPECT_EQ(b.get<int>("c"), 1);
  EXPECT_EQ(v.child("a").keys(), (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ(v.where("a.d").str(), "w.yaml:4");
  EXPECT_EQ(b.where("c").str(), "w.yaml:3");
  EXPECT_TRUE(v.child("nope").keys().empty());
  EXPECT_THROW(v.child("a.d"), ConfigError);  // a scalar is not a map
  EXPECT_EQ(ram::SourceLoc{}.str(), "<code>");
  EXPECT_EQ((ram::SourceLoc{"command line", 0}.str()), "command line");
}

// ------------------------------------------------------------------ view: finish

TEST(ConfigView, FinishNamesTypoWithNearestAskedKey) {
  auto v = view_of("dataset:\n  name: jsonl\n  promt_key: q\n", "configs/x.yaml");
  ConfigView d = v.child("dataset");
  d.get<std::string>("name");
  d.get<std::string>("prompt_key", "prompt");  // asked for, absent: a candidate
  EXPECT_EQ(error_of([&] { v.finish(); }),
            "unknown key 'dataset.promt_key' (configs/x.yaml:3); did you mean 'dataset.prompt_key'?");
}

TEST(ConfigView, FinishListsEveryUnreadKeyAndWholeMaps) {
  auto v = view_of("a: 1\nb: 2\nsub:\n  x: 1\n  y: 2\nunread_map:\n  k: 1\n", "f.yaml");
  v.get<int>("a");
  v.child("sub").get<int>("x");
  std::string m = error_of([&] { v.finish(); });
  EXPECT_NE(m.find("3 unknown keys"), std::string::npos) << m;
  EXPECT_NE(m.find("'b' (f.yaml:2"), std::string::npos) << m;
  EXPECT_NE(m.find("'sub.y' (f.yaml:5"), std::string::npos) << m;
  EXPECT_NE(m.find("'unread_map' (f.yaml:6"), std::string::npos) << m;
  EXPECT_EQ(m.find("unread_map.k"), std::string::npos) << m;  // one entry for the whole map
  EXPECT_EQ(m.find("'a'"), std::string::npos) << m;
}

TEST(ConfigView, FinishPassesWhenEverythingWasRead) {
  auto usage = std::make_shared<ram::ConfigUsage>();
  ConfigView v(parse_yaml("a: 1\nsub:\n  x: 1\nopaque:\n  anything: 1\n", "x"), "", usage);
  v.get<int>("a");
  v.get<int>("sub.x");  // a dotted key marks its prefix too
  EXPECT_THROW(v.finish(), ConfigError);  // 'opaque' unread
  usage->mark("opaque.*");  // a map consumed wholesale
  EXPECT_NO_THROW(v.finish());
}

TEST(ConfigView, ChildFinishCoversOnlyItsSubtree) {
  auto v = view_of("a: 1\nsub:\n  x: 1\n");
  ConfigView sub = v.child("sub");
  sub.get<int>("x");
  EXPECT_NO_THROW(sub.finish());
  EXPECT_THROW(v.finish(), ConfigError);  // 'a' unread at the root
}

TEST(ConfigView, EditDistanceAndNearest) {
  EXPECT_EQ(ram::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(ram::edit_distance("", "abc"), 3u);
  EXPECT_EQ(ram::edit_distance("same", "same"), 0u);
  EXPECT_EQ(ram::nearest("promt_key", {"name", "prompt_key", "chosen_key"}), "prompt_key");
  EXPECT_EQ(ram::nearest("zzz", {"prompt_key", "name"}), "");
  // max(2, len/3): 12 letters allow 4 edits.
  EXPECT_EQ(ram::nearest("abcdefghijkl", {"abcdefghwxyz"}), "abcdefghwxyz");
  EXPECT_EQ(ram::nearest("abcdefghijkl", {"abcdefgvwxyz"}), "");
}

// ------------------------------------------------------------------ view: to_yaml

TEST(ConfigView, ToYamlRoundTripsValuesAndKinds) {
  std::string text =
      "a: 1\nb: \"1\"\nc: \"\\n\\nHuman\"\nd: ???\ne: null\nf: [1, x, \"2\"]\n"
      "g:\n  h: 2.5\n  i: []\n  j: {}\nk:\n  - name: one\n    v: 1\n  - [1, 2]\n"
      "l: \"a: b # c\"\nm: \"\"\nn: 'yes'\no: ' padded '\n";
  auto first = parse_yaml(text, "t");
  std::string yaml = ConfigView(first).to_yaml();
  auto second = parse_yaml(yaml, "t2");
  std::function<void(const ram::ConfigNode&, const ram::ConfigNode&, const std::string&)> same;
  same = [&](const ram::ConfigNode& x, const ram::ConfigNode& y, const std::string& at) {
    ASSERT_EQ(x.type, y.type) << at << "\n" << yaml;
    if (x.type == ram::ConfigNode::Type::scalar) {
      EXPECT_EQ(x.scalar, y.scalar) << at;
      EXPECT_EQ(x.scalar_kind(), y.scalar_kind()) << at << "\n" << yaml;
    }
    ASSERT_EQ(x.map.size(), y.map.size()) << at;
    for (std::size_t i = 0; i < x.map.size(); ++i) {
      EXPECT_EQ(x.map[i].first, y.map[i].first);
      same(*x.map[i].second, *y.map[i].second, at + "." + x.map[i].first);
    }
    ASSERT_EQ(x.seq.size(), y.seq.size()) << at;
    for (std::size_t i = 0; i < x.seq.size(); ++i) same(*x.seq[i], *y.seq[i], at + "[]");
  };
  same(*first, *second, "");
  EXPECT_NE(yaml.find("d: ???\n"), std::string::npos) << yaml;
}

// ------------------------------------------------------------------ compose

TEST(ConfigCompose, DefaultsPutGroupFilesUnderTheirKeysAndSelfWins) {
  auto r = compose_fixture({"data_path=/d"});
  auto v = r.view();
  EXPECT_EQ(v.get<std::string>("model.name"), "tiny");
  EXPECT_EQ(v.get<int>("model.hidden"), 8);
  EXPECT_DOUBLE_EQ(v.get<double>("model.dropout"), 0.1);  // config.yaml's own key wins
  EXPECT_EQ(v.get<std::string>("loss.name"), "sft");
  EXPECT_EQ(v.get<std::string>("run_dir"), "runs/fixture");
  EXPECT_EQ(v.where("model.hidden").str(), fixture_dir() + "/model/tiny.yaml:3");
  EXPECT_EQ(v.where("model.dropout").str(), fixture_dir() + "/config.yaml:15");
  EXPECT_EQ(v.where("data_path").str(), "command line");
  EXPECT_EQ(r.root->find("defaults"), nullptr);
  ASSERT_GE(r.sources.size(), 3u);
  EXPECT_EQ(r.sources[0], fixture_dir() + "/config.yaml");
}

TEST(ConfigCompose, ExperimentSwitchesGroupAndOverridesKeys) {
  auto r = compose_fixture({"steps=30", "lr=1"}, "exp1");
  auto v = r.view();
  EXPECT_EQ(v.get<std::string>("loss.name"), "ram_sft");
  EXPECT_DOUBLE_EQ(v.get<double>("loss.alpha"), 1e-3);
  EXPECT_EQ(v.get<int>("model.hidden"), 16);
  EXPECT_EQ(v.get<int>("model.layers"), 2);  // deep merge keeps the rest
  EXPECT_EQ(v.get<int>("steps"), 30);        // command line beats the experiment
  EXPECT_DOUBLE_EQ(v.get<double>("lr"), 1.0);  // an int may replace a float
  EXPECT_EQ(v.get<std::string>("notes"), "an added key");
  EXPECT_EQ(v.get<std::string>("run_dir"), "runs/exp1");  // interpolated after merging
  EXPECT_EQ(v.where("model.hidden").str(), fixture_dir() + "/experiment/exp1.yaml:6");
  // An experiment given as a path works the same.
  auto p = compose_fixture({}, fixture_dir() + "/experiment/exp1.yaml");
  EXPECT_EQ(p.view().get<std::string>("name"), "exp1");
}

TEST(ConfigCompose, GroupSwitchFromCommandLineAndExperiment) {
  auto r = compose_fixture({"model=big", "loss=ram_sft"});
  EXPECT_EQ(r.view().get<int>("model.hidden"), 64);
  EXPECT_EQ(r.view().get<std::string>("loss.name"), "ram_sft");
  auto s = compose_fixture({}, "switch");
  EXPECT_EQ(s.view().get<std::string>("model.name"), "big");
  auto t = compose_fixture({"model=tiny"}, "switch");  // the command line wins
  EXPECT_EQ(t.view().get<std::string>("model.name"), "tiny");
  auto u = compose_fixture({"~loss"});
  EXPECT_EQ(u.root->find("loss"), nullptr);
}

TEST(ConfigCompose, MissingGroupFileListsTheGroup) {
  std::string m = error_of([] { compose_fixture({"model=bigg"}); });
  EXPECT_NE(m.find("no config 'bigg' in group 'model'"), std::string::npos) << m;
  EXPECT_NE(m.find("big, tiny"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'big'?"), std::string::npos) << m;
  m = error_of([] { compose_fixture({}, "exp_nope"); });
  EXPECT_NE(m.find("no experiment 'exp_nope'"), std::string::npos) << m;
  EXPECT_NE(m.find("exp1"), std::string::npos) << m;
}

TEST(ConfigCompose, PlusAddsTildeDeletes) {
  auto r = compose_fixture({"+model.extra_layer=3", "+brand_new.x=[1,2]", "~tag", "++seed=5", "++fresh=1"});
  auto v = r.view();
  EXPECT_EQ(v.get<int>("model.extra_layer"), 3);
  EXPECT_EQ(v.get<std::vector<std::int64_t>>("brand_new.x"), (std::vector<std::int64_t>{1, 2}));
  EXPECT_FALSE(v.has("tag"));
  EXPECT_EQ(v.get<int>("seed"), 5);
  EXPECT_EQ(v.get<int>("fresh"), 1);
  std::string m = error_of([] { compose_fixture({"+seed=1"}); });
  EXPECT_NE(m.find("key 'seed' already exists"), std::string::npos) << m;
}

TEST(ConfigCompose, UnknownOverrideNamesKeySourceAndNearest) {
  std::string m = error_of([] { compose_fixture({"model.hiden=3"}); });
  EXPECT_NE(m.find("unknown key 'model.hiden'"), std::string::npos) << m;
  EXPECT_NE(m.find("(command line)"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'model.hidden'?"), std::string::npos) << m;
  EXPECT_NE(m.find("+model.hiden=<value>"), std::string::npos) << m;
}

TEST(ConfigCompose, UnknownExperimentKeyNamesFileLine) {
  std::string m = error_of([] { compose_fixture({}, "typo"); });
  EXPECT_NE(m.find("unknown key 'model.hiden'"), std::string::npos) << m;
  EXPECT_NE(m.find(fixture_dir() + "/experiment/typo.yaml:3"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'model.hidden'?"), std::string::npos) << m;
}

TEST(ConfigCompose, KindMismatchIsAnError) {
  std::string m = error_of([] { compose_fixture({}, "kind"); });
  EXPECT_NE(m.find("key 'steps' is an int (" + fixture_dir() + "/config.yaml:9)"), std::string::npos) << m;
  EXPECT_NE(m.find("string 'many'"), std::string::npos) << m;
  EXPECT_NE(m.find("kind.yaml:2"), std::string::npos) << m;
  EXPECT_THROW(compose_fixture({"lr=abc"}), ConfigError);
  EXPECT_THROW(compose_fixture({"steps=1.5"}), ConfigError);  // float may not replace int
  EXPECT_THROW(compose_fixture({"use_cache=1"}), ConfigError);
  EXPECT_THROW(compose_fixture({"model=[1]", "model.hidden=[1]"}), ConfigError);
  EXPECT_THROW(compose_fixture({"stop=x"}), ConfigError);  // a sequence needs a sequence
  EXPECT_THROW(compose_fixture({"model.hidden={a: 1}"}), ConfigError);
  // Allowed: base string takes any scalar; base null and ??? take anything.
  auto r = compose_fixture({"tag=5", "extra={k: 1}", "data_path=[a]", "stop=[a, b]", "steps=null"});
  EXPECT_EQ(r.view().get<std::string>("tag"), "5");
  EXPECT_EQ(r.view().get<int>("extra.k"), 1);
  EXPECT_EQ(r.view().get<int>("steps", -1), -1);
}

TEST(ConfigCompose, InterpolatesEnvKeysAndDetectsCycles) {
  std::string dir = ram::test::temp_dir("config-interp");
  ram::test::write_file(dir + "/config.yaml",
                        "a: ${env:RAM_TEST_CFG_A}\n"
                        "b: ${env:RAM_TEST_CFG_UNSET_B,7}\n"
                        "c: pre-${a}-${b}\n"
                        "d: ${sub}\n"
                        "sub:\n  x: ${b}\n"
                        "e: ${env:RAM_TEST_CFG_UNSET_B,${a}}\n");
  setenv("RAM_TEST_CFG_A", "hello", 1);
  unsetenv("RAM_TEST_CFG_UNSET_B");
  ComposeOptions o;
  o.config_dir = dir;
  auto r = compose(o);
  auto v = r.view();
  EXPECT_EQ(v.get<std::string>("a"), "hello");
  EXPECT_EQ(v.get<int>("b"), 7);  // an env default keeps YAML's reading
  EXPECT_EQ(v.get<std::string>("c"), "pre-hello-7");
  EXPECT_EQ(v.get<int>("d.x"), 7);  // a whole subtree copied
  EXPECT_EQ(v.get<std::string>("e"), "hello");

  unsetenv("RAM_TEST_CFG_A");
  std::string m = error_of([&] { compose(o); });
  EXPECT_NE(m.find("key 'a': environment variable RAM_TEST_CFG_A is not set"), std::string::npos) << m;
  EXPECT_NE(m.find(dir + "/config.yaml:1"), std::string::npos) << m;

  ram::test::write_file(dir + "/config.yaml", "a: ${b}\nb: x${c}\nc: ${a}\n");
  m = error_of([&] { compose(o); });
  EXPECT_NE(m.find("interpolation cycle"), std::string::npos) << m;
  ram::test::write_file(dir + "/config.yaml", "m:\n  self: ${m}\n");
  EXPECT_THROW(compose(o), ConfigError);
  ram::test::write_file(dir + "/config.yaml", "name: x\nrun: ${nmae}\n");
  m = error_of([&] { compose(o); });
  EXPECT_NE(m.find("did you mean 'name'?"), std::string::npos) << m;
  EXPECT_NE(m.find("config.yaml:2"), std::string::npos) << m;
}

TEST(ConfigCompose, SelfFirstLetsGroupsWin) {
  std::string dir = ram::test::temp_dir("config-self");
  fs::create_directories(dir + "/g");
  ram::test::write_file(dir + "/config.yaml", "defaults:\n  - _self_\n  - g: one\ng:\n  v: 1\n");
  ram::test::write_file(dir + "/g/one.yaml", "v: 2\n");
  ComposeOptions o;
  o.config_dir = dir;
  EXPECT_EQ(compose(o).view().get<int>("g.v"), 2);
  ram::test::write_file(dir + "/config.yaml", "defaults:\n  - g: one\ng:\n  v: 1\n");
  EXPECT_EQ(compose(o).view().get<int>("g.v"), 1);
}

TEST(ConfigCompose, BadYamlNamesFileAndLine) {
  std::string dir = ram::test::temp_dir("config-bad");
  ram::test::write_file(dir + "/config.yaml", "a: 1\nb: [1, 2\nc: 3\n");
  ComposeOptions o;
  o.config_dir = dir;
  std::string m = error_of([&] { compose(o); });
  EXPECT_NE(m.find("invalid YAML"), std::string::npos) << m;
  EXPECT_NE(m.find(dir + "/config.yaml:"), std::string::npos) << m;
  ram::test::write_file(dir + "/config.yaml", "a: 1\na: 2\n");
  m = error_of([&] { compose(o); });
  EXPECT_NE(m.find("duplicate key 'a' (" + dir + "/config.yaml:2)"), std::string::npos) << m;
}

TEST(ConfigCompose, ResolvedYamlReloadsToTheSameValues) {
  auto r = compose_fixture({"data_path=/data/x.jsonl"}, "exp1");
  std::string dir = ram::test::temp_dir("config-yaml");
  ram::test::write_file(dir + "/resolved.yaml", r.yaml());
  auto again = ram::config::load_file(dir + "/resolved.yaml");
  EXPECT_EQ(again.yaml(), r.yaml());
  EXPECT_EQ(again.view().get<std::vector<std::string>>("stop"), (std::vector<std::string>{"\n\nHuman"}));
  EXPECT_DOUBLE_EQ(again.view().get<double>("loss.alpha"), 1e-3);
}

TEST(ConfigCompose, OptionsFromArgsSplitsExperimentAndOverrides) {
  auto o = ram::config::options_from_args({"smoke", "a=1", "+b=2", "~c"});
  EXPECT_EQ(o.experiment, "smoke");
  EXPECT_EQ(o.overrides, (std::vector<std::string>{"a=1", "+b=2", "~c"}));
  EXPECT_THROW(ram::config::options_from_args({"one", "two"}), ConfigError);
}

// ------------------------------------------------------------------ the shipped configs/

namespace {
// Keys still holding ??? after composition.
void required_keys(const ram::ConfigNode& n, const std::string& path, std::vector<std::string>& out) {
  if (n.is_required_marker()) out.push_back(path);
  for (auto& [k, v] : n.map)
    if (v) required_keys(*v, path.empty() ? k : path + "." + k, out);
}
}  // namespace

TEST(ConfigShipped, EveryExperimentComposes) {
  std::string dir = ram::test::source_dir() + "/configs";
  std::vector<std::string> experiments{""};  // the base config alone too
  for (auto& f : fs::directory_iterator(dir + "/experiment"))
    if (f.path().extension() == ".yaml") experiments.push_back(f.path().stem().string());
  ASSERT_GE(experiments.size(), 2u);
  for (auto& exp : experiments) {
    ComposeOptions o;
    o.config_dir = dir;
    o.experiment = exp;
    ram::config::Resolved r;
    ASSERT_NO_THROW(r = compose(o)) << exp;
    std::vector<std::string> required;
    required_keys(*r.root, "", required);
    for (auto& k : required) o.overrides.push_back(k + "=/placeholder");
    ASSERT_NO_THROW(r = compose(o)) << exp;
    std::vector<std::string> left;
    required_keys(*r.root, "", left);
    EXPECT_TRUE(left.empty()) << exp;
    EXPECT_NE(r.yaml().find("seed: 0"), std::string::npos) << exp;
  }
}

TEST(ConfigShipped, DefaultConfigDirFindsTheSourceTree) {
  unsetenv("RAM_CONFIG_DIR");
  std::string dir = ram::config::default_config_dir();
  EXPECT_TRUE(fs::exists(dir + "/config.yaml")) << dir;
  setenv("RAM_CONFIG_DIR", fixture_dir().c_str(), 1);
  EXPECT_EQ(ram::config::default_config_dir(), fixture_dir());
  unsetenv("RAM_CONFIG_DIR");
}

// ------------------------------------------------------------------ the `ram config` verb

TEST(ConfigCli, PrintsResolvedYaml) {
  auto res = ram::test::run(ram::test::ram_bin() + " config exp1 --config-dir " + fixture_dir() +
                            " data_path=/d model=big 2>/dev/null");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto printed = parse_yaml(res.output, "stdout");
  ConfigView v(printed);
  EXPECT_EQ(v.get<std::string>("name"), "exp1");
  EXPECT_EQ(v.get<int>("model.hidden"), 16);
  EXPECT_EQ(v.get<int>("model.layers"), 4);
  EXPECT_EQ(v.get<std::string>("data_path"), "/d");
}

TEST(ConfigCli, TypoOverrideFailsWithOneLineAndSuggestion) {
  auto res = ram::test::run(ram::test::ram_bin() + " config --config-dir " + fixture_dir() +
                            " model.hiden=1");
  EXPECT_NE(res.exit_code, 0);
  std::istringstream lines(res.output);
  std::string line;
  int error_lines = 0;
  while (std::getline(lines, line)) {
    if (line.find("error") == std::string::npos) continue;
    ++error_lines;
    EXPECT_NE(line.find("model.hiden"), std::string::npos) << line;
    EXPECT_NE(line.find("did you mean 'model.hidden'?"), std::string::npos) << line;
  }
  EXPECT_EQ(error_lines, 1) << res.output;
}
