// train/checkpoint.cpp — training checkpoints in HDF5 and `ram export` (checkpoint.hpp).
//
// Layout of a file (h5py view):
//   /model/<HF name>            the parameters (write_tensor: shape + dtype attribute)
//   /optimizer/<state>          float32[N] per optimizer state, /optimizer/master float32[N]
//   /optimizer/layout_names     ragged names (+ layout_names_offsets), layout_offsets int64[P+1]
//   /tokenizer/<file>           one ragged item: the file's bytes
//   "/" attributes              provenance + the trainer state (checkpoint.hpp)
// The shapes of the flat layout are not stored twice: parameter p's shape is the shape
// of /model/<names[p]>.
#include "train/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ATen/ATen.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dist/dist.hpp"
#include "h5/reader.hpp"
#include "h5/writer.hpp"
#include "model/hf_dir.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "ram/safetensors.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

namespace ram::train {

namespace {

const char* kLayoutNames = "/optimizer/layout_names";
const char* kLayoutOffsets = "/optimizer/layout_offsets";
const char* kMaster = "/optimizer/master";

int my_rank() { return dist::initialized() ? dist::rank() : 0; }
int world() { return dist::initialized() ? dist::size() : 1; }

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

std::int64_t numel_of(const std::vector<std::int64_t>& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Names, shapes and offsets agree with each other (offsets from 0, one numel per step).
// Returns "" when consistent, else the first problem.
std::string layout_problem(const FlatLayout& l) {
  const size_t p = l.names.size();
  if (l.shapes.size() != p) return "names and shapes differ in count";
  if (l.offsets.size() != p + 1) return "offsets must have one entry more than names";
  if (l.offsets[0] != 0) return "offsets must start at 0";
  for (size_t i = 0; i < p; ++i)
    if (l.offsets[i + 1] - l.offsets[i] != numel_of(l.shapes[i]))
      return "parameter '" + l.names[i] + "' " + shape_str(l.shapes[i]) + " spans " +
             std::to_string(l.offsets[i + 1] - l.offsets[i]) + " elements";
  return "";
}

std::string read_bytes(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + f.filename().string(), f.string(),
                             "check that the file exists and is readable");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The local part of a flat state as float32 contiguous: checked against its expected size.
at::Tensor local_part(const at::Tensor& t, std::int64_t expect, const std::string& what) {
  if (!t.defined()) {
    if (expect == 0) return at::empty({0}, at::kFloat);
    throw Error("optimizer state '" + what + "' is missing on rank " + std::to_string(my_rank()),
                "train::write_checkpoint", "pass this rank's part of every flat state");
  }
  if (t.dim() != 1 || t.numel() != expect)
    throw Error("optimizer state '" + what + "' on rank " + std::to_string(my_rank()) + " has " +
                    std::to_string(t.numel()) + " elements (shape " +
                    shape_str(t.sizes().vec()) + "), expected 1-D with " + std::to_string(expect),
                "train::write_checkpoint",
                "ZeRO-1: each rank passes its shard_range; else rank 0 passes the whole buffer "
                "and the others empty tensors");
  return t.detach().to(at::kCPU, at::kFloat).contiguous();
}

// Writes LATEST (temp + fsync + rename) naming `file_name`.
void write_latest(const fs::path& ckpt_dir, const std::string& file_name) {
  const fs::path latest = ckpt_dir / "LATEST";
  const fs::path tmp = ckpt_dir / ("LATEST.tmp-" + std::to_string(::getpid()));
  const std::string text = file_name + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  bool ok = fd >= 0;
  if (ok) ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (ok) ok = ::fsync(fd) == 0;
  if (fd >= 0 && ::close(fd) != 0) ok = false;
  if (!ok) {
    std::string why = std::strerror(errno);
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error("cannot write LATEST: " + why, latest.string(), "check free space and permissions");
  }
  std::error_code ec;
  fs::rename(tmp, latest, ec);
  if (ec) throw Error("cannot rename LATEST into place: " + ec.message(), latest.string(),
                      "check permissions of the checkpoint directory");
  int dfd = ::open(ckpt_dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);  // the rename itself durable (best effort)
    ::close(dfd);
  }
}

// Names of the optimizer states in an open file: the datasets of /optimizer that are not
// the layout or the master.
std::vector<std::string> state_names(const h5::Reader& r) {
  std::vector<std::string> out;
  if (!r.has("/optimizer")) return out;
  for (const auto& n : r.list("/optimizer"))
    if (n != "layout_names" && n != "layout_names_offsets" && n != "layout_offsets" && n != "master")
      out.push_back(n);
  return out;
}

// The flat layout stored in a file (shapes from /model), checked for consistency.
FlatLayout read_layout(const h5::Reader& r) {
  FlatLayout l;
  l.names = r.read_ragged(kLayoutNames);
  l.offsets = r.read_array<std::int64_t>(kLayoutOffsets);
  for (const auto& n : l.names) {
    if (!r.has("/model/" + n))
      throw FormatError("layout names parameter '" + n + "', which /model does not hold", r.path(),
                        "the checkpoint is damaged; use another one");
    l.shapes.push_back(r.shape("/model/" + n));
  }
  std::string problem = layout_problem(l);
  if (!problem.empty())
    throw FormatError("inconsistent optimizer layout: " + problem, r.path(),
                      "the checkpoint is damaged; use another one");
  return l;
}

at::Tensor read_flat(const h5::Reader& r, const std::string& name, std::int64_t n,
                     std::int64_t begin, std::int64_t end) {
  auto shape = r.shape(name);
  if (shape.size() != 1 || shape[0] != n)
    throw FormatError(name + " has shape " + shape_str(shape) + ", the layout needs [" +
                          std::to_string(n) + "]",
                      r.path(), "the checkpoint is damaged; use another one");
  auto v = r.read_array<float>(name, begin, end);
  at::Tensor t = at::empty({end - begin}, at::kFloat);
  if (!v.empty()) std::memcpy(t.data_ptr<float>(), v.data(), v.size() * sizeof(float));
  return t;
}

std::string list_some(const std::vector<std::string>& v) {
  std::string out;
  const size_t shown = std::min<size_t>(v.size(), 5);
  for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + v[i];
  if (v.size() > shown) out += ", ... (" + std::to_string(v.size()) + " in all)";
  return out;
}

}  // namespace

std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t n, int rank, int world) {
  if (world <= 0 || rank < 0 || rank >= world || n < 0)
    throw Error("shard_range(" + std::to_string(n) + ", " + std::to_string(rank) + ", " +
                    std::to_string(world) + "): need 0 <= rank < world and n >= 0",
                "train::shard_range");
  const std::int64_t base = n / world, extra = n % world;
  const std::int64_t begin = rank * base + std::min<std::int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

fs::path write_checkpoint(const fs::path& out_dir, const CausalLM& model, const CheckpointData& data,
                          const fs::path& tokenizer_dir, const std::string& config_yaml,
                          const std::string& command) {
  const int rank = my_rank(), W = world();
  const bool root = rank == 0;
  const FlatLayout& layout = data.layout;
  std::string problem = layout_problem(layout);
  if (!problem.empty())
    throw Error("inconsistent optimizer layout: " + problem, "train::write_checkpoint");
  if (data.optimizer.empty())
    throw Error("no optimizer name", "train::write_checkpoint", "set CheckpointData::optimizer");
  const std::int64_t N = layout.numel();
  const auto [lo, hi] = data.zero1 ? shard_range(N, rank, W)
                                   : std::pair<std::int64_t, std::int64_t>{0, root ? N : 0};
  const std::int64_t local_n = hi - lo;
  const bool has_master = model.dtype() != at::kFloat;

  // The state names are rank 0's (the others may hold none without ZeRO-1).
  std::string joined;
  if (root)
    for (const auto& [k, v] : data.optimizer_state) joined += k + "\n";
  if (W > 1) dist::broadcast(joined, 0);
  std::vector<std::string> states;
  {
    std::istringstream in(joined);
    for (std::string k; std::getline(in, k);) states.push_back(k);
  }
  std::vector<at::Tensor> parts;
  for (const auto& k : states) {
    if (k.empty() || k.find('/') != std::string::npos || k == "master" ||
        k.rfind("layout_", 0) == 0)
      throw Error("optimizer state name '" + k + "' is reserved or not a plain name",
                  "train::write_checkpoint", "rename the state");
    auto it = data.optimizer_state.find(k);
    parts.push_back(local_part(it == data.optimizer_state.end() ? at::Tensor() : it->second,
                               local_n, k));
  }
  at::Tensor master;
  if (has_master) master = local_part(data.master, local_n, "master");

  // Tokenizer files (rank 0 reads; the names travel to everyone for the collective writes).
  // Every rank checks (the same answer on a shared file system: one error, no hang).
  std::error_code ec;
  if (!fs::is_regular_file(tokenizer_dir / "tokenizer.json", ec))
    throw ConfigError("no tokenizer.json in the tokenizer directory", tokenizer_dir.string(),
                      "the checkpoint stores the aligner's tokenizer: give model.path's "
                      "directory (it must hold tokenizer.json)");
  std::vector<std::pair<std::string, std::string>> tok;  // name → bytes (rank 0)
  std::string fingerprint, tok_names;
  if (root) {
    for (const auto& f : model::tokenizer_files(tokenizer_dir)) {
      tok.emplace_back(f.filename().string(), read_bytes(f));
      tok_names += f.filename().string() + "\n";
      if (f.filename() == "tokenizer.json") fingerprint = "sha256:" + tok::sha256_hex(tok.back().second);
    }
  }
  if (W > 1) dist::broadcast(tok_names, 0);

  const fs::path ckpt_dir = out_dir / "ckpt";
  if (root) {
    fs::create_directories(ckpt_dir, ec);
    if (ec) throw Error("cannot create the checkpoint directory: " + ec.message(),
                        ckpt_dir.string(), "check permissions and free space");
  }
  if (W > 1) dist::barrier();
  const std::string file_name = "step-" + std::to_string(data.trainer.step) + ".h5";
  const fs::path file = ckpt_dir / file_name;

  auto config = nlohmann::json::parse(model.hf_config_json());
  auto w = h5::Writer::create(file.string(), /*parallel=*/true);
  w.write_provenance(command, config_yaml);
  w.set_attr("/", "hf_config_json", model.hf_config_json());
  w.set_attr("/", "model_type", config.value("model_type", std::string()));
  w.set_attr("/", "tokenizer_fingerprint", fingerprint);
  w.set_attr("/", "optimizer", data.optimizer);
  w.set_attr("/", "step", data.trainer.step);
  w.set_attr("/", "examples_seen", data.trainer.examples_seen);
  w.set_attr("/", "epoch", data.trainer.epoch);
  w.set_attr("/", "epoch_cursor", data.trainer.epoch_cursor);
  // int64 attribute holding the uint64's bits (h5py shows seeds >= 2^63 as negative).
  w.set_attr("/", "seed", static_cast<std::int64_t>(data.trainer.seed));
  w.set_attr("/", "zero1", data.zero1 ? 1 : 0);
  w.set_attr("/", "metrics_json", data.trainer.metrics_json);

  w.create_group("/model");
  for (const auto& p : model.named_parameters(/*recurse=*/true))
    w.write_tensor("/model/" + p.key(), p.value().detach());

  w.create_group("/optimizer");
  for (size_t i = 0; i < states.size(); ++i)
    w.write_array<float>("/optimizer/" + states[i], parts[i].data_ptr<float>(), local_n);
  if (has_master) w.write_array<float>(kMaster, master.data_ptr<float>(), local_n);
  w.write_ragged(kLayoutNames, root ? layout.names : std::vector<std::string>{});
  w.write_array<std::int64_t>(kLayoutOffsets, root ? layout.offsets : std::vector<std::int64_t>{});

  w.create_group("/tokenizer");
  {
    std::istringstream in(tok_names);
    size_t i = 0;
    for (std::string name; std::getline(in, name); ++i)
      w.write_ragged("/tokenizer/" + name,
                     root ? std::vector<std::string>{tok[i].second} : std::vector<std::string>{});
  }
  w.finalize();

  if (root) write_latest(ckpt_dir, file_name);
  if (W > 1) dist::barrier();
  return file;
}

// A path that does not exist is also nullopt (a fresh train.out: nothing to resume);
// export_hf turns both into a ConfigError.
std::optional<fs::path> resolve_checkpoint(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return path;
  if (!fs::is_directory(path, ec)) return std::nullopt;
  for (const fs::path& dir : {path, path / "ckpt"}) {
    const fs::path latest = dir / "LATEST";
    if (!fs::is_regular_file(latest, ec)) continue;
    std::ifstream in(latest);
    std::string name;
    std::getline(in, name);
    while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
    if (name.empty() || name.find('/') != std::string::npos)
      throw FormatError("LATEST does not name a checkpoint file ('" + name + "')", latest.string(),
                        "it must hold one file name such as step-120.h5; fix or delete it");
    const fs::path file = dir / name;
    if (!fs::is_regular_file(file, ec))
      throw FormatError("LATEST names '" + name + "', which does not exist", latest.string(),
                        "restore that file or point LATEST at a checkpoint that exists");
    return file;
  }
  return std::nullopt;
}

void load_model_weights(const fs::path& file, CausalLM& model) {
  auto r = h5::Reader::open(file.string());
  if (!r.has("/model") || !r.is_group("/model"))
    throw FormatError("no /model group", file.string(), "is this a ram training checkpoint?");
  const auto stored = r.list("/model");
  const std::set<std::string> in_file(stored.begin(), stored.end());
  std::set<std::string> in_model;
  std::vector<std::string> missing, bad_shape, extra;
  auto params = model.named_parameters(/*recurse=*/true);
  for (const auto& p : params) {
    in_model.insert(p.key());
    if (!in_file.count(p.key())) {
      missing.push_back(p.key());
      continue;
    }
    auto s = r.shape("/model/" + p.key());
    if (s != p.value().sizes().vec())
      bad_shape.push_back(p.key() + " " + shape_str(s) + " vs " + shape_str(p.value().sizes().vec()));
  }
  for (const auto& n : stored)
    if (!in_model.count(n)) extra.push_back(n);
  if (!missing.empty() || !bad_shape.empty() || !extra.empty()) {
    std::string what = "checkpoint weights do not fit the model:";
    if (!missing.empty()) what += " missing " + list_some(missing) + ";";
    if (!bad_shape.empty()) what += " shape mismatch (checkpoint vs model) " + list_some(bad_shape) + ";";
    if (!extra.empty()) what += " unexpected " + list_some(extra) + ";";
    what.pop_back();
    throw FormatError(what, file.string(),
                      "load a checkpoint written for this architecture and size (model.path)");
  }
  at::NoGradGuard no_grad;
  for (auto& p : params) {
    at::Tensor t = r.read_tensor("/model/" + p.key());
    p.value().copy_(t);
  }
}

CheckpointData read_checkpoint(const fs::path& file, const FlatLayout& expect, std::int64_t begin,
                               std::int64_t end) {
  auto r = h5::Reader::open(file.string());
  CheckpointData d;
  d.layout = read_layout(r);
  const FlatLayout& got = d.layout;
  const std::string hint =
      "resume with the model and trainable parameters the checkpoint was written with, or "
      "start a fresh train.out";
  const size_t p = std::min(got.names.size(), expect.names.size());
  for (size_t i = 0; i < p; ++i) {
    const auto& es = i < expect.shapes.size() ? expect.shapes[i] : std::vector<std::int64_t>{};
    if (got.names[i] != expect.names[i] || got.shapes[i] != es)
      throw FormatError("optimizer layout differs at parameter " + std::to_string(i) +
                            ": the checkpoint has '" + got.names[i] + "' " + shape_str(got.shapes[i]) +
                            ", the model '" + expect.names[i] + "' " + shape_str(es),
                        file.string(), hint);
  }
  if (got.names.size() != expect.names.size())
    throw FormatError("optimizer layout differs: the checkpoint has " +
                          std::to_string(got.names.size()) + " parameters, the model " +
                          std::to_string(expect.names.size()) + " (first unmatched: '" +
                          (got.names.size() > p ? got.names[p] : expect.names[p]) + "')",
                      file.string(), hint);
  const std::int64_t N = got.numel();
  if (begin < 0 || begin > end || end > N)
    throw Error("range [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") is outside the flat buffers of " + std::to_string(N) + " elements",
                file.string(), "pass a range within [0, layout.numel())");
  for (const auto& name : state_names(r))
    d.optimizer_state[name] = read_flat(r, "/optimizer/" + name, N, begin, end);
  if (r.has(kMaster)) d.master = read_flat(r, kMaster, N, begin, end);
  d.optimizer = r.attr_string("/", "optimizer");
  d.zero1 = r.attr_int("/", "zero1") != 0;
  d.trainer.step = r.attr_int("/", "step");
  d.trainer.examples_seen = r.attr_int("/", "examples_seen");
  d.trainer.epoch = r.attr_int("/", "epoch");
  d.trainer.epoch_cursor = r.attr_int("/", "epoch_cursor");
  d.trainer.seed = static_cast<std::uint64_t>(r.attr_int("/", "seed"));
  d.trainer.metrics_json = r.attr_string("/", "metrics_json");
  return d;
}

