// model/hf_dir.cpp — load an HF directory through its model plugin; save one atomically.
#include "model/hf_dir.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/compose.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "ram/safetensors.hpp"

namespace fs = std::filesystem;

namespace ram::model {

namespace {

const char* kDirHint = "point --model at a HuggingFace model directory (config.json + "
                       "model.safetensors), e.g. one written by `ram make-tiny-model`";

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw FormatError("cannot read " + file.filename().string(), file.string(), kDirHint);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    auto j = nlohmann::json::parse(ss.str());
    if (!j.is_object()) throw FormatError("not a JSON object", file.string(), kDirHint);
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("malformed JSON: ") + e.what(), file.string(),
                      "fix or regenerate the file");
  }
}

nlohmann::json read_config(const fs::path& dir) {
  fs::path file = dir / "config.json";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw FormatError("model directory does not exist", dir.string(), kDirHint);
  if (!fs::exists(file, ec))
    throw FormatError("no config.json in the model directory", dir.string(), kDirHint);
  return read_json(file);
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw FormatError("cannot write " + file.filename().string(), file.string(),
                              "check free space and permissions");
}

std::vector<std::int64_t> ids_of(const nlohmann::json& v) {
  std::vector<std::int64_t> out;
  if (v.is_number_integer()) out.push_back(v.get<std::int64_t>());
  if (v.is_array())
    for (const auto& x : v)
      if (x.is_number_integer()) out.push_back(x.get<std::int64_t>());
  return out;
}

}  // namespace

std::string check_dtype(const std::string& dtype, const std::string& where) {
  if (dtype != "f32" && dtype != "bf16")
    throw ConfigError("unknown dtype '" + dtype + "'", where, "use f32 or bf16");
  return dtype;
}

std::string model_type(const fs::path& dir) {
  auto cfg = read_config(dir);
  auto it = cfg.find("model_type");
  if (it == cfg.end() || !it->is_string() || it->get<std::string>().empty())
    throw FormatError("config.json has no model_type", (dir / "config.json").string(),
                      "HF config files name their architecture in \"model_type\" (e.g. \"llama\")");
  return it->get<std::string>();
}

std::shared_ptr<CausalLM> load_model(const fs::path& dir, const std::string& dtype) {
  check_dtype(dtype, "--dtype");
  std::string type = model_type(dir);
  nlohmann::ordered_json node = {{"name", type}, {"path", fs::absolute(dir).string()}, {"dtype", dtype}};
  auto root = config::parse_yaml(node.dump(), (dir / "config.json").string());
  ConfigView view(root, "model");
  try {
    return plugin::Registry::instance().make_model(type, view);
  } catch (const PluginError& e) {
    if (e.what_part().rfind("no model plugin named", 0) != 0) throw;
    throw PluginError(e.what_part() + " (the model_type of " + (dir / "config.json").string() + ")",
                      e.where(), e.hint());
  }
}

GenerationInfo read_generation_info(const fs::path& dir) {
  nlohmann::json cfg = read_config(dir);
  std::error_code ec;
  if (fs::exists(dir / "generation_config.json", ec)) {
    auto gen = read_json(dir / "generation_config.json");
    for (auto& [k, v] : gen.items()) cfg[k] = v;  // generation_config.json wins
  }
  GenerationInfo g;
  if (cfg.contains("eos_token_id")) g.eos_ids = ids_of(cfg["eos_token_id"]);
  if (cfg.contains("bos_token_id")) {
    auto v = ids_of(cfg["bos_token_id"]);
    if (!v.empty()) g.bos_id = v[0];
  }
  if (cfg.contains("pad_token_id")) {
    auto v = ids_of(cfg["pad_token_id"]);
    if (!v.empty()) g.pad_id = v[0];
  }
  return g;
}

std::vector<fs::path> tokenizer_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    if (fs::is_regular_file(dir / name, ec)) out.push_back(dir / name);
  return out;
}

void check_out_dir(const fs::path& dir, bool force) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)) && !force)
    throw ConfigError("output directory exists and is not empty", dir.string(),
                      "choose another --out or pass --force to replace it");
}

void write_hf_dir(const fs::path& dir, const std::string& config_json,
                  const safetensors::NamedTensors& tensors,
                  const std::vector<std::pair<std::string, std::string>>& files, bool force) {
  check_out_dir(dir, force);
  nlohmann::ordered_json config;
  try {
    config = nlohmann::ordered_json::parse(config_json);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("model config is not valid JSON: ") + e.what(), dir.string(),
                      "the config.json text must be a JSON object");
  }
  if (!config.is_object())
    throw FormatError("model config is not a JSON object", dir.string(),
                      "the config.json text must be a JSON object");
  nlohmann::ordered_json gen = {{"_from_model_config", true}};
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"})
    if (config.contains(key) && !config[key].is_null()) gen[key] = config[key];
  gen["transformers_version"] = config.value("transformers_version", std::string("4.46.0"));
  for (const auto& f : files) {
    const auto& name = f.first;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name == "config.json" || name == "generation_config.json" || name == "model.safetensors")
      throw FormatError("'" + name + "' is not a file name an HF directory may take from its "
                        "tokenizer files", dir.string(), "rename or drop that file");
  }

  std::error_code ec;
  fs::path parent = fs::absolute(dir).parent_path();
  fs::create_directories(parent);
  fs::path tmp = parent / (dir.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp);
  try {
    write_text(tmp / "config.json", config.dump(2) + "\n");
    write_text(tmp / "generation_config.json", gen.dump(2) + "\n");
    safetensors::save(tmp / "model.safetensors", tensors, {{"format", "pt"}});
    for (const auto& [name, bytes] : files) write_text(tmp / name, bytes);
    if (fs::exists(dir, ec)) fs::remove_all(dir);
    fs::rename(tmp, dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

void save_hf_dir(const CausalLM& model, const fs::path& dir,
                 const std::optional<fs::path>& tokenizer_dir, bool force,
                 const std::string& config_overrides) {
  check_out_dir(dir, force);
  std::error_code ec;
  if (tokenizer_dir && !fs::is_regular_file(*tokenizer_dir / "tokenizer.json", ec))
    throw ConfigError("no tokenizer.json in the tokenizer directory", tokenizer_dir->string(),
                      "give a directory holding an HF tokenizer.json");

  auto config = nlohmann::ordered_json::parse(model.hf_config_json());
  const auto overrides = nlohmann::ordered_json::parse(config_overrides);
  for (const auto& [k, v] : overrides.items()) config[k] = v;

  safetensors::NamedTensors tensors;
  for (const auto& p : model.named_parameters(/*recurse=*/true))
    tensors.emplace_back(p.key(), p.value().detach().contiguous());

  std::vector<std::pair<std::string, std::string>> files;
  if (tokenizer_dir)
    for (const auto& f : tokenizer_files(*tokenizer_dir)) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      if (!in) throw FormatError("cannot read " + f.filename().string(), f.string(),
                                 "check that the tokenizer files are readable");
      files.emplace_back(f.filename().string(), ss.str());
    }
  write_hf_dir(dir, config.dump(), tensors, files, force);
}

}  // namespace ram::model
