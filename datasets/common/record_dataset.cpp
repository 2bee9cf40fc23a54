#include "common/record_dataset.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include <ram/config.hpp>
#include <ram/error.hpp>

#include "common/source.hpp"
#include "common/templates.hpp"
#include "jsonl/records.hpp"

namespace ram_datasets {

namespace {

using ram_jsonl::fnv1a64;
using ram_jsonl::hex64;

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string keys_of(const json& obj) {
  std::string keys;
  for (auto& kv : obj.items()) keys += (keys.empty() ? "" : ", ") + kv.key();
  return keys.empty() ? "none" : keys;
}

}  // namespace

std::string string_field(const json& obj, const std::string& key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end())
    throw ram::DataError("field '" + key + "' missing (keys: " + keys_of(obj) + ")", where,
                         "fix the record, or set on_error: skip");
  if (!it->is_string())
    throw ram::DataError("field '" + key + "' is a " + std::string(it->type_name()) +
                             ", expected a string",
                         where, "fix the record, or set on_error: skip");
  return it->get<std::string>();
}

bool optional_string_field(const json& obj, const std::string& key, const std::string& where,
                           std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  out = string_field(obj, key, where);
  return true;
}

std::string id_field(const json& obj, const std::string& key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (it->is_number_integer() || it->is_number_unsigned()) return it->dump();
  return string_field(obj, key, where);
}

void RecordDataset::read_common(const ram::ConfigView& cfg) {
  cfg.get<std::string>("name", plugin_);
  split_ = cfg.get<std::string>("split", "train");
  if (split_ != "train" && split_ != "test")
    throw ram::ConfigError("key '" + cfg.dotted("split") + "' must be train or test, got '" + split_ + "'",
                           cfg.where("split").str(), "write split: train or split: test");
  n_test_subsample_ = cfg.get<std::int64_t>("n_test_subsample", -1);
  if (n_test_subsample_ == 0 || n_test_subsample_ < -1)
    throw ram::ConfigError("key '" + cfg.dotted("n_test_subsample") + "' must be null (all) or positive, got " +
                               std::to_string(n_test_subsample_),
                           cfg.where("n_test_subsample").str(), "the original evaluates on 300");
  subsample_seed_ = static_cast<std::uint64_t>(cfg.get<std::int64_t>("subsample_seed", 0));
  aligner_format_ = cfg.get<bool>("aligner_format", false);
  on_error_ = cfg.get<std::string>("on_error", "fail");
  if (on_error_ != "fail" && on_error_ != "skip")
    throw ram::ConfigError("key '" + cfg.dotted("on_error") + "' must be fail or skip, got '" + on_error_ + "'",
                           cfg.where("on_error").str(), "write on_error: fail or on_error: skip");
  max_examples_ = cfg.get<std::int64_t>("max_examples", -1);
  if (max_examples_ == 0 || max_examples_ < -1)
    throw ram::ConfigError("key '" + cfg.dotted("max_examples") + "' must be -1 (all) or positive, got " +
                               std::to_string(max_examples_),
                           cfg.where("max_examples").str());
  hash_ = fnv1a64(plugin_ + "\nsplit=" + split_ + "\naligner_format=" + (aligner_format_ ? "1" : "0") +
                  "\nmax_examples=" + std::to_string(max_examples_) + "\n");
}

void RecordDataset::load_file(const std::string& path, const std::string& config_key,
                              const std::string& tag, const Parser& parse) {
  if (max_examples_ > 0 && static_cast<std::int64_t>(rows_.size()) >= max_examples_) return;  // not read
  files_.push_back(path);
  const std::string bytes = read_source(path, config_key);
  hash_ = fnv1a64(bytes, fnv1a64(tag + "\n", hash_));
  const ram_jsonl::LineIndex lines(bytes);
  const ram_jsonl::Format format = ram_jsonl::detect_format(bytes);
  std::vector<ram_jsonl::RawRecord> raw;
  try {
    raw = ram_jsonl::split_records(bytes, format, lines);
  } catch (const ram_jsonl::StructureError& e) {
    throw ram::DataError(e.message, path + ":" + std::to_string(e.line), "fix the file's JSON structure");
  }
  for (const ram_jsonl::RawRecord& r : raw) {
    if (max_examples_ > 0 && static_cast<std::int64_t>(rows_.size()) >= max_examples_) break;
    const std::string where = path + ":" + std::to_string(r.line);
    try {
      const json obj = ram_jsonl::parse_object(r, where, "fix the record, or set on_error: skip");
      Row row = parse(obj, where);
      if (aligner_format_) {
        if (!row.has_rejected)
          throw ram::DataError("aligner_format needs the record's proposal / rejected response, and "
                               "this record has none",
                               where, "add the field (see the plugin's rejected_key), or set aligner_format: false");
        row.prompt = aligner_prompt(row.prompt, row.rejected);
      }
      Stored s;
      s.id = row.id.empty() ? tag + ":" + std::to_string(r.line) : row.id;
      s.prompt = std::move(row.prompt);
      s.chosen = std::move(row.chosen);
      s.rejected = std::move(row.rejected);
      s.meta = std::move(row.meta);
      s.meta["source"] = where;
      rows_.push_back(std::move(s));
    } catch (const ram::DataError& e) {
      if (on_error_ != "skip") throw;
      if (skipped_++ == 0) first_skip_ = e.what();
    }
  }
}

