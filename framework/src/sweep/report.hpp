// sweep/report.hpp — `ram report RUN_DIR…`: the runs' (or a sweep's points') parameters and
// metrics in one table (report.csv, report.md) and a PNG plot (report.png: the chosen
// metric vs each swept parameter, one panel per parameter).
//
// A RUN_DIR that holds manifest.json (sweep/sweep.hpp) stands for all its points, with the
// swept values as parameters. Metrics of a run directory:
//   train/metrics.jsonl   its last step line → train/<key> (loss, grad_norm, lr, …), its last
//                         eval line → train/eval/<key>, and train/steps
//   */metrics.json        any stage's summary (e.g. eval/metrics.json): every number in it,
//                         flattened → <stage>/<key.path>
// Columns: run, point, state, the swept parameters, then the metrics (sorted; report.md
// leaves out timings and puts the plotted metric first). A missing
// value is empty. The plot is drawn by python3-matplotlib (Debian's package, installed by
// launch/bootstrap.sh) from report.csv; without it the report says so and writes no PNG.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ram::sweep {

struct ReportRow {
  std::string run, point, state;
  std::map<std::string, std::string> params;  // swept key → value text
  std::map<std::string, double> metrics;
};

struct Report {
  std::vector<std::string> param_keys;   // in grid order
  std::vector<std::string> metric_keys;  // sorted
  std::vector<ReportRow> rows;
};

// Gathers the rows (DataError when a directory holds no run nor manifest).
Report gather(const std::vector<std::string>& dirs);
// The metric plotted by default: eval/… first, then train/eval/loss, then train/loss.
std::string default_metric(const Report& r);
std::string to_csv(const Report& r);
std::string to_markdown(const Report& r, const std::string& metric);
// Writes report.csv, report.md and (matplotlib permitting) report.png into out_dir; returns
// the files written; `note` gets why the PNG is missing, if it is.
std::vector<std::string> write_report(const Report& r, const std::string& out_dir, const std::string& metric,
                                      std::string* note);

}  // namespace ram::sweep
