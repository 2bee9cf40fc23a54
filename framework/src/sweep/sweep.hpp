// sweep/sweep.hpp — `ram sweep SWEEP.yaml`: a grid of overrides → one run directory per
// point, a manifest, and one Slurm job array whose task i runs point i (slurm/sweep.sbatch).
//
// SWEEP.yaml:
//   name: alpha_lr              the sweep's directory: <runs>/<name>/
//   experiment: smoke           base experiment (a name under configs/experiment/ or a path)
//   verb: pipeline              what each point runs: pipeline (all stages) | train | sample |
//                               generate | eval (slurm/lib.sh; train always with resume=true)
//   set: ["k=v", …]             overrides for every point (before the grid's)
//   grid:                       the Cartesian product, keys in file order, the LAST varying
//     loss.alpha: [1.0e-5, 1.0e-4]   fastest; values are YAML (written as in the file)
//     lr: [1.0e-7, 2.0e-7]
//   max_parallel: 8             array tasks running at once (--array=…%M); 0: no limit
//   sbatch: ["--time=12:00:00"] extra sbatch flags for the array job
//   runs: runs                  root of the run directories (default: $RAM_RUNS or runs)
//
// Layout under <runs>/<name>/ (the sweep directory):
//   manifest.json / manifest.csv   point id → index, values, overrides, run dir, job id, state
//   points/<index>.args            the point's command for sweep.sbatch, one word per line
//                                  (verb, experiment, overrides … run_dir=<point dir>)
//   <id>/                          the point's run directory (run_dir=…); <id>/STATE is
//                                  written by slurm/lib.sh: running | completed | failed RC |
//                                  requeued
//   logs/                          the array tasks' Slurm output files
// Point ids are p000, p001, … in grid order (index = array task id).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ram::sweep {

struct Axis {
  std::string key;
  std::vector<std::string> values;  // YAML text of each value
};

struct Spec {
  std::string file;                // the SWEEP.yaml read
  std::string name, experiment, verb = "pipeline", runs;
  std::vector<std::string> set, sbatch;
  std::vector<Axis> grid;
  int max_parallel = 8;
};

struct Point {
  int index = 0;
  std::string id;                                       // p000, …
  std::vector<std::pair<std::string, std::string>> values;  // swept key → value, grid order
  std::vector<std::string> overrides;                   // set + grid + run_dir=…
  std::string run_dir;
  std::string job_id;                                   // "<array>_<index>" once submitted
  std::string state = "planned";                        // planned | submitted | running | …
};

struct Manifest {
  Spec spec;
  std::string dir;                 // <runs>/<name>
  std::vector<Point> points;
};

// Reads and checks SWEEP.yaml (ConfigError naming file and key on a problem).
Spec load_spec(const std::string& path);
// The grid's points, in order, with their overrides and run directories.
Manifest plan(const Spec& spec);
// manifest.json + manifest.csv (atomic: temp file, then rename); points/<i>.args.
void write_manifest(const Manifest& m);
// Reads <dir>/manifest.json (DataError if absent or malformed).
Manifest read_manifest(const std::string& dir);
// Refreshes each point's state from <run_dir>/STATE (lib.sh), keeping "submitted" while
// the file is absent.
void refresh_states(Manifest& m);
// The plan / status as a table, one line per point.
std::string format_points(const Manifest& m);

// Submits an array job for the given point indices (all when empty): runs sbatch with
// `--array=<list>%<max_parallel>` and slurm/sweep.sbatch <sweep dir>; records job ids and
// "submitted" in the manifest. `slurm_dir` holds sweep.sbatch; `extra` are more sbatch
// flags (after the spec's). Returns the array job id. dry_run: prints the sbatch command
// and changes nothing on disk except the manifest and points/ (job ids stay empty).
std::string submit(Manifest& m, const std::vector<int>& indices, const std::string& slurm_dir,
                   const std::vector<std::string>& extra, bool dry_run, std::string* command_out);

// A shell word, single-quoted when it needs quoting.
std::string shell_quote(const std::string& s);

}  // namespace ram::sweep
