// jsonl — a generic dataset over one JSON Lines file (one object per line) or one JSON
// file holding an array of objects (decided by content: first non-space character '[').
//
// Config (defaults in parentheses):
//   path             required; one file
//   prompt_key       (prompt)    field holding the prompt
//   chosen_key       (chosen)    field holding the gold / preferred response
//   rejected_key     (null)      field holding the dispreferred response; null = none
//   id_key           (null)      field holding the record's id (string or integer); null =
//                                the dataset index
//   prompt_template  ("{prompt}") every "{prompt}" is replaced by the prompt field; the
//                                original's single turn is "\n\nHuman: {prompt}\n\nAssistant: "
//   response_prefix  ("")        prepended to chosen and rejected
//   on_error         (fail)      fail: a bad record is a DataError with file:line;
//                                skip: bad records are skipped and counted (skipped())
//   max_examples     (-1)        keep the first N valid records; -1 = all
//   name             (jsonl)     the plugin's own name; read and ignored
//
// The whole file is read and validated when the dataset opens; records stay in memory as
// strings, so get(i) is O(1). Field values must be strings and valid UTF-8.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <ram/config.hpp>
#include <ram/dataset.hpp>
#include <ram/error.hpp>
#include <ram/plugin.hpp>

#include "records.hpp"

namespace {

using json = nlohmann::ordered_json;  // keeps the record's key order for messages
using namespace ram_jsonl;

struct Record {
  std::string id, prompt, chosen, rejected;
  int line = 0;
};

std::string read_bytes(const std::string& path, const std::string& where) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw ram::DataError("dataset file '" + path + "' does not exist or is not a file", where,
                         "set " + where + " to a .jsonl or .json file");
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  if (!f && !f.eof())
    throw ram::DataError("cannot read dataset file '" + path + "'", where, "check its permissions");
  return ss.str();
}

class Jsonl : public ram::Dataset {
 public:
  explicit Jsonl(const ram::ConfigView& cfg) {
    read_config(cfg);
    cfg.finish();
    load();
  }

  std::int64_t size() const override { return static_cast<std::int64_t>(records_.size()); }

  ram::Example get(std::int64_t index) const override {
    if (index < 0 || index >= size())
      throw ram::Error("jsonl: index " + std::to_string(index) + " is outside [0, " +
                           std::to_string(size()) + ")",
                       path_, "ask for an index below size()");
    const Record& r = records_[static_cast<std::size_t>(index)];
    ram::Example e;
    e.index = index;
    e.id = id_key_.empty() ? std::to_string(index) : r.id;
    e.prompt = r.prompt;
    e.chosen = r.chosen;
    e.rejected = r.rejected;
    e.meta["source"] = path_ + ":" + std::to_string(r.line);
    return e;
  }

  std::int64_t skipped() const override { return skipped_; }
  std::string fingerprint() const override { return fingerprint_; }

  std::string describe() const override {
    std::string s = "jsonl: " + std::to_string(size()) + " examples from " + path_ + " (" +
                    (format_ == Format::json_array ? "JSON array" : "JSONL") +
                    "; prompt=" + prompt_key_ + ", chosen=" + chosen_key_;
    if (!rejected_key_.empty()) s += ", rejected=" + rejected_key_;
    s += ")";
    if (skipped_ > 0) s += "; " + std::to_string(skipped_) + " skipped, first: " + first_skip_;
    return s;
  }

 private:
  void read_config(const ram::ConfigView& cfg) {
    cfg.get<std::string>("name", "jsonl");
    path_key_ = cfg.dotted("path");
    path_ = cfg.get<std::string>("path");
    prompt_key_ = cfg.get<std::string>("prompt_key", "prompt");
    chosen_key_ = cfg.get<std::string>("chosen_key", "chosen");
    rejected_key_ = cfg.get<std::string>("rejected_key", "");
    id_key_ = cfg.get<std::string>("id_key", "");
    template_ = cfg.get<std::string>("prompt_template", "{prompt}");
    response_prefix_ = cfg.get<std::string>("response_prefix", "");
    on_error_ = cfg.get<std::string>("on_error", "fail");
    max_examples_ = cfg.get<std::int64_t>("max_examples", -1);
    if (prompt_key_.empty() || chosen_key_.empty()) {
      const char* k = prompt_key_.empty() ? "prompt_key" : "chosen_key";
      throw ram::ConfigError("key '" + cfg.dotted(k) + "' is empty", cfg.where(k).str(),
                             "name the record field to read");
    }
    if (on_error_ != "fail" && on_error_ != "skip")
      throw ram::ConfigError("key '" + cfg.dotted("on_error") + "' must be fail or skip, got '" +
                                 on_error_ + "'",
                             cfg.where("on_error").str(), "write on_error: fail or on_error: skip");
    if (max_examples_ == 0 || max_examples_ < -1)
      throw ram::ConfigError("key '" + cfg.dotted("max_examples") + "' must be -1 (all) or positive, got " +
                                 std::to_string(max_examples_),
                             cfg.where("max_examples").str());
    if (template_.find("{prompt}") == std::string::npos)
      throw ram::ConfigError("key '" + cfg.dotted("prompt_template") + "' has no {prompt}",
                             cfg.where("prompt_template").str(),
                             "put {prompt} where the prompt field goes, e.g. \"\\n\\nHuman: {prompt}\\n\\nAssistant: \"");
    for (const char* k : {"prompt_key", "chosen_key", "rejected_key", "id_key"})
      config_key_[k] = cfg.dotted(k);
  }

