// sweep/report.cpp — see report.hpp.
#include "sweep/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ram/error.hpp"
#include "sweep/sweep.hpp"

namespace ram::sweep {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

void flatten(const Json& j, const std::string& prefix, std::map<std::string, double>& out) {
  if (j.is_number()) {
    out[prefix] = j.get<double>();
  } else if (j.is_boolean()) {
    out[prefix] = j.get<bool>() ? 1.0 : 0.0;
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  }
}

bool is_run_dir(const fs::path& d) {
  if (fs::exists(d / "train" / "metrics.jsonl") || fs::exists(d / "STATE") || fs::exists(d / "metrics.json")) return true;
  std::error_code ec;
  for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory() && fs::exists(it->path() / "metrics.json")) return true;
  return false;
}

std::map<std::string, double> run_metrics(const fs::path& d) {
  std::map<std::string, double> m;
  std::ifstream f(d / "train" / "metrics.jsonl");
  std::string line;
  Json last_step, last_eval;
  while (std::getline(f, line)) {
    try {
      Json j = Json::parse(line);
      (j.value("eval", false) ? last_eval : last_step) = j;
    } catch (...) {  // a line cut by a kill
    }
  }
  if (last_step.is_object()) {
    for (auto it = last_step.begin(); it != last_step.end(); ++it)
      if (it.value().is_number()) m["train/" + it.key()] = it.value().get<double>();
  }
  if (last_eval.is_object()) {
    for (auto it = last_eval.begin(); it != last_eval.end(); ++it)
      if (it.value().is_number() && it.key().rfind("eval/", 0) == 0) m["train/" + it.key()] = it.value().get<double>();
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
    if (it.depth() > 2) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->path().filename() != "metrics.json") continue;
    std::ifstream jf(it->path());
    try {
      Json j = Json::parse(jf);
      const std::string prefix = fs::relative(it->path().parent_path(), d).generic_string();
      flatten(j, prefix == "." ? "" : prefix, m);
    } catch (const std::exception& e) {
      throw DataError(std::string("malformed metrics.json: ") + e.what(), it->path().string(),
                      "rerun the stage that wrote it");
    }
  }
  return m;
}

std::string state_of(const fs::path& d) {
  std::ifstream f(d / "STATE");
  std::string w;
  return (f >> w) ? w : "";
}

std::string num(double v) {
  if (!std::isfinite(v)) return fmt::format("{}", v);
  return fmt::format("{:.6g}", v);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

// Draws report.png from report.csv: one panel per swept parameter, the metric against the
// parameter's values (log axis when positive numbers span ≥ 100×), every point plus the mean
// per value. Exit 3 when matplotlib is missing.
const char* kPlotScript = R"PY(
import csv, math, sys
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit(3)
path, metric, out = sys.argv[1], sys.argv[2], sys.argv[3]
params = sys.argv[4:]
rows = list(csv.DictReader(open(path, encoding="utf-8")))
def fnum(s):
    try:
        return float(s)
    except ValueError:
        return None
if not params:
    params = ["run"]
fig, axes = plt.subplots(1, len(params), figsize=(4.2 * len(params), 3.6), squeeze=False)
for ax, p in zip(axes[0], params):
    pts = [(r[p], fnum(r.get(metric, ""))) for r in rows]
    pts = [(x, y) for x, y in pts if y is not None]
    xs = [fnum(x) for x, _ in pts]
    numeric = pts and all(x is not None for x in xs)
    if numeric:
        xv = xs
        if all(x > 0 for x in xv) and max(xv) / min(xv) >= 100:
            ax.set_xscale("log")
    else:
        cats = sorted({x for x, _ in pts})
        xv = [cats.index(x) for x, _ in pts]
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(cats, rotation=20)
    ys = [y for _, y in pts]
    ax.scatter(xv, ys, s=24, alpha=0.7)
    means = {}
    for x, y in zip(xv, ys):
        means.setdefault(x, []).append(y)
    mx = sorted(means)
    ax.plot(mx, [sum(means[x]) / len(means[x]) for x in mx], "-o", color="C1", label="mean")
    ax.set_xlabel(p)
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.suptitle(f"{metric} vs swept parameters ({len(rows)} runs)")
fig.tight_layout()
fig.savefig(out, dpi=110)
)PY";

}  // namespace

Report gather(const std::vector<std::string>& dirs) {
  Report r;
  std::set<std::string> metric_set;
  auto add_param = [&](const std::string& k) {
    if (std::find(r.param_keys.begin(), r.param_keys.end(), k) == r.param_keys.end()) r.param_keys.push_back(k);
  };
  for (const auto& dir : dirs) {
    const fs::path d(dir);
    if (fs::exists(d / "manifest.json")) {
      Manifest m = read_manifest(dir);
      refresh_states(m);
      for (const auto& a : m.spec.grid) add_param(a.key);
      for (const auto& p : m.points) {
        ReportRow row;
        row.run = p.run_dir;
        row.point = p.id;
        row.state = p.state;
        for (const auto& [k, v] : p.values) row.params[k] = v;
        if (fs::is_directory(p.run_dir)) row.metrics = run_metrics(p.run_dir);
        r.rows.push_back(std::move(row));
      }
    } else if (fs::is_directory(d) && is_run_dir(d)) {
      ReportRow row;
      row.run = dir;
      row.point = d.filename().string();
      row.state = state_of(d);
      row.metrics = run_metrics(d);
      r.rows.push_back(std::move(row));
    } else {
      throw DataError("not a run directory nor a sweep (no manifest.json, train/metrics.jsonl or */metrics.json)",
                      dir, "pass run directories (runs/<name>) or sweep directories (runs/<sweep>)");
    }
  }
  for (const auto& row : r.rows)
    for (const auto& kv : row.metrics) metric_set.insert(kv.first);
  r.metric_keys.assign(metric_set.begin(), metric_set.end());
  return r;
}