void RecordDataset::finish_loading(const std::string& config_key, const std::string& options) {
  if (rows_.empty()) {
    std::string files;
    for (auto& f : files_) files += (files.empty() ? "" : ", ") + f;
    std::string what = plugin_ + ": no valid records in " + files;
    if (skipped_ > 0) what += " (" + std::to_string(skipped_) + " skipped, first: " + first_skip_ + ")";
    throw ram::DataError(what, config_key, "point " + config_key + " at the dataset's files");
  }
  kept_.resize(rows_.size());
  std::iota(kept_.begin(), kept_.end(), std::size_t{0});
  const std::size_t n = rows_.size();
  if (split_ == "test" && n_test_subsample_ > 0 && static_cast<std::size_t>(n_test_subsample_) < n) {
    // Partial Fisher–Yates with splitmix64(seed): the first k slots are the draw.
    const std::size_t k = static_cast<std::size_t>(n_test_subsample_);
    std::uint64_t state = subsample_seed_;
    for (std::size_t i = 0; i < k; ++i) {
      std::size_t j = i + static_cast<std::size_t>(splitmix64(state) % (n - i));
      std::swap(kept_[i], kept_[j]);
    }
    kept_.resize(k);
    std::sort(kept_.begin(), kept_.end());
  }
  std::uint64_t h = fnv1a64(options, hash_);
  std::string draw;
  if (kept_.size() != n) {
    draw = "subsample";
    for (std::size_t i : kept_) draw += " " + std::to_string(i);
  }
  fingerprint_ = hex64(fnv1a64(draw, h));
}

std::string RecordDataset::single_file(const ram::ConfigView& cfg, std::string& config_key) const {
  if (cfg.has("path")) {
    config_key = cfg.dotted("path");
    cfg.get<std::string>("root", "");
    return cfg.get<std::string>("path");
  }
  config_key = cfg.dotted("root");
  if (!cfg.has("root"))
    throw ram::ConfigError(plugin_ + ": neither '" + cfg.dotted("root") + "' nor '" + cfg.dotted("path") + "' is set",
                           cfg.where().str(),
                           "set " + cfg.dotted("root") + " to the folder holding train.jsonl / test.jsonl (.gz), "
                           "or " + cfg.dotted("path") + " to one file");
  return find_split_file(cfg.get<std::string>("root"), split_, config_key, "'" + split_ + "' file for " + plugin_);
}

ram::Example RecordDataset::get(std::int64_t index) const {
  if (index < 0 || index >= size())
    throw ram::Error(plugin_ + ": index " + std::to_string(index) + " is outside [0, " +
                         std::to_string(size()) + ")",
                     files_.empty() ? plugin_ : files_.front(), "ask for an index below size()");
  const Stored& s = rows_[kept_[static_cast<std::size_t>(index)]];
  ram::Example e;
  e.index = index;
  e.id = s.id;
  e.prompt = s.prompt;
  e.chosen = s.chosen;
  e.rejected = s.rejected;
  e.meta = s.meta;
  return e;
}

std::string RecordDataset::describe() const {
  std::string s = plugin_ + ": " + std::to_string(size()) + " examples (split " + split_;
  if (kept_.size() != rows_.size())
    s += ", " + std::to_string(kept_.size()) + " of " + std::to_string(rows_.size()) +
         " drawn with seed " + std::to_string(subsample_seed_);
  if (aligner_format_) s += ", aligner format";
  s += ") from ";
  for (std::size_t i = 0; i < files_.size(); ++i) s += (i ? ", " : "") + files_[i];
  if (skipped_ > 0) s += "; " + std::to_string(skipped_) + " skipped, first: " + first_skip_;
  return s;
}

}  // namespace ram_datasets