  std::string mapping() const {
    return "prompt_key=" + prompt_key_ + "\nchosen_key=" + chosen_key_ + "\nrejected_key=" +
           rejected_key_ + "\nid_key=" + id_key_ + "\nprompt_template=" + template_ +
           "\nresponse_prefix=" + response_prefix_ + "\non_error=" + on_error_ +
           "\nmax_examples=" + std::to_string(max_examples_);
  }

  void load() {
    const std::string bytes = read_bytes(path_, path_key_);
    fingerprint_ = hex64(fnv1a64(mapping(), fnv1a64(bytes)));
    const LineIndex lines(bytes);
    format_ = detect_format(bytes);
    std::vector<RawRecord> raw;
    try {
      raw = split_records(bytes, format_, lines);
    } catch (const StructureError& e) {
      throw ram::DataError(e.message, path_ + ":" + std::to_string(e.line),
                           "fix the file's JSON structure");
    }
    for (const RawRecord& r : raw) {
      if (max_examples_ > 0 && size() >= max_examples_) break;
      try {
        records_.push_back(parse(r));
      } catch (const ram::DataError& e) {
        if (on_error_ != "skip") throw;
        if (skipped_++ == 0) first_skip_ = e.what();
      }
    }
    if (records_.empty()) {
      std::string what = "no valid records in '" + path_ + "'";
      if (skipped_ > 0) what += " (" + std::to_string(skipped_) + " skipped, first: " + first_skip_ + ")";
      throw ram::DataError(what, path_key_, "point " + path_key_ + " at a non-empty JSON / JSONL file");
    }
  }

  // One record's text → Record; DataError (with file:line) on anything wrong.
  Record parse(const RawRecord& r) const {
    const std::string where = path_ + ":" + std::to_string(r.line);
    const json obj = parse_object(r, where, "each record must be an object such as {\"prompt\": ..., \"chosen\": ...}");
    Record rec;
    rec.line = r.line;
    rec.prompt = expand(field(obj, prompt_key_, "prompt_key", where));
    rec.chosen = response_prefix_ + field(obj, chosen_key_, "chosen_key", where);
    if (!rejected_key_.empty())
      rec.rejected = response_prefix_ + field(obj, rejected_key_, "rejected_key", where);
    if (!id_key_.empty()) rec.id = id_field(obj, where);
    return rec;
  }

  std::string field(const json& obj, const std::string& key, const char* config_key,
                    const std::string& where) const {
    auto it = obj.find(key);
    if (it == obj.end()) {
      std::string keys;
      for (auto& kv : obj.items()) keys += (keys.empty() ? "" : ", ") + kv.key();
      throw ram::DataError("field '" + key + "' missing (keys: " + (keys.empty() ? "none" : keys) + ")",
                           where, "set " + config_key_.at(config_key) + " to the field to read");
    }
    if (!it->is_string())
      throw ram::DataError("field '" + key + "' is a " + it->type_name() + ", expected a string",
                           where, "store it as text, or set " + config_key_.at(config_key) +
                                      " to a text field");
    return it->get<std::string>();
  }

  std::string id_field(const json& obj, const std::string& where) const {
    auto it = obj.find(id_key_);
    if (it != obj.end() && (it->is_number_integer() || it->is_number_unsigned())) return it->dump();
    return field(obj, id_key_, "id_key", where);
  }

  std::string expand(const std::string& prompt) const {
    std::string out;
    std::size_t pos = 0, hit;
    while ((hit = template_.find("{prompt}", pos)) != std::string::npos) {
      out.append(template_, pos, hit - pos);
      out += prompt;
      pos = hit + 8;
    }
    out.append(template_, pos, std::string::npos);
    return out;
  }

  std::string path_, path_key_, prompt_key_, chosen_key_, rejected_key_, id_key_;
  std::string template_, response_prefix_, on_error_;
  std::int64_t max_examples_ = -1;
  std::map<std::string, std::string> config_key_;  // "chosen_key" → "dataset.chosen_key"

  Format format_ = Format::jsonl;
  std::vector<Record> records_;
  std::int64_t skipped_ = 0;
  std::string first_skip_, fingerprint_;
};

}  // namespace

RAM_DATASET_PLUGIN("jsonl", "1.0.0", "one JSON / JSONL file with a configurable field mapping", Jsonl)
