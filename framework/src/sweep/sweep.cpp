// sweep/sweep.cpp — see sweep.hpp.
#include "sweep/sweep.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "ram/error.hpp"

namespace ram::sweep {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::string yaml_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsNull()) return "null";
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

std::vector<std::string> string_list(const YAML::Node& n, const std::string& file, const std::string& key) {
  std::vector<std::string> out;
  if (!n) return out;
  if (!n.IsSequence()) throw ConfigError(key + " must be a list of strings", file + ": " + key, "e.g. " + key + ": [\"k=v\"]");
  for (const auto& x : n) out.push_back(yaml_text(x));
  return out;
}

void write_atomic(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << text;
    if (!f) throw Error("cannot write " + tmp.string(), "sweep", "check disk space and permissions");
  }
  fs::rename(tmp, p);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

}  // namespace

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,/:%@") ==
                        std::string::npos)
    return s;
  std::string o = "'";
  for (char c : s) o += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

Spec load_spec(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError("cannot read the sweep file " + path, path, "check the path");
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("malformed YAML: ") + e.what(), path, "fix the sweep file");
  }
  if (!root.IsMap()) throw ConfigError("a sweep file is a mapping (name, experiment, grid, …)", path, "see sweep/sweep.hpp");
  static const std::set<std::string> known{"name", "experiment", "verb", "set", "grid", "max_parallel", "sbatch", "runs"};
  for (const auto& kv : root) {
    const auto k = kv.first.as<std::string>();
    if (!known.count(k))
      throw ConfigError("unknown key '" + k + "'", path + ": " + k,
                        "use name, experiment, verb, set, grid, max_parallel, sbatch, runs");
  }
  Spec s;
  s.file = path;
  auto req = [&](const char* k) {
    if (!root[k] || !root[k].IsScalar() || root[k].Scalar().empty())
      throw ConfigError(std::string("missing '") + k + "'", path + ": " + k, std::string("set ") + k + ": …");
    return root[k].Scalar();
  };
  s.name = req("name");
  if (s.name.find('/') != std::string::npos || s.name == "." || s.name == "..")
    throw ConfigError("name '" + s.name + "' must be a plain directory name", path + ": name", "drop the slashes");
  s.experiment = req("experiment");
  if (root["verb"]) s.verb = req("verb");
  static const std::set<std::string> verbs{"pipeline", "train", "sample", "generate", "eval", "export"};
  if (!verbs.count(s.verb))
    throw ConfigError("verb '" + s.verb + "' is not one a point can run", path + ": verb",
                      "use pipeline, train, sample, generate, eval or export");
  s.set = string_list(root["set"], path, "set");
  s.sbatch = string_list(root["sbatch"], path, "sbatch");
  if (root["max_parallel"]) {
    try {
      s.max_parallel = root["max_parallel"].as<int>();
    } catch (const YAML::Exception&) {
      throw ConfigError("max_parallel must be an integer", path + ": max_parallel", "e.g. max_parallel: 8");
    }
    if (s.max_parallel < 0) throw ConfigError("max_parallel must be ≥ 0", path + ": max_parallel", "0 means no limit");
  }
  const char* env_runs = std::getenv("RAM_RUNS");
  s.runs = root["runs"] ? req("runs") : (env_runs && *env_runs ? env_runs : "runs");
  const YAML::Node g = root["grid"];
  if (!g || !g.IsMap() || g.size() == 0)
    throw ConfigError("missing or empty 'grid'", path + ": grid", "grid: {lr: [1e-7, 2e-7], loss.alpha: [1e-5, 1e-4]}");
  for (const auto& kv : g) {
    Axis a;
    a.key = kv.first.as<std::string>();
    if (a.key == "run_dir")
      throw ConfigError("run_dir cannot be swept: each point has its own", path + ": grid.run_dir", "remove it");
    if (!kv.second.IsSequence() || kv.second.size() == 0)
      throw ConfigError("grid." + a.key + " must be a non-empty list of values", path + ": grid." + a.key,
                        "e.g. " + a.key + ": [1, 2]");
    for (const auto& v : kv.second) a.values.push_back(yaml_text(v));
    s.grid.push_back(std::move(a));
  }
  return s;
}

