// `ram pipeline` (pipeline.hpp): compose each stage's config and run its verb in order.
#include "pipeline/pipeline.hpp"

#include <chrono>
#include <map>

#include <fmt/format.h>

#include <ram/error.hpp>

#include "dist/dist.hpp"
#include "log/log.hpp"
#include "platform/stop.hpp"

namespace ram::pipeline {

namespace {

std::map<std::string, StageFn>& verbs() {
  static std::map<std::string, StageFn> v;
  return v;
}

std::string known_verbs() {
  std::string s;
  for (const auto& [k, _] : verbs()) s += (s.empty() ? "" : ", ") + k;
  return s;
}

}  // namespace

void register_stage_verb(const std::string& verb, StageFn fn) { verbs()[verb] = std::move(fn); }

std::vector<StageReport> run(const config::ComposeOptions& base, const std::string& command) {
  const config::Resolved top = config::compose(base);
  ConfigView p = top.view().child("pipeline");
  const auto stages = p.get<std::vector<std::string>>("stages", {});
  if (stages.empty())
    throw ConfigError("the experiment lists no pipeline stages", p.where("stages").str(),
                      "set pipeline.stages, e.g. [sample, train, generate, eval]");
  // Check every stage before running any (a typo must not cost an hour of sampling).
  struct Plan {
    std::string name, verb;
    std::vector<std::string> set;
  };
  std::vector<Plan> plan;
  for (const auto& name : stages) {
    ConfigView s = p.child(name);
    if (!p.has(name))
      throw ConfigError("pipeline stage '" + name + "' is not defined", p.where("stages").str(),
                        "add pipeline." + name + ": {verb: ..., set: [...]} or remove it from pipeline.stages");
    Plan st{name, s.get<std::string>("verb"), s.get<std::vector<std::string>>("set", {})};
    s.finish();
    if (!verbs().count(st.verb))
      throw ConfigError("pipeline stage '" + name + "' names verb '" + st.verb + "', which cannot run as a stage",
                        s.where("verb").str(), "use one of: " + known_verbs());
    if (st.verb == "train") st.set.push_back("resume=true");
    plan.push_back(std::move(st));
  }

  std::vector<StageReport> reports;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const Plan& st = plan[i];
    config::ComposeOptions o = base;
    o.overrides = st.set;
    o.overrides.insert(o.overrides.end(), base.overrides.begin(), base.overrides.end());
    const config::Resolved cfg = config::compose(o);
    log::info("pipeline: stage {}/{} '{}' ({}){}{}", i + 1, plan.size(), st.name, st.verb,
              st.set.empty() ? "" : " with ", fmt::format("{}", fmt::join(st.set, " ")));
    log::debug("stage config:\n{}", cfg.yaml());
    const auto t0 = std::chrono::steady_clock::now();
    StageOutcome out = verbs().at(st.verb)(cfg, command + " [stage " + st.name + "]");
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    reports.push_back({st.name, st.verb, out.already_complete ? "complete" : "ran", dt, out.figures});
    log::info("pipeline: stage '{}' {} in {:.1f} s{}{}", st.name, out.already_complete ? "was already complete" : "done",
              dt, out.figures.empty() ? "" : ": ", out.figures);
    // SIGUSR1/SIGTERM (platform/stop.hpp; Slurm's time-limit warning or preemption): the
    // stage stopped at a checkpoint / its part files. End here, on every rank alike (the
    // signal may have reached only some), so that the rerun — a requeued job — resumes it.
    if (dist::all_reduce(std::int64_t{platform::stop_requested() ? 1 : 0}, dist::ReduceOp::max) > 0) {
      reports.back().status = "stopped";
      log::warn("pipeline: stopped by a signal during stage '{}'; rerun the same command to resume", st.name);
      break;
    }
    dist::barrier();
  }
  return reports;
}

std::string format_table(const std::vector<StageReport>& reports) {
  std::size_t w_stage = 5, w_verb = 4;
  for (const auto& r : reports) {
    w_stage = std::max(w_stage, r.stage.size());
    w_verb = std::max(w_verb, r.verb.size());
  }
  std::string s = fmt::format("| {:<{}} | {:<{}} | {:<8} | {:>9} | {}\n", "stage", w_stage, "verb", w_verb, "status",
                              "seconds", "figures");
  s += fmt::format("|-{:-<{}}-|-{:-<{}}-|----------|-----------|--------\n", "", w_stage, "", w_verb);
  for (const auto& r : reports)
    s += fmt::format("| {:<{}} | {:<{}} | {:<8} | {:>9.1f} | {}\n", r.stage, w_stage, r.verb, w_verb, r.status,
                     r.seconds, r.figures);
  return s;
}

}  // namespace ram::pipeline
