// eval/outputs.cpp — reading AlpacaEval outputs files and matching records to examples
// (eval.hpp).
#include <cctype>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "eval/eval.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"

namespace ram::eval {

namespace {

using json = nlohmann::json;

std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string parse_message(const json::parse_error& e) {
  std::string msg = e.what();
  auto cut = msg.find("] ");
  if (msg.rfind("[json.exception", 0) == 0 && cut != std::string::npos) msg = msg.substr(cut + 2);
  return one_line(msg);
}

int line_of(const std::string& text, std::size_t offset) {
  int line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i)
    if (text[i] == '\n') ++line;
  return line;
}

// Byte offsets where the top-level array's elements start (the array is known to parse).
std::vector<std::size_t> element_offsets(const std::string& text, std::size_t open) {
  std::vector<std::size_t> out;
  int depth = 0;
  bool in_string = false, escaped = false, expect_value = false;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (depth == 1 && expect_value && c != ']') {
      out.push_back(i);
      expect_value = false;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      ++depth;
      if (depth == 1) expect_value = true;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) break;
    } else if (c == ',' && depth == 1) {
      expect_value = true;
    }
  }
  return out;
}

OutputRecord to_record(const json& obj, const std::string& where, int line) {
  if (!obj.is_object())
    throw DataError(std::string("record is a JSON ") + obj.type_name() + ", expected an object", where,
                    "each record is {\"instruction\": ..., \"output\": ..., \"generator\": ..., "
                    "\"dataset\": ...}");
  OutputRecord r;
  r.line = line;
  auto text = [&](const char* key, bool required) -> std::string {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required)
        throw DataError(std::string("field '") + key + "' missing", where,
                        "every record needs \"output\" (the generated text)");
      return {};
    }
    if (!it->is_string())
      throw DataError(std::string("field '") + key + "' is a " + it->type_name() + ", expected a string",
                      where, "store it as text");
    return it->get<std::string>();
  };
  r.output = text("output", true);
  r.instruction = text("instruction", false);
  r.generator = text("generator", false);
  r.dataset = text("dataset", false);
  for (const char* key : {"example_index", "index"}) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) continue;
    if (!(it->is_number_integer() || it->is_number_unsigned()) || it->get<std::int64_t>() < 0)
      throw DataError(std::string("field '") + key + "' is " + it->dump() + ", expected an integer ≥ 0",
                      where, "give the dataset example's index");
    r.index = it->get<std::int64_t>();
    break;
  }
  return r;
}

}  // namespace

std::vector<OutputRecord> read_outputs(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw DataError("cannot open outputs file '" + path + "'", "eval.outputs",
                    "point eval.outputs (or --outputs) at the outputs.json `ram generate` wrote");
  std::ostringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  std::size_t first = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) first = 3;
  while (first < text.size() && std::isspace(static_cast<unsigned char>(text[first]))) ++first;

  std::vector<OutputRecord> out;
  if (first < text.size() && text[first] == '[') {
    json doc;
    try {
      doc = json::parse(text.begin() + static_cast<std::ptrdiff_t>(first), text.end());
    } catch (const json::parse_error& e) {
      const std::size_t at = first + (e.byte > 0 ? e.byte - 1 : 0);
      throw DataError("malformed JSON: " + parse_message(e), path + ":" + std::to_string(line_of(text, at)),
                      "fix the file (a JSON array of AlpacaEval records, or JSON Lines)");
    }
    const auto offsets = element_offsets(text, first);
    for (std::size_t k = 0; k < doc.size(); ++k) {
      const int line = k < offsets.size() ? line_of(text, offsets[k]) : line_of(text, first);
      out.push_back(to_record(doc[k], path + ":" + std::to_string(line), line));
    }
  } else {
    std::size_t at = 0;
    int line = 0;
    while (at < text.size()) {
      std::size_t nl = text.find('\n', at);
      if (nl == std::string::npos) nl = text.size();
      ++line;
      std::string row = text.substr(at, nl - at);
      at = nl + 1;
      if (line == 1 && row.compare(0, 3, "\xEF\xBB\xBF") == 0) row = row.substr(3);
      if (row.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = path + ":" + std::to_string(line);
      json obj;
      try {
        obj = json::parse(row);
      } catch (const json::parse_error& e) {
        throw DataError("malformed JSON: " + parse_message(e), where,
                        "fix the line (one AlpacaEval record per line), or write a JSON array");
      }
      out.push_back(to_record(obj, where, line));
    }
  }
  if (out.empty())
    throw DataError("no records in outputs file '" + path + "'", "eval.outputs",
                    "generate outputs first (`ram generate`)");
  return out;
}

std::vector<std::int64_t> match_examples(const std::vector<OutputRecord>& records,
                                         const Dataset& dataset, const std::string& path) {
  std::vector<std::int64_t> index(records.size(), -1);
  std::unordered_map<std::string, std::int64_t> by_text;  // built on first need
  bool built = false;
  for (std::size_t k = 0; k < records.size(); ++k) {
    const OutputRecord& r = records[k];
    const std::string where = path + ":" + std::to_string(r.line);
    if (r.index) {
      if (*r.index >= dataset.size())
        throw DataError("example index " + std::to_string(*r.index) + " is outside the dataset's " +
                            std::to_string(dataset.size()) + " examples",
                        where, "evaluate with the dataset config the outputs were generated from");
      index[k] = *r.index;
      continue;
    }
    if (r.instruction.empty())
      throw DataError("record has neither example_index / index nor instruction", where,
                      "add \"example_index\" (the dataset example) or \"instruction\"");
    if (!built) {
      for (std::int64_t i = dataset.size() - 1; i >= 0; --i) {  // first occurrence wins
        Example e = dataset.get(i);
        by_text[e.prompt] = i;
        auto it = e.meta.find("instruction");
        if (it != e.meta.end()) by_text[it->second] = i;
      }
      built = true;
    }
    auto it = by_text.find(r.instruction);
    if (it == by_text.end())
      throw DataError("instruction \"" + one_line(r.instruction).substr(0, 60) +
                          "\" is not in the dataset (" + dataset.describe() + ")",
                      where, "add \"example_index\" to the record, or evaluate with the dataset config "
                             "the outputs were generated from");
    index[k] = it->second;
  }
  return index;
}

}  // namespace ram::eval
