// eval/eval.cpp — `ram eval` (eval.hpp): judges over outputs, statistics, win rate, metrics.json.
#include "eval/eval.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "dist/dist.hpp"
#include "log/log.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "ram/judge.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ram::eval {

namespace {

using ojson = nlohmann::ordered_json;

ojson to_json(const Stats& s) {
  return ojson{{"mean", s.mean}, {"sd", s.sd}, {"min", s.min}, {"max", s.max}, {"n", s.n}};
}

struct Judged {
  std::vector<std::string> keys;                       // "judge.score", in first-seen order
  std::map<std::string, std::vector<double>> values;   // per key, one per record
  std::vector<std::map<std::string, double>> per_record;
  std::vector<std::string> group;  // per record: meta[group_by] (with a group_by key)
};

Judged judge_all(const std::vector<std::pair<std::string, std::shared_ptr<Judge>>>& judges,
                 const std::vector<OutputRecord>& records, const std::vector<std::int64_t>& index,
                 const Dataset& dataset, const std::string& group_by = "") {
  Judged j;
  j.per_record.resize(records.size());
  for (std::size_t k = 0; k < records.size(); ++k) {
    const Example ex = dataset.get(index[k]);
    if (!group_by.empty()) {
      auto it = ex.meta.find(group_by);
      if (it == ex.meta.end())
        throw DataError("example " + std::to_string(index[k]) + " has no meta key '" + group_by + "'",
                        "eval.group_by", "group by a meta key every example of this dataset has, or set null");
      j.group.push_back(it->second);
    }
    for (const auto& [name, judge] : judges) {
      for (const auto& [key, value] : judge->score(ex, records[k].output)) {
        const std::string full = name + "." + key;
        if (!j.values.count(full)) j.keys.push_back(full);
        j.values[full].push_back(value);
        j.per_record[k][full] = value;
      }
    }
  }
  return j;
}

// Mean of `key` per example index (several records of one example are averaged).
std::map<std::int64_t, double> per_example(const Judged& j, const std::vector<std::int64_t>& index,
                                           const std::string& key) {
  std::map<std::int64_t, std::pair<double, int>> acc;
  for (std::size_t k = 0; k < index.size(); ++k) {
    auto it = j.per_record[k].find(key);
    if (it == j.per_record[k].end()) continue;
    auto& a = acc[index[k]];
    a.first += it->second;
    ++a.second;
  }
  std::map<std::int64_t, double> out;
  for (const auto& [i, a] : acc) out[i] = a.first / a.second;
  return out;
}

void write_atomically(const std::string& path, const std::string& text, const char* key) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (!p.parent_path().empty()) fs::create_directories(p.parent_path(), ec);
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    f.close();
    if (!f) throw Error("cannot write " + tmp, key, "check that the directory is writable");
  }
  fs::rename(tmp, p, ec);
  if (ec) throw Error("cannot rename " + tmp + " to " + path + ": " + ec.message(), key);
}

}  // namespace

