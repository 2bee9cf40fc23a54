// eval/eval.hpp — `ram eval`: judge plugins over generated outputs → metrics.json.
//
// Outputs file (eval.outputs): AlpacaEval's model_outputs format, a JSON array of records
//   {"instruction": str, "output": str, "generator": str, "dataset": str, ...}
// or the same records one per line (JSONL; decided by the first non-space character '[').
// Each record is matched to a dataset example (the config's `dataset:` node) by, in order:
//   "example_index" (integer) → "index" (integer) → "instruction" equal to the example's
//   meta "instruction" or its prompt (the first example with that text; an instruction found
//   nowhere is a DataError naming file:line and asking for example_index).
// "output" is required (a string); the other fields are optional. Any malformed record is a
// DataError with file:line.
//
// metrics.json (eval.out), written by rank 0 (every rank computes the same):
//   {"outputs": path, "n": records, "generators": [...], "dataset": describe(),
//    "dataset_fingerprint": ..., "primary": "demo.score", "primary_mean": x,
//    "judges": {"<judge>": {"<score>": {"mean", "sd", "min", "max"}, ...}, ...},
//    "tokens": {"mean", "sd", "min", "max"}            (only with eval.tokenizer)
//    "compare": {"baseline": path, "metric": "demo.score", "n": paired examples,
//                "wins", "ties", "losses", "win_rate": wins / n,
//                "win_rate_ties_half": (wins + ties / 2) / n, "unpaired": count}
//                                                       (only with eval.compare)}
// With eval.group_by = a meta key (the demo's "kind"): "group_by": key, "groups": {"<value>":
// {"n": records, "<judge>.<score>": mean, ...}, ...} — each score's mean per group.
// sd is the population standard deviation over examples. With eval.scores set, one JSON
// line per record ({"line", "example_index", "scores": {"demo.score": ...}}) goes there.
//
// Config (`eval:` in configs/config.yaml): outputs, judges (list of judge plugin names),
// judge_options.<judge> (each judge's own config node), primary ("<judge>.<score>", the
// per-example score the win rate compares), compare (baseline outputs file or null),
// tokenizer (dir or null), out (metrics.json path), scores (per-example JSONL or null),
// group_by (a meta key, or null).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/compose.hpp"

namespace ram {
class Dataset;
}

namespace ram::eval {

struct OutputRecord {
  int line = 0;                       // 1-based line where the record starts
  std::string instruction, output, generator, dataset;
  std::optional<std::int64_t> index;  // example_index, else index
};

// Reads an AlpacaEval outputs file (JSON array or JSONL). DataError with file:line on a
// malformed file or record; an empty file or array is a DataError too.
std::vector<OutputRecord> read_outputs(const std::string& path);

// The dataset example index of each record (rules above). DataError with file:line.
std::vector<std::int64_t> match_examples(const std::vector<OutputRecord>& records,
                                         const Dataset& dataset, const std::string& path);

struct Stats {
  double mean = 0, sd = 0, min = 0, max = 0;
  std::int64_t n = 0;
};
Stats stats(const std::vector<double>& xs);

struct WinRate {
  std::int64_t wins = 0, ties = 0, losses = 0, unpaired = 0;
  std::int64_t n() const { return wins + ties + losses; }
};
// Per example index present in both: a's score > b's → win, equal → tie, less → loss.
// Examples present in only one count as unpaired. Several records of one example: their mean.
WinRate win_rate(const std::map<std::int64_t, double>& a, const std::map<std::int64_t, double>& b);

struct Summary {
  std::int64_t n = 0;
  double primary_mean = 0;
  std::optional<WinRate> compare;
  std::string out;
};

// Runs the whole verb on the composed config (all ranks; rank 0 writes).
Summary run(const config::Resolved& cfg);

}  // namespace ram::eval