void export_hf(const fs::path& checkpoint, const fs::path& dir, bool force) {
  std::error_code ec;
  if (!fs::exists(checkpoint, ec))
    throw ConfigError("checkpoint does not exist", checkpoint.string(),
                      "give a step-N.h5 file or a directory holding LATEST (train.out or its ckpt/)");
  auto file = resolve_checkpoint(checkpoint);
  if (!file)
    throw ConfigError("no LATEST in this directory (no checkpoint written yet)", checkpoint.string(),
                      "give a step-N.h5 file or a directory holding LATEST (train.out or its ckpt/)");
  model::check_out_dir(dir, force);
  auto r = h5::Reader::open(file->string());
  if (!r.has("/model") || !r.is_group("/model"))
    throw FormatError("no /model group", file->string(), "is this a ram training checkpoint?");
  const std::string config = r.attr_string("/", "hf_config_json");
  safetensors::NamedTensors tensors;
  for (const auto& name : r.list("/model")) tensors.emplace_back(name, r.read_tensor("/model/" + name));
  std::vector<std::pair<std::string, std::string>> files;
  if (r.has("/tokenizer")) {
    const auto names = r.list("/tokenizer");
    const std::set<std::string> all(names.begin(), names.end());
    for (const auto& n : names) {
      const std::string suffix = "_offsets";
      if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          all.count(n.substr(0, n.size() - suffix.size())))
        continue;  // the offsets half of a ragged pair
      auto items = r.read_ragged("/tokenizer/" + n);
      if (items.size() != 1)
        throw FormatError("/tokenizer/" + n + " holds " + std::to_string(items.size()) +
                              " items, expected the file's bytes as one",
                          file->string(), "the checkpoint is damaged; use another one");
      files.emplace_back(n, std::move(items[0]));
    }
  }
  model::write_hf_dir(dir, config, tensors, files, force);
}

}  // namespace ram::train