Stats stats(const std::vector<double>& xs) {
  Stats s;
  s.n = static_cast<std::int64_t>(xs.size());
  if (xs.empty()) return s;
  double sum = 0;
  s.min = s.max = xs[0];
  for (double x : xs) {
    sum += x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  s.mean = sum / static_cast<double>(xs.size());
  double var = 0;
  for (double x : xs) var += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(var / static_cast<double>(xs.size()));
  return s;
}

WinRate win_rate(const std::map<std::int64_t, double>& a, const std::map<std::int64_t, double>& b) {
  WinRate w;
  for (const auto& [i, x] : a) {
    auto it = b.find(i);
    if (it == b.end()) {
      ++w.unpaired;
      continue;
    }
    if (x > it->second) ++w.wins;
    else if (x < it->second) ++w.losses;
    else ++w.ties;
  }
  for (const auto& [i, y] : b)
    if (!a.count(i)) ++w.unpaired;
  return w;
}

Summary run(const config::Resolved& cfg) {
  ConfigView root = cfg.view();
  ConfigView ecfg = root.child("eval");
  ConfigView dcfg = root.child("dataset");
  const std::string outputs = ecfg.get<std::string>("outputs");
  const auto judge_names = ecfg.get<std::vector<std::string>>("judges");
  const std::string primary = ecfg.get<std::string>("primary", "demo.score");
  const std::string compare = ecfg.get<std::string>("compare", "");
  const std::string tokenizer = ecfg.get<std::string>("tokenizer", "");
  const std::string out = ecfg.get<std::string>("out");
  const std::string scores_path = ecfg.get<std::string>("scores", "");
  const std::string group_by = ecfg.get<std::string>("group_by", "");
  if (judge_names.empty())
    throw ConfigError("key 'eval.judges' is empty", ecfg.where("judges").str(),
                      "list judge plugins, e.g. [demo, length, overlap] (`ram plugins` lists them)");
  std::vector<std::pair<std::string, std::shared_ptr<Judge>>> judges;
  ConfigView options = ecfg.child("judge_options");
  for (const auto& name : judge_names) {
    for (const auto& [seen, _] : judges)
      if (seen == name)
        throw ConfigError("judge '" + name + "' is listed twice in eval.judges",
                          ecfg.where("judges").str(), "list each judge once");
    judges.emplace_back(name, plugin::Registry::instance().make_judge(name, options.child(name)));
  }
  const auto dot = primary.find('.');
  if (dot == std::string::npos ||
      std::find(judge_names.begin(), judge_names.end(), primary.substr(0, dot)) == judge_names.end())
    throw ConfigError("eval.primary '" + primary + "' does not name <judge>.<score> of a listed judge",
                      ecfg.where("primary").str(), "e.g. primary: demo.score with demo in eval.judges");
  ecfg.finish();

  auto dataset = plugin::Registry::instance().make_dataset(dcfg.get<std::string>("name"), dcfg);
  log::info("eval: dataset {}", dataset->describe());

  const auto records = read_outputs(outputs);
  const auto index = match_examples(records, *dataset, outputs);
  const Judged judged = judge_all(judges, records, index, *dataset, group_by);
  if (!judged.values.count(primary)) {
    std::string have;
    for (const auto& k : judged.keys) have += (have.empty() ? "" : ", ") + k;
    throw ConfigError("eval.primary '" + primary + "' is not a score the judges give", ecfg.where("primary").str(),
                      "choose one of: " + have);
  }

  ojson m;
  m["outputs"] = outputs;
  m["n"] = records.size();
  std::set<std::string> gens;
  for (const auto& r : records) gens.insert(r.generator);
  m["generators"] = ojson(std::vector<std::string>(gens.begin(), gens.end()));
  m["dataset"] = dataset->describe();
  m["dataset_fingerprint"] = dataset->fingerprint();
  Summary summary;
  summary.n = static_cast<std::int64_t>(records.size());
  summary.primary_mean = stats(judged.values.at(primary)).mean;
  summary.out = out;
  m["primary"] = primary;
  m["primary_mean"] = summary.primary_mean;
  ojson js = ojson::object();
  for (const auto& key : judged.keys) {
    const auto d = key.find('.');
    js[key.substr(0, d)][key.substr(d + 1)] = to_json(stats(judged.values.at(key)));
  }
  m["judges"] = js;
  if (!group_by.empty()) {
    // Each score's mean per value of the examples' meta[group_by] (e.g. the demo's kind).
    std::map<std::string, std::vector<std::size_t>> groups;
    for (std::size_t k = 0; k < records.size(); ++k) groups[judged.group[k]].push_back(k);
    ojson gs = ojson::object();
    for (const auto& [value, ks] : groups) {
      ojson g{{"n", ks.size()}};
      for (const auto& key : judged.keys) {
        std::vector<double> xs;
        for (std::size_t k : ks) {
          auto it = judged.per_record[k].find(key);
          if (it != judged.per_record[k].end()) xs.push_back(it->second);
        }
        g[key] = stats(xs).mean;
      }
      gs[value] = g;
    }
    m["group_by"] = group_by;
    m["groups"] = gs;
  }

  if (!tokenizer.empty()) {
    auto tok = tok::Tokenizer::from_dir(tokenizer);
    std::vector<double> lens;
    for (const auto& r : records) lens.push_back(static_cast<double>(tok.encode(r.output, false).size()));
    m["tokens"] = to_json(stats(lens));
  }

  if (!compare.empty()) {
    const auto base = read_outputs(compare);
    const auto base_index = match_examples(base, *dataset, compare);
    std::vector<std::pair<std::string, std::shared_ptr<Judge>>> primary_judge;
    for (const auto& j : judges)
      if (j.first == primary.substr(0, dot)) primary_judge.push_back(j);
    const Judged base_judged = judge_all(primary_judge, base, base_index, *dataset);
    const WinRate w = win_rate(per_example(judged, index, primary), per_example(base_judged, base_index, primary));
    if (w.n() == 0)
      throw DataError("no example is in both '" + outputs + "' and '" + compare + "'", "eval.compare",
                      "compare outputs generated from the same prompts");
    const double n = static_cast<double>(w.n());
    m["compare"] = ojson{{"baseline", compare},
                         {"metric", primary},
                         {"n", w.n()},
                         {"wins", w.wins},
                         {"ties", w.ties},
                         {"losses", w.losses},
                         {"win_rate", static_cast<double>(w.wins) / n},
                         {"win_rate_ties_half", (static_cast<double>(w.wins) + 0.5 * static_cast<double>(w.ties)) / n},
                         {"unpaired", w.unpaired},
                         {"baseline_mean", stats(base_judged.values.at(primary)).mean}};
    summary.compare = w;
    log::info("eval: vs {}: {} wins, {} ties, {} losses over {} examples (win rate {:.3f})", compare,
              w.wins, w.ties, w.losses, w.n(), static_cast<double>(w.wins) / n);
  }

  if (dist::is_root()) {
    write_atomically(out, m.dump(2) + "\n", "eval.out");
    if (!scores_path.empty()) {
      std::string lines;
      for (std::size_t k = 0; k < records.size(); ++k)
        lines += ojson{{"line", records[k].line}, {"example_index", index[k]},
                       {"scores", judged.per_record[k]}}.dump() + "\n";
      write_atomically(scores_path, lines, "eval.scores");
    }
  }
  dist::barrier();
  log::info("eval: {} outputs, {} = {:.4f} → {}", summary.n, primary, summary.primary_mean, out);
  return summary;
}

}  // namespace ram::eval