std::string default_metric(const Report& r) {
  for (const auto& k : r.metric_keys)
    if (k.rfind("eval/", 0) == 0) return k;
  for (const char* k : {"train/eval/loss", "train/loss"})
    if (std::find(r.metric_keys.begin(), r.metric_keys.end(), k) != r.metric_keys.end()) return k;
  return r.metric_keys.empty() ? "" : r.metric_keys.front();
}

std::string to_csv(const Report& r) {
  std::string out = "run,point,state";
  for (const auto& k : r.param_keys) out += "," + csv_field(k);
  for (const auto& k : r.metric_keys) out += "," + csv_field(k);
  out += "\n";
  for (const auto& row : r.rows) {
    out += csv_field(row.run) + "," + csv_field(row.point) + "," + csv_field(row.state);
    for (const auto& k : r.param_keys) out += "," + csv_field(row.params.count(k) ? row.params.at(k) : "");
    for (const auto& k : r.metric_keys) out += "," + (row.metrics.count(k) ? num(row.metrics.at(k)) : "");
    out += "\n";
  }
  return out;
}

std::string to_markdown(const Report& r, const std::string& metric) {
  // The plotted metric first, then the rest; rows in the runs' order.
  // Timings (seconds, rates, time/…) stay in the CSV only: the table is for comparing runs.
  auto timing = [](const std::string& k) {
    return k.find("time/") != std::string::npos || k.find("seconds") != std::string::npos ||
           k.find("_per_s") != std::string::npos;
  };
  std::vector<std::string> cols;
  if (!metric.empty()) cols.push_back(metric);
  for (const auto& k : r.metric_keys)
    if (k != metric && !timing(k)) cols.push_back(k);
  std::string out = "| run | state |";
  for (const auto& k : r.param_keys) out += " " + k + " |";
  for (const auto& k : cols) out += " " + k + " |";
  out += "\n|---|---|";
  for (std::size_t i = 0; i < r.param_keys.size() + cols.size(); ++i) out += "---:|";
  out += "\n";
  for (const auto& row : r.rows) {
    out += "| " + row.point + " | " + (row.state.empty() ? "-" : row.state) + " |";
    for (const auto& k : r.param_keys) out += " " + (row.params.count(k) ? row.params.at(k) : "") + " |";
    for (const auto& k : cols) out += " " + (row.metrics.count(k) ? num(row.metrics.at(k)) : "") + " |";
    out += "\n";
  }
  return out;
}

std::vector<std::string> write_report(const Report& r, const std::string& out_dir, const std::string& metric,
                                      std::string* note) {
  fs::create_directories(out_dir);
  std::vector<std::string> files;
  auto put = [&](const std::string& name, const std::string& text) {
    const fs::path p = fs::path(out_dir) / name;
    std::ofstream f(p, std::ios::trunc);
    f << text;
    if (!f) throw Error("cannot write " + p.string(), "ram report", "check disk space and permissions");
    files.push_back(p.string());
  };
  const std::string csv = to_csv(r);
  put("report.csv", csv);
  put("report.md", "# Report: " + (metric.empty() ? std::string("no metrics") : metric) + "\n\n" + to_markdown(r, metric));
  if (metric.empty()) {
    if (note) *note = "no metrics found: no plot";
    return files;
  }
  const fs::path script = fs::path(out_dir) / ".plot_report.py";
  {
    std::ofstream f(script, std::ios::trunc);
    f << kPlotScript;
  }
  const fs::path png = fs::path(out_dir) / "report.png";
  std::string args = " " + shell_quote(script.string()) + " " + shell_quote((fs::path(out_dir) / "report.csv").string()) +
                     " " + shell_quote(metric) + " " + shell_quote(png.string());
  for (const auto& k : r.param_keys) args += " " + shell_quote(k);
  // The first interpreter that has matplotlib: $RAM_PYTHON, python3 on PATH (may be a
  // virtualenv's), then Debian's /usr/bin/python3 (python3-matplotlib).
  std::vector<std::string> pythons;
  if (const char* e = std::getenv("RAM_PYTHON"); e && *e) pythons.emplace_back(e);
  pythons.emplace_back("python3");
  pythons.emplace_back("/usr/bin/python3");
  int code = -1;
  for (const auto& py : pythons) {
    const int rc = std::system((shell_quote(py) + args + " 2>&1").c_str());
    code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    if (code != 3 && code != 127) break;  // 3: no matplotlib there; 127: no such interpreter
  }
  std::error_code ec;
  fs::remove(script, ec);
  if (code == 0 && fs::exists(png)) {
    files.push_back(png.string());
  } else if (note) {
    *note = (code == 3 || code == 127) ? "no PNG: no python3 with matplotlib (apt-get install python3-matplotlib)"
                      : fmt::format("no PNG: the plot script failed (exit {})", code);
  }
  return files;
}

}  // namespace ram::sweep
