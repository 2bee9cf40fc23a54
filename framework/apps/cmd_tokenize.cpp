// `ram tokenize --tokenizer DIR [--add-special] [--decode] [--skip-special]` — the HF-exact
// tokenizer as a JSONL filter (rank 0 only; the other ranks return at once).
//   encode: stdin {"text": "...", "add_special_tokens"?: bool} → stdout {"ids": [...]}
//   decode: stdin {"ids": [...], "skip_special_tokens"?: bool} → stdout {"text": "..."}
// One output line per input line, in order, flushed per line. A per-line key overrides the
// flag. A bad line (not JSON, wrong keys or types, invalid UTF-8) ends the run with one error
// naming the line number and a non-zero exit; the lines before it have been written.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "ram/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

using json = nlohmann::json;

struct TokenizeArgs {
  std::string dir;
  bool add_special = false;
  bool decode = false;
  bool skip_special = false;
};

[[noreturn]] void bad_line(std::size_t n, const std::string& what, const std::string& hint) {
  throw ram::DataError(what, "stdin line " + std::to_string(n), hint);
}

void run_tokenize(const TokenizeArgs& a) {
  if (ram::dist::rank() != 0) return;
  const auto tok = ram::tok::Tokenizer::from_dir(a.dir);
  const char* hint = a.decode ? "each line must be {\"ids\": [int, ...]} with optional \"skip_special_tokens\": bool"
                              : "each line must be {\"text\": \"...\"} with optional \"add_special_tokens\": bool";
  std::string line, out;
  std::size_t n = 0;
  while (std::getline(std::cin, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      bad_line(n, std::string("not valid JSON: ") + e.what(), hint);
    }
    if (!j.is_object()) bad_line(n, "expected a JSON object", hint);
    const char* data_key = a.decode ? "ids" : "text";
    const char* flag_key = a.decode ? "skip_special_tokens" : "add_special_tokens";
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != data_key && it.key() != flag_key) bad_line(n, "unknown key \"" + it.key() + "\"", hint);
    bool flag = a.decode ? a.skip_special : a.add_special;
    if (auto f = j.find(flag_key); f != j.end()) {
      if (!f->is_boolean()) bad_line(n, std::string("\"") + flag_key + "\" must be true or false", hint);
      flag = f->get<bool>();
    }
    auto d = j.find(data_key);
    if (d == j.end()) bad_line(n, std::string("missing \"") + data_key + "\"", hint);
    if (a.decode) {
      if (!d->is_array()) bad_line(n, "\"ids\" must be an array of integers", hint);
      std::vector<std::int32_t> ids;
      ids.reserve(d->size());
      for (const auto& v : *d) {
        if (!v.is_number_integer() || v.get<std::int64_t>() < INT32_MIN || v.get<std::int64_t>() > INT32_MAX)
          bad_line(n, "\"ids\" must be an array of 32-bit integers", hint);
        ids.push_back(static_cast<std::int32_t>(v.get<std::int64_t>()));
      }
      out = json{{"text", tok.decode(ids, flag)}}.dump(-1, ' ', false, json::error_handler_t::replace);
    } else {
      if (!d->is_string()) bad_line(n, "\"text\" must be a string", hint);
      std::vector<std::int32_t> ids;
      try {
        ids = tok.encode(d->get_ref<const std::string&>(), flag);
      } catch (const ram::DataError& e) {
        bad_line(n, e.what_part() + " (" + e.where() + ")", e.hint());
      }
      out = "{\"ids\":[";
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(ids[i]);
      }
      out += "]}";
    }
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
}

}  // namespace

RAM_VERB(tokenize) {
  auto* cmd = app.add_subcommand("tokenize", "JSONL text -> token ids (or ids -> text with --decode), HF-exact");
  static TokenizeArgs args;
  cmd->add_option("--tokenizer", args.dir, "directory with tokenizer.json (+ tokenizer_config.json)")->required();
  cmd->add_flag("--add-special", args.add_special, "apply the post-processor template (e.g. Llama-3 BOS)");
  cmd->add_flag("--decode", args.decode, "read {\"ids\": [...]} lines and write {\"text\": ...}");
  cmd->add_flag("--skip-special", args.skip_special, "with --decode: drop special tokens");
  cmd->callback([] { run_tokenize(args); });
}