Manifest plan(const Spec& spec) {
  Manifest m;
  m.spec = spec;
  m.dir = (fs::path(spec.runs) / spec.name).string();
  std::size_t n = 1;
  for (const auto& a : spec.grid) n *= a.values.size();
  if (n > 100000) throw ConfigError(fmt::format("the grid has {} points", n), spec.file + ": grid", "split the sweep");
  const int width = n > 1000 ? static_cast<int>(std::to_string(n - 1).size()) : 3;
  for (std::size_t i = 0; i < n; ++i) {
    Point p;
    p.index = static_cast<int>(i);
    p.id = fmt::format("p{:0{}}", i, width);
    p.run_dir = (fs::path(m.dir) / p.id).string();
    std::size_t rest = i;
    std::vector<std::pair<std::string, std::string>> vals(spec.grid.size());
    for (std::size_t k = spec.grid.size(); k-- > 0;) {  // last axis varies fastest
      const auto& a = spec.grid[k];
      vals[k] = {a.key, a.values[rest % a.values.size()]};
      rest /= a.values.size();
    }
    p.values = vals;
    p.overrides = spec.set;
    for (const auto& [k, v] : vals) p.overrides.push_back(k + "=" + v);
    p.overrides.push_back("run_dir=" + p.run_dir);
    m.points.push_back(std::move(p));
  }
  return m;
}

void write_manifest(const Manifest& m) {
  fs::create_directories(fs::path(m.dir) / "points");
  fs::create_directories(fs::path(m.dir) / "logs");
  Json j;
  j["name"] = m.spec.name;
  j["file"] = m.spec.file;
  j["experiment"] = m.spec.experiment;
  j["verb"] = m.spec.verb;
  j["set"] = m.spec.set;
  j["sbatch"] = m.spec.sbatch;
  j["max_parallel"] = m.spec.max_parallel;
  j["runs"] = m.spec.runs;
  Json grid = Json::array();
  for (const auto& a : m.spec.grid) grid.push_back({{"key", a.key}, {"values", a.values}});
  j["grid"] = grid;
  Json pts = Json::array();
  std::string csv = "id,index,run_dir,job_id,state";
  for (const auto& a : m.spec.grid) csv += "," + csv_field(a.key);
  csv += "\n";
  for (const auto& p : m.points) {
    Json v = Json::object();
    for (const auto& [k, x] : p.values) v[k] = x;
    pts.push_back({{"id", p.id}, {"index", p.index}, {"values", v}, {"overrides", p.overrides},
                   {"run_dir", p.run_dir}, {"job_id", p.job_id}, {"state", p.state}});
    csv += fmt::format("{},{},{},{},{}", p.id, p.index, csv_field(p.run_dir), p.job_id, p.state);
    for (const auto& kv : p.values) csv += "," + csv_field(kv.second);
    csv += "\n";
    std::string args = m.spec.verb + "\n" + m.spec.experiment + "\n";
    for (const auto& o : p.overrides) args += o + "\n";
    write_atomic(fs::path(m.dir) / "points" / (std::to_string(p.index) + ".args"), args);
  }
  j["points"] = pts;
  write_atomic(fs::path(m.dir) / "manifest.json", j.dump(2) + "\n");
  write_atomic(fs::path(m.dir) / "manifest.csv", csv);
}

Manifest read_manifest(const std::string& dir) {
  const fs::path p = fs::path(dir) / "manifest.json";
  std::ifstream f(p);
  if (!f) throw DataError("no sweep manifest " + p.string(), dir, "run `ram sweep SWEEP.yaml` first");
  Manifest m;
  m.dir = dir;
  try {
    Json j = Json::parse(f);
    m.spec.name = j.at("name");
    m.spec.file = j.value("file", "");
    m.spec.experiment = j.at("experiment");
    m.spec.verb = j.at("verb");
    m.spec.set = j.at("set").get<std::vector<std::string>>();
    m.spec.sbatch = j.at("sbatch").get<std::vector<std::string>>();
    m.spec.max_parallel = j.at("max_parallel");
    m.spec.runs = j.at("runs");
    for (const auto& a : j.at("grid")) m.spec.grid.push_back({a.at("key"), a.at("values").get<std::vector<std::string>>()});
    for (const auto& q : j.at("points")) {
      Point pt;
      pt.id = q.at("id");
      pt.index = q.at("index");
      for (const auto& a : m.spec.grid) pt.values.emplace_back(a.key, q.at("values").at(a.key).get<std::string>());
      pt.overrides = q.at("overrides").get<std::vector<std::string>>();
      pt.run_dir = q.at("run_dir");
      pt.job_id = q.at("job_id");
      pt.state = q.at("state");
      m.points.push_back(std::move(pt));
    }
  } catch (const std::exception& e) {
    throw DataError(std::string("malformed sweep manifest: ") + e.what(), p.string(),
                    "rewrite it with `ram sweep SWEEP.yaml --dry-run` (keeps the run directories)");
  }
  return m;
}

