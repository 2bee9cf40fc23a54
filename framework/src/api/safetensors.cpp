// safetensors.cpp — HuggingFace safetensors: memory-mapped, validated reader and atomic
// writer (see ram/safetensors.hpp for the format and the validation contract).
#include "ram/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "ram/error.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; this reader assumes a little-endian host");

namespace ram::safetensors {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::uint64_t kMaxHeader = 100'000'000;  // 100 MB, as the Rust crate
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

struct DtypeDesc {
  const char* name;
  at::ScalarType type;
  std::uint64_t size;
};

constexpr DtypeDesc kDtypes[] = {
    {"F32", at::kFloat, 4}, {"F16", at::kHalf, 2},  {"BF16", at::kBFloat16, 2},
    {"F64", at::kDouble, 8}, {"I64", at::kLong, 8}, {"I32", at::kInt, 4},
    {"I16", at::kShort, 2}, {"I8", at::kChar, 1},   {"U8", at::kByte, 1},
    {"BOOL", at::kBool, 1}};

const DtypeDesc* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeDesc* find_dtype(at::ScalarType t) {
  for (const auto& d : kDtypes)
    if (t == d.type) return &d;
  return nullptr;
}

std::string known_dtypes() {
  std::string s;
  for (const auto& d : kDtypes) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

std::string where_of(const fs::path& file, const std::string& tensor = {}) {
  std::string s = file.string();
  if (!tensor.empty()) s += ", tensor '" + tensor + "'";
  return s;
}

[[noreturn]] void fail(const std::string& what, const fs::path& file, const std::string& tensor,
                       const std::string& hint) {
  throw FormatError(what, where_of(file, tensor), hint);
}

// A read-only private mapping of a whole file; unmapped when the last owner (an Archive or
// a tensor's deleter) lets go.
struct Mapping {
  const std::uint8_t* data = nullptr;
  std::uint64_t size = 0;
  ~Mapping() {
    if (data) ::munmap(const_cast<std::uint8_t*>(data), size);
  }
};

std::shared_ptr<Mapping> map_file(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail(std::string("cannot open safetensors file: ") + std::strerror(errno), file, {},
         "check the path");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("not a regular file", file, {}, "pass a .safetensors file, an index.json or a directory");
  }
  auto m = std::make_shared<Mapping>();
  m->size = static_cast<std::uint64_t>(st.st_size);
  if (m->size < 8) {
    ::close(fd);
    fail("file is " + std::to_string(m->size) + " bytes, shorter than the 8-byte header length",
         file, {}, "the file is truncated or not a safetensors file");
  }
  void* p = ::mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);
  if (p == MAP_FAILED)
    fail(std::string("cannot memory-map the file: ") + std::strerror(err), file, {},
         "check free address space and the file system");
  m->data = static_cast<const std::uint8_t*>(p);
  return m;
}

struct Shard {
  fs::path file;
  std::shared_ptr<Mapping> map;
  std::uint64_t data_start = 0;  // 8 + header length
  std::map<std::string, TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
};

std::uint64_t as_u64(const json& v, const fs::path& file, const std::string& tensor,
                     const char* field) {
  if (!v.is_number_unsigned())
    fail(std::string("'") + field + "' holds " + v.dump() + ", not a non-negative integer", file,
         tensor, "the header is corrupt");
  return v.get<std::uint64_t>();
}

TensorInfo parse_entry(const std::string& name, const json& e, const fs::path& file) {
  if (!e.is_object())
    fail("header entry is " + std::string(e.type_name()) + ", not an object", file, name,
         "expected {\"dtype\", \"shape\", \"data_offsets\"}");
  TensorInfo ti;
  ti.name = name;
  ti.file = file;
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!e.contains(key))
      fail(std::string("header entry lacks '") + key + "'", file, name, "the header is corrupt");
  if (!e["dtype"].is_string())
    fail("'dtype' is not a string", file, name, "the header is corrupt");
  ti.dtype = e["dtype"].get<std::string>();
  if (!find_dtype(ti.dtype))
    fail("unknown or unsupported dtype '" + ti.dtype + "'", file, name,
         "ram reads " + known_dtypes());
  const json& shape = e["shape"];
  if (!shape.is_array()) fail("'shape' is not an array", file, name, "the header is corrupt");
  for (const auto& d : shape) {
    std::uint64_t v = as_u64(d, file, name, "shape");
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail("shape dimension " + std::to_string(v) + " is too large", file, name,
           "the header is corrupt");
    ti.shape.push_back(static_cast<std::int64_t>(v));
  }
  const json& off = e["data_offsets"];
  if (!off.is_array() || off.size() != 2)
    fail("'data_offsets' is not a [begin, end] pair", file, name, "the header is corrupt");
  ti.begin = as_u64(off[0], file, name, "data_offsets");
  ti.end = as_u64(off[1], file, name, "data_offsets");
  return ti;
}

