// `ram report RUN_DIR… [--out DIR] [--metric NAME]` — the runs' (or sweeps' points')
// parameters and metrics as report.csv, report.md and report.png (sweep/report.hpp).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "ram/error.hpp"
#include "sweep/report.hpp"

namespace {

struct ReportArgs {
  std::vector<std::string> dirs;
  std::string out, metric;
};

void run_report(const ReportArgs& a) {
  if (!ram::dist::is_root()) return;
  auto r = ram::sweep::gather(a.dirs);
  std::string metric = a.metric.empty() ? ram::sweep::default_metric(r) : a.metric;
  if (!a.metric.empty() && std::find(r.metric_keys.begin(), r.metric_keys.end(), metric) == r.metric_keys.end()) {
    std::string have;
    for (const auto& k : r.metric_keys) have += (have.empty() ? "" : ", ") + k;
    throw ram::ConfigError("no run has the metric '" + metric + "'", "--metric",
                           "pick one of: " + (have.empty() ? std::string("(none found)") : have));
  }
  std::string out = a.out;
  if (out.empty())
    out = (std::filesystem::path(a.dirs.front()) / "report").string();
  std::string note;
  auto files = ram::sweep::write_report(r, out, metric, &note);
  std::cout << ram::sweep::to_markdown(r, metric);
  for (const auto& f : files) std::cout << "wrote " << f << "\n";
  if (!note.empty()) ram::log::warn("report: {}", note);
  std::cout << std::flush;
}

}  // namespace

RAM_VERB(report) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report", "gather runs' metrics into a table (CSV, markdown) and a PNG plot");
  cmd->add_option("RUN_DIR", a->dirs, "run directories, or sweep directories (holding manifest.json)")->required();
  cmd->add_option("--out", a->out, "output directory (default: <first RUN_DIR>/report)");
  cmd->add_option("--metric", a->metric, "the metric to plot (default: the first eval/…, else train/eval/loss, train/loss)");
  cmd->callback([a] { run_report(*a); });
}
