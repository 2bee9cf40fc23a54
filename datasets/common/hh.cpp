#include "common/hh.hpp"

#include <filesystem>

#include <ram/config.hpp>
#include <ram/error.hpp>

#include "common/source.hpp"
#include "common/templates.hpp"

namespace ram_datasets {

Row parse_hh_record(const json& obj, const std::string& where) {
  const std::string chosen = string_field(obj, "chosen", where);
  const std::string rejected = string_field(obj, "rejected", where);
  const std::size_t pc = hh_prompt_length(chosen);
  const std::size_t pr = hh_prompt_length(rejected);
  for (auto [len, field] : {std::pair{pc, "chosen"}, {pr, "rejected"}})
    if (len == std::string::npos)
      throw ram::DataError(std::string("the ") + field + " transcript has no \"\\n\\nAssistant:\" turn", where,
                           "fix the record, or set on_error: skip");
  if (pc != pr || chosen.compare(0, pc, rejected, 0, pr) != 0) {
    std::size_t at = 0;
    while (at < pc && at < pr && chosen[at] == rejected[at]) ++at;
    throw ram::DataError("the chosen and rejected transcripts have different prompts (they differ from "
                             "byte " + std::to_string(at + 1) + ")",
                         where, "fix the record, or set on_error: skip to leave such pairs out");
  }
  Row row;
  row.prompt = chosen.substr(0, pc);
  row.chosen = chosen.substr(pc);
  row.rejected = rejected.substr(pr);
  row.has_rejected = true;
  return row;
}

HhDataset::HhDataset(const ram::ConfigView& cfg, const std::string& plugin,
                     const std::vector<std::string>& fixed_subsets)
    : RecordDataset(plugin) {
  read_common(cfg);
  const std::string root_key = cfg.dotted("root");
  const std::string root = cfg.get<std::string>("root");
  std::vector<std::string> subsets = fixed_subsets;
  if (subsets.empty()) {
    subsets = cfg.get<std::vector<std::string>>(
        "subsets", {"helpful-base", "helpful-online", "helpful-rejection-sampled", "harmless-base"});
    if (subsets.empty())
      throw ram::ConfigError("key '" + cfg.dotted("subsets") + "' is an empty list", cfg.where("subsets").str(),
                             "name at least one subset folder, e.g. [helpful-base]");
  }
  cfg.finish();
  std::string options = "root-relative subsets:";
  for (const std::string& subset : subsets) {
    if (subset.empty() || subset.find('/') != std::string::npos || subset == "." || subset == "..")
      throw ram::ConfigError("subset '" + subset + "' is not a folder name", cfg.where("subsets").str(),
                             "list folder names under " + root_key + ", e.g. helpful-base");
    options += " " + subset;
    const std::string dir = (std::filesystem::path(root) / subset).string();
    const std::string file =
        find_split_file(dir, split(), root_key, "'" + split() + "' file of HH subset " + subset);
    load_file(file, root_key, subset + "/" + split(), [&subset](const json& obj, const std::string& where) {
      Row row = parse_hh_record(obj, where);
      row.meta["subset"] = subset;
      return row;
    });
  }
  finish_loading(root_key, options);
}

}  // namespace ram_datasets