// Checks a tensor's byte range against its dtype and shape and the data area's size.
void check_range(const TensorInfo& ti, std::uint64_t data_size, const fs::path& file) {
  std::string range = "[" + std::to_string(ti.begin) + ", " + std::to_string(ti.end) + ")";
  if (ti.end < ti.begin)
    fail("data_offsets " + range + " end before they begin", file, ti.name,
         "the header is corrupt");
  std::uint64_t bytes = find_dtype(ti.dtype)->size;
  for (std::int64_t d : ti.shape) {
    auto ud = static_cast<std::uint64_t>(d);
    if (ud != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / ud)
      fail("shape overflows 64 bits", file, ti.name, "the header is corrupt");
    bytes *= ud;
  }
  if (ti.end - ti.begin != bytes)
    fail("data_offsets " + range + " span " + std::to_string(ti.end - ti.begin) +
             " bytes but dtype " + ti.dtype + " and the shape need " + std::to_string(bytes),
         file, ti.name, "the header is corrupt");
  if (ti.end > data_size)
    fail("data_offsets " + range + " run past the end of the data area, which holds " +
             std::to_string(data_size) + " bytes",
         file, ti.name, "the file is truncated or its header is corrupt");
}

Shard open_shard(const fs::path& file) {
  Shard s;
  s.file = file;
  s.map = map_file(file);
  std::uint64_t n = 0;
  std::memcpy(&n, s.map->data, 8);
  if (n > kMaxHeader)
    fail("header length " + std::to_string(n) + " exceeds the 100 MB limit", file, {},
         "not a safetensors file, or a corrupt one");
  if (n > s.map->size - 8)
    fail("header length " + std::to_string(n) + " runs past the end of the file, which is " +
             std::to_string(s.map->size) + " bytes",
         file, {}, "the file is truncated");
  s.data_start = 8 + n;
  const auto* h = reinterpret_cast<const char*>(s.map->data + 8);
  json header;
  try {
    header = json::parse(h, h + n);
  } catch (const json::exception& e) {
    fail(std::string("header is not valid JSON: ") + e.what(), file, {},
         "the file is corrupt or not a safetensors file");
  }
  if (!header.is_object())
    fail("header is a JSON " + std::string(header.type_name()) + ", not an object", file, {},
         "the file is corrupt or not a safetensors file");
  std::vector<TensorInfo> infos;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object())
        fail("__metadata__ is not an object", file, {}, "the header is corrupt");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string())
          fail("__metadata__ value of '" + m.key() + "' is not a string", file, {},
               "safetensors metadata maps strings to strings");
        s.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    infos.push_back(parse_entry(it.key(), it.value(), file));
  }
  // In file order, so a truncated file names the first tensor it cuts.
  std::sort(infos.begin(), infos.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t data_size = s.map->size - s.data_start;
  const TensorInfo* prev = nullptr;
  for (const auto& ti : infos) {
    check_range(ti, data_size, file);
    if (prev && ti.begin < prev->end && ti.end > ti.begin)
      fail("data_offsets [" + std::to_string(ti.begin) + ", " + std::to_string(ti.end) +
               ") overlap those of tensor '" + prev->name + "' [" +
               std::to_string(prev->begin) + ", " + std::to_string(prev->end) + ")",
           file, ti.name, "the header is corrupt");
    if (ti.end > ti.begin) prev = &ti;
  }
  for (auto& ti : infos) s.tensors.emplace(ti.name, std::move(ti));
  return s;
}

json read_json_file(const fs::path& file) {
  auto m = map_file(file);
  const auto* p = reinterpret_cast<const char*>(m->data);
  try {
    return json::parse(p, p + m->size);
  } catch (const json::exception& e) {
    fail(std::string("index is not valid JSON: ") + e.what(), file, {}, "the index is corrupt");
  }
}

}  // namespace

struct Archive::Impl {
  std::vector<Shard> shards;
  std::map<std::string, std::pair<std::size_t, const TensorInfo*>> tensors;  // name → shard
  std::map<std::string, std::string> metadata;
  fs::path origin;
};

