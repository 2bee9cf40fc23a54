// `ram sweep SWEEP.yaml [--dry-run] [--status] [--only ID…] [--failed] [--sbatch-arg F…]` —
// a grid of overrides submitted as one Slurm job array, one run directory per point and a
// manifest (sweep/sweep.hpp). Runs on one process (no ranks); needs sbatch unless --dry-run.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/verbs.hpp"
#include "config/compose.hpp"
#include "dist/dist.hpp"
#include "ram/error.hpp"
#include "sweep/sweep.hpp"

namespace {

namespace fs = std::filesystem;

struct SweepArgs {
  std::string file;
  bool dry_run = false, status = false, failed = false;
  std::vector<std::string> only, sbatch_args;
  std::string ram_home;
};

// slurm/ of the framework checkout: --ram-home, $RAM_HOME, else next to the configs.
std::string slurm_dir(const SweepArgs& a) {
  std::string home = a.ram_home;
  if (home.empty())
    if (const char* e = std::getenv("RAM_HOME"); e && *e) home = e;
  if (home.empty()) home = fs::path(ram::config::default_config_dir()).parent_path().string();
  return (fs::path(home) / "slurm").string();
}

void run_sweep(const SweepArgs& a) {
  if (!ram::dist::is_root()) return;
  auto spec = ram::sweep::load_spec(a.file);
  auto m = ram::sweep::plan(spec);
  // Every point's configuration must compose here, before anything is submitted (a typo in
  // a key must not surface in a job an hour later).
  for (const auto& p : m.points) {
    std::vector<std::string> words{spec.experiment};
    words.insert(words.end(), p.overrides.begin(), p.overrides.end());
    try {
      (void)ram::config::compose(ram::config::options_from_args(words));
    } catch (const ram::Error& e) {
      throw ram::ConfigError("point " + p.id + " does not compose: " + e.what_part() + " (" + e.where() + ")", a.file,
                             e.hint().empty() ? "fix the sweep's set / grid" : e.hint());
    }
  }
  const bool exists = fs::exists(fs::path(m.dir) / "manifest.json");
  if (exists) {
    auto old = ram::sweep::read_manifest(m.dir);
    if (old.points.size() != m.points.size())
      throw ram::ConfigError("the sweep directory " + m.dir + " holds another grid (" + std::to_string(old.points.size()) +
                                 " points, now " + std::to_string(m.points.size()) + ")",
                             a.file + ": name", "give the sweep a new name, or remove " + m.dir);
    for (std::size_t i = 0; i < m.points.size(); ++i) {
      if (old.points[i].overrides != m.points[i].overrides)
        throw ram::ConfigError("the sweep directory " + m.dir + " holds another grid (point " + m.points[i].id +
                                   " differs)",
                               a.file + ": name", "give the sweep a new name, or remove " + m.dir);
      m.points[i].job_id = old.points[i].job_id;
      m.points[i].state = old.points[i].state;
    }
    ram::sweep::refresh_states(m);
  }
  if (a.status) {
    if (!exists) throw ram::DataError("the sweep was never submitted", m.dir, "run `ram sweep " + a.file + "`");
    ram::sweep::write_manifest(m);
    std::cout << ram::sweep::format_points(m) << std::flush;
    return;
  }
  std::vector<int> idx;
  if (!a.only.empty() || a.failed) {
    if (!exists) throw ram::DataError("--only / --failed need a submitted sweep", m.dir, "run `ram sweep " + a.file + "` first");
    for (const auto& id : a.only) {
      int found = -1;
      for (const auto& p : m.points)
        if (p.id == id || std::to_string(p.index) == id) found = p.index;
      if (found < 0)
        throw ram::ConfigError("no point '" + id + "' in the sweep", "--only",
                               "use a point id (p003) or index from `ram sweep " + a.file + " --status`");
      idx.push_back(found);
    }
    if (a.failed)
      for (const auto& p : m.points)
        if (p.state == "failed" && std::find(idx.begin(), idx.end(), p.index) == idx.end()) idx.push_back(p.index);
    std::sort(idx.begin(), idx.end());
    if (idx.empty()) {
      ram::log::info("sweep {}: no point to resubmit (none failed)", spec.name);
      return;
    }
  } else if (exists && !a.dry_run) {
    for (const auto& p : m.points)
      if (!p.job_id.empty())
        throw ram::ConfigError("the sweep " + spec.name + " was already submitted (job " + p.job_id + ")", m.dir,
                               "see `ram sweep " + a.file + " --status`; resubmit points with --only ID… or --failed");
  }
  if (!a.dry_run) ram::sweep::write_manifest(m);  // points/*.args must exist before sbatch
  std::string cmd;
  const auto job = ram::sweep::submit(m, idx, slurm_dir(a), a.sbatch_args, a.dry_run, &cmd);
  if (a.dry_run) {
    std::cout << "sweep " << spec.name << ": " << (idx.empty() ? m.points.size() : idx.size()) << " of "
              << m.points.size() << " points, experiment " << spec.experiment << ", verb " << spec.verb << ", in "
              << m.dir << "\n"
              << ram::sweep::format_points(m) << "would run: " << cmd << "\n";
    for (const auto& p : m.points) {
      if (!idx.empty() && std::find(idx.begin(), idx.end(), p.index) == idx.end()) continue;
      std::cout << "  " << p.id << ": ram " << spec.verb << " " << spec.experiment;
      for (const auto& o : p.overrides) std::cout << " " << ram::sweep::shell_quote(o);
      std::cout << (spec.verb == "train" ? " resume=true" : "") << "\n";
    }
    std::cout << std::flush;
    return;
  }
  std::cout << "sweep " << spec.name << ": array job " << job << " (" << (idx.empty() ? m.points.size() : idx.size())
            << " points) — manifest " << (fs::path(m.dir) / "manifest.json").string() << "\n"
            << ram::sweep::format_points(m) << std::flush;
}

}  // namespace

RAM_VERB(sweep) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand("sweep", "submit a grid of runs as one Slurm job array (sweep file: sweep/sweep.hpp)");
  cmd->add_option("SWEEP", a->file, "the sweep file (YAML: name, experiment, verb, set, grid, max_parallel, sbatch)")
      ->required();
  cmd->add_flag("--dry-run", a->dry_run, "print the points and the sbatch command; submit nothing");
  cmd->add_flag("--status", a->status, "print each point's job id and state (from <run_dir>/STATE)");
  cmd->add_option("--only", a->only, "resubmit these points alone (ids like p003, or indices)");
  cmd->add_flag("--failed", a->failed, "resubmit every point whose state is failed");
  cmd->add_option("--sbatch-arg", a->sbatch_args, "one more sbatch flag (repeatable), e.g. --sbatch-arg=--time=60");
  cmd->add_option("--ram-home", a->ram_home, "the framework checkout holding slurm/ (default: $RAM_HOME)");
  cmd->callback([a] { run_sweep(*a); });
}
