// record_dataset.hpp — the base class of the file-format dataset plugins (hh, hh_harmless,
// tldr, ultrachat, alpaca): everything but the per-record parsing.
//
// Keys every such plugin reads (read_common; defaults in parentheses):
//   name              the plugin's name; read and ignored
//   split             (train)  train | test: which file of the source is read
//   n_test_subsample  (null)   split test only: keep this many examples drawn at random
//                              (seeded by subsample_seed) — the original evaluates on "300
//                              random test examples"; null = all. Ignored for split train.
//   subsample_seed    (0)      the draw's seed; the same seed and data give the same draw
//   aligner_format    (false)  true: prompt = "{prompt}{response}\n\nCorrection: " (the
//                              aligner baseline of Ji et al.), where response is the
//                              record's *rejected / proposal* response (HH and TL;DR
//                              comparisons: the dataset's rejected; UltraChat: `sampling`;
//                              others: the field named by rejected_key); chosen stays the
//                              gold response. A record without one is a record error.
//   on_error          (fail)   fail: a bad record is a DataError with file:line;
//                              skip: it is skipped and counted (skipped(), describe())
//   max_examples      (-1)     keep the first N valid records (in file order, over all
//                              files); -1 = all. Applied before the test subsample.
//
// Records: each file is read whole (gzip inflated), split into JSONL lines or JSON array
// elements (jsonl/records.hpp, so every record has its line), checked for valid UTF-8,
// parsed with nlohmann::json, then handed to the subclass's Parser, which returns a Row or
// throws DataError(where = file:line). The subsample keeps file order (the drawn indices
// are sorted). Example ids are the source's own id, else "<tag>:<line>" (tag names the
// file, e.g. "helpful-base/test"), so they do not change with max_examples or the
// subsample; seeds derived from ids stay put. meta["source"] is always file:line.
//
// Fingerprint: FNV-1a 64 over the plugin name, its options text, every file's (inflated)
// bytes and the kept indices — it changes when the data, the mapping or the draw does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <ram/dataset.hpp>

namespace ram {
class ConfigView;
}

namespace ram_datasets {

using json = nlohmann::ordered_json;

struct Row {
  std::string id;  // the source's own id; empty → "<tag>:<line>"
  std::string prompt, chosen, rejected;
  bool has_rejected = false;  // a rejected / proposal response was read (it may be "")
  std::map<std::string, std::string> meta;
};

// Field access for parsers: DataError at `where` when absent or not a string.
std::string string_field(const json& obj, const std::string& key, const std::string& where);
// Absent or null → false; present but not a string → DataError.
bool optional_string_field(const json& obj, const std::string& key, const std::string& where,
                           std::string& out);
// A string or an integer id; absent or null → "".
std::string id_field(const json& obj, const std::string& key, const std::string& where);

class RecordDataset : public ram::Dataset {
 public:
  std::int64_t size() const override { return static_cast<std::int64_t>(kept_.size()); }
  ram::Example get(std::int64_t index) const override;
  std::int64_t skipped() const override { return skipped_; }
  std::string fingerprint() const override { return fingerprint_; }
  std::string describe() const override;

 protected:
  using Parser = std::function<Row(const json& obj, const std::string& where)>;

  explicit RecordDataset(std::string plugin) : plugin_(std::move(plugin)) {}

  // Reads the common keys above.
  void read_common(const ram::ConfigView& cfg);
  // Reads one file (tag names it in ids and describe()) and appends its rows.
  void load_file(const std::string& path, const std::string& config_key, const std::string& tag,
                 const Parser& parse);
  // After the last file: subsample, fingerprint; no rows at all → DataError at config_key.
  // `options` is the plugin's own option text (for the fingerprint).
  void finish_loading(const std::string& config_key, const std::string& options);

  // The one input file of a single-file plugin (tldr, ultrachat, alpaca): `path` when set,
  // else the split's file in `root` (source.hpp's find_split_file). Sets config_key to the
  // key that named it.
  std::string single_file(const ram::ConfigView& cfg, std::string& config_key) const;

  const std::string& split() const { return split_; }
  bool aligner_format() const { return aligner_format_; }

 private:
  struct Stored {
    std::string id, prompt, chosen, rejected;
    std::map<std::string, std::string> meta;
  };

  std::string plugin_, split_ = "train", on_error_ = "fail";
  std::int64_t n_test_subsample_ = -1, max_examples_ = -1;
  std::uint64_t subsample_seed_ = 0;
  bool aligner_format_ = false;

  std::vector<Stored> rows_;
  std::vector<std::size_t> kept_;  // indices into rows_ (all, or the sorted subsample)
  std::vector<std::string> files_;
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
  std::int64_t skipped_ = 0;
  std::string first_skip_, fingerprint_;
};

}  // namespace ram_datasets