namespace {

void open_index(Archive::Impl& impl, const fs::path& index) {
  json j = read_json_file(index);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail("index has no \"weight_map\" object", index, {},
         "expected {\"metadata\": {...}, \"weight_map\": {tensor: file}}");
  std::map<std::string, std::size_t> shard_of_file;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string())
      fail("weight_map value is not a file name", index, it.key(), "the index is corrupt");
    const std::string fname = it.value().get<std::string>();
    auto found = shard_of_file.find(fname);
    if (found == shard_of_file.end()) {
      fs::path shard = index.parent_path() / fname;
      if (!fs::is_regular_file(shard))
        fail("index names shard '" + fname + "', which does not exist", index, it.key(),
             "copy the missing shard or fix the index");
      impl.shards.push_back(open_shard(shard));
      found = shard_of_file.emplace(fname, impl.shards.size() - 1).first;
    }
  }
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    std::size_t si = shard_of_file.at(it.value().get<std::string>());
    const Shard& sh = impl.shards[si];
    auto t = sh.tensors.find(it.key());
    if (t == sh.tensors.end())
      fail("index places tensor in shard '" + sh.file.filename().string() +
               "', which does not hold it",
           index, it.key(), "the index and its shards disagree");
    impl.tensors[it.key()] = {si, &t->second};
  }
  for (const auto& sh : impl.shards) impl.metadata.insert(sh.metadata.begin(), sh.metadata.end());
}

}  // namespace

Archive Archive::open(const fs::path& path) {
  Archive a;
  a.impl_ = std::make_shared<Impl>();
  Impl& impl = *a.impl_;
  impl.origin = path;
  fs::path target = path;
  if (fs::is_directory(path)) {
    if (fs::exists(path / kIndexName))
      target = path / kIndexName;
    else if (fs::exists(path / kSingleName))
      target = path / kSingleName;
    else
      fail(std::string("directory holds neither ") + kIndexName + " nor " + kSingleName, path, {},
           "point at a HuggingFace model directory or a .safetensors file");
  }
  const std::string fname = target.filename().string();
  if (fname.size() >= 11 && fname.compare(fname.size() - 11, 11, ".index.json") == 0) {
    open_index(impl, target);
  } else {
    impl.shards.push_back(open_shard(target));
    for (const auto& [name, ti] : impl.shards[0].tensors) impl.tensors[name] = {0, &ti};
    impl.metadata = impl.shards[0].metadata;
  }
  return a;
}

std::vector<std::string> Archive::names() const {
  std::vector<std::string> v;
  v.reserve(impl_->tensors.size());
  for (const auto& kv : impl_->tensors) v.push_back(kv.first);
  return v;
}

bool Archive::contains(const std::string& name) const { return impl_->tensors.count(name) > 0; }

const TensorInfo& Archive::info(const std::string& name) const {
  auto it = impl_->tensors.find(name);
  if (it == impl_->tensors.end())
    fail("no tensor of that name (" + std::to_string(impl_->tensors.size()) + " tensors)",
         impl_->origin, name, "list them with names()");
  return *it->second.second;
}

at::Tensor Archive::get(const std::string& name) const {
  const TensorInfo& ti = info(name);
  const Shard& sh = impl_->shards[impl_->tensors.at(name).first];
  const DtypeDesc* d = find_dtype(ti.dtype);
  auto opts = at::TensorOptions().dtype(d->type).device(at::kCPU);
  if (ti.end == ti.begin) return at::empty(ti.shape, opts);
  const std::uint8_t* p = sh.map->data + sh.data_start + ti.begin;
  if (reinterpret_cast<std::uintptr_t>(p) % d->size != 0) {
    // safetensors does not promise alignment: an unaligned view would be undefined
    // behaviour for the kernels, so copy.
    at::Tensor t = at::empty(ti.shape, opts);
    std::memcpy(t.data_ptr(), p, ti.end - ti.begin);
    return t;
  }
  std::shared_ptr<Mapping> keep = sh.map;
  return at::from_blob(const_cast<std::uint8_t*>(p), ti.shape,
                       [keep](void*) mutable { keep.reset(); }, opts);
}

const std::map<std::string, std::string>& Archive::metadata() const { return impl_->metadata; }

// ---------------------------------------------------------------------------------------
// Writing

namespace {

struct Prepared {
  std::string name;
  const DtypeDesc* dtype;
  at::Tensor data;  // CPU, contiguous
  std::uint64_t bytes;
};

std::vector<Prepared> prepare(const NamedTensors& tensors, const fs::path& file) {
  std::vector<Prepared> out;
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__")
      throw FormatError("tensor name '" + name + "' is reserved or empty", where_of(file, name),
                        "rename the tensor");
    if (!seen.insert(name).second)
      throw FormatError("tensor name appears twice", where_of(file, name),
                        "each tensor needs a unique name");
    if (!t.defined())
      throw FormatError("tensor is undefined", where_of(file, name), "pass a defined tensor");
    const DtypeDesc* d = find_dtype(t.scalar_type());
    if (!d)
      throw FormatError(std::string("dtype ") + c10::toString(t.scalar_type()) +
                            " cannot be written",
                        where_of(file, name), "convert it to one of " + known_dtypes());
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    out.push_back({name, d, c, static_cast<std::uint64_t>(c.nbytes())});
  }
  return out;
}