void refresh_states(Manifest& m) {
  for (auto& p : m.points) {
    std::ifstream f(fs::path(p.run_dir) / "STATE");
    std::string word;
    if (f >> word) p.state = word;
  }
}

std::string format_points(const Manifest& m) {
  std::size_t wr = 7, wj = 6;
  for (const auto& p : m.points) {
    wr = std::max(wr, p.run_dir.size());
    wj = std::max(wj, p.job_id.size());
  }
  std::string out = fmt::format("{:<6} {:<{}} {:<{}} {:<10}", "point", "run dir", wr, "job id", wj, "state");
  for (const auto& a : m.spec.grid) out += "  " + a.key;
  out += "\n";
  for (const auto& p : m.points) {
    out += fmt::format("{:<6} {:<{}} {:<{}} {:<10}", p.id, p.run_dir, wr, p.job_id.empty() ? "-" : p.job_id, wj, p.state);
    for (const auto& kv : p.values) out += "  " + kv.second;
    out += "\n";
  }
  return out;
}

std::string submit(Manifest& m, const std::vector<int>& indices, const std::string& slurm_dir,
                   const std::vector<std::string>& extra, bool dry_run, std::string* command_out) {
  std::vector<int> idx = indices;
  if (idx.empty())
    for (const auto& p : m.points) idx.push_back(p.index);
  std::string list;
  for (std::size_t k = 0; k < idx.size(); ++k) list += (k ? "," : "") + std::to_string(idx[k]);
  if (idx.size() > 1 && static_cast<int>(idx.back()) - idx.front() + 1 == static_cast<int>(idx.size()))
    list = fmt::format("{}-{}", idx.front(), idx.back());  // contiguous: 0-N
  if (m.spec.max_parallel > 0) list += "%" + std::to_string(m.spec.max_parallel);
  const fs::path script = fs::path(slurm_dir) / "sweep.sbatch";
  if (!fs::is_regular_file(script))
    throw ConfigError("no " + script.string(), "RAM_HOME", "set RAM_HOME to the framework checkout (it holds slurm/)");
  const std::string dir_abs = fs::absolute(m.dir).string();
  std::vector<std::string> words{"sbatch", "--parsable", "--array=" + list, "--job-name=ram-sweep-" + m.spec.name,
                                 "--output=" + dir_abs + "/logs/%a-%A.out"};
  for (const auto& f : m.spec.sbatch) words.push_back(f);
  for (const auto& f : extra) words.push_back(f);
  words.push_back(script.string());
  words.push_back(dir_abs);
  std::string cmd;
  for (const auto& w : words) cmd += (cmd.empty() ? "" : " ") + shell_quote(w);
  if (command_out) *command_out = cmd;
  if (dry_run) return {};
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) throw Error("cannot run sbatch", "ram sweep", "is Slurm's sbatch on PATH?");
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  const int rc = pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (rc != 0 || out.empty())
    throw Error("sbatch failed: " + out, cmd, "check the sbatch flags (sweep file `sbatch:`) and that Slurm is reachable");
  const std::string job = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  const std::string array_id = job.substr(0, job.find(';'));
  if (array_id.empty() || array_id.find_first_not_of("0123456789") != std::string::npos)
    throw Error("sbatch printed '" + out + "', not a job id", cmd, "check the sbatch output");
  for (int i : idx) {
    auto& p = m.points[static_cast<std::size_t>(i)];
    p.job_id = array_id + "_" + std::to_string(i);
    p.state = "submitted";
    std::error_code ec;
    fs::remove(fs::path(p.run_dir) / "STATE", ec);  // a resubmitted point starts afresh
  }
  write_manifest(m);
  return array_id;
}

}  // namespace ram::sweep