std::string unique_suffix() {
  std::random_device rd;
  std::uint64_t r = (std::uint64_t(rd()) << 32) ^ rd();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d-%012llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(r & 0xffffffffffffULL));
  return buf;
}

[[noreturn]] void io_fail(const std::string& what, const fs::path& file, int err) {
  throw Error(what + ": " + std::strerror(err), file.string(),
              "check free space and permissions of the directory");
}

// Writes the chunks to a temporary file beside `file`, fsyncs it, renames it over `file`
// and fsyncs the directory: `file` never holds a partial write.
void write_atomic(const fs::path& file,
                  const std::vector<std::pair<const void*, std::uint64_t>>& chunks) {
  fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  fs::path tmp = dir / ("." + file.filename().string() + ".tmp-" + unique_suffix());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) io_fail("cannot create temporary file", tmp, errno);
  auto abandon = [&](const char* what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    io_fail(what, tmp, err);
  };
  for (const auto& [ptr, len] : chunks) {
    const auto* p = static_cast<const char*>(ptr);
    std::uint64_t left = len;
    while (left > 0) {
      ssize_t w = ::write(fd, p, std::min<std::uint64_t>(left, 1u << 30));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) abandon("cannot write");
      p += w;
      left -= static_cast<std::uint64_t>(w);
    }
  }
  if (::fsync(fd) != 0) abandon("cannot fsync");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    io_fail("cannot close", tmp, err);
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    io_fail("cannot rename the temporary file into place", file, err);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {  // best effort: some file systems refuse to fsync directories
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_prepared(const fs::path& file, const std::vector<Prepared>& ts,
                    const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto& t : ts) {
    h[t.name] = {{"dtype", t.dtype->name},
                 {"shape", t.data.sizes().vec()},
                 {"data_offsets", {offset, offset + t.bytes}}};
    offset += t.bytes;
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-aligned, as the Rust crate
  std::uint64_t n = header.size();
  std::vector<std::pair<const void*, std::uint64_t>> chunks{{&n, 8}, {header.data(), n}};
  for (const auto& t : ts)
    if (t.bytes) chunks.emplace_back(t.data.data_ptr(), t.bytes);
  write_atomic(file, chunks);
}

bool is_shard_name(const std::string& f) {
  // model-00001-of-00003.safetensors
  if (f.size() != 32 || f.compare(0, 6, "model-") != 0 || f.compare(11, 4, "-of-") != 0 ||
      f.compare(20, 12, ".safetensors") != 0)
    return false;
  for (int i : {6, 7, 8, 9, 10, 15, 16, 17, 18, 19})
    if (f[i] < '0' || f[i] > '9') return false;
  return true;
}

// Removes what an earlier save of another layout left in `dir` (as HF's save_pretrained
// does), so that open(dir) never mixes two checkpoints.
void remove_stale(const fs::path& dir, const std::set<std::string>& keep) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (keep.count(f)) continue;
    if (f == kIndexName || f == kSingleName || is_shard_name(f)) fs::remove(e.path(), ec);
  }
}

}  // namespace

void save(const fs::path& file, const NamedTensors& tensors,
          const std::map<std::string, std::string>& metadata) {
  write_prepared(file, prepare(tensors, file), metadata);
}

void save_sharded(const fs::path& dir, const NamedTensors& tensors,
                  std::uint64_t max_shard_bytes,
                  const std::map<std::string, std::string>& metadata) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error("cannot create the checkpoint directory: " + ec.message(), dir.string(),
                "check the path and permissions");
  auto all = prepare(tensors, dir);
  // Greedy, in the given order: a new shard when the next tensor would overflow this one.
  std::vector<std::vector<Prepared>> shards(1);
  std::uint64_t size = 0, total = 0;
  for (auto& t : all) {
    if (!shards.back().empty() && size + t.bytes > max_shard_bytes) {
      shards.emplace_back();
      size = 0;
    }
    size += t.bytes;
    total += t.bytes;
    shards.back().push_back(std::move(t));
  }
  if (shards.size() == 1) {
    write_prepared(dir / kSingleName, shards[0], metadata);
    remove_stale(dir, {kSingleName});
    return;
  }
  std::set<std::string> written{kIndexName};
  json weight_map = json::object();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_prepared(dir / name, shards[i], metadata);
    written.insert(name);
    for (const auto& t : shards[i]) weight_map[t.name] = name;
  }
  json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::string text = index.dump(2) + "\n";
  write_atomic(dir / kIndexName, {{text.data(), text.size()}});  // last: shards are complete
  remove_stale(dir, written);
}

}  // namespace ram::safetensors
