// bench/safetensors_load — open a ~200 MB f32 safetensors file and get every tensor:
// ram::safetensors (mmap, zero-copy views) versus the naive loader (std::ifstream the whole
// file into memory, parse the header, copy each tensor into its own at::Tensor), same run,
// same warm page cache (the file was just written). One JSON line:
//   {"bench":"safetensors_load","bytes":..,"tensors":..,"mmap_open_get_ms":..,
//    "ifstream_copy_ms":..,"ratio":ifstream/mmap,"mmap_open_get_sum_ms":..,
//    "ifstream_copy_sum_ms":..,"ratio_with_sum":..,"write_ms":..}
// "_sum" adds one pass over every value (the first touch of the mapped pages is paid
// there), which is what a model load that then uses the weights pays. Times are the best
// of --reps runs (default 3); both loaders' sums must agree. The file is deleted at exit.
#include <unistd.h>

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ram/safetensors.hpp"

namespace fs = std::filesystem;
namespace st = ram::safetensors;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double sum_all(const std::vector<at::Tensor>& ts) {
  double s = 0;
  for (const auto& t : ts) s += t.sum(at::kDouble).item<double>();
  return s;
}

std::vector<at::Tensor> load_mmap(const fs::path& file) {
  auto a = st::Archive::open(file);
  std::vector<at::Tensor> out;
  for (const auto& name : a.names()) out.push_back(a.get(name));
  return out;
}

// The baseline: read everything, then copy each tensor out of the buffer.
std::vector<at::Tensor> load_ifstream(const fs::path& file) {
  std::ifstream f(file, std::ios::binary);
  std::vector<char> buf(fs::file_size(file));
  f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  std::uint64_t n = 0;
  std::memcpy(&n, buf.data(), 8);
  auto header = nlohmann::json::parse(buf.data() + 8, buf.data() + 8 + n);
  std::vector<std::pair<std::string, at::Tensor>> named;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    auto shape = it.value()["shape"].get<std::vector<std::int64_t>>();
    auto off = it.value()["data_offsets"].get<std::vector<std::uint64_t>>();
    at::Tensor t = at::empty(shape, at::kFloat);
    std::memcpy(t.data_ptr(), buf.data() + 8 + n + off[0], off[1] - off[0]);
    named.emplace_back(it.key(), t);
  }
  std::vector<at::Tensor> out;
  for (auto& kv : named) out.push_back(kv.second);  // json objects iterate sorted by name
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3, tensors = 50;
  std::int64_t per = 1 << 20;  // 4 MiB of f32 each: 200 MiB in all
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    if (a == "--tensors") tensors = std::atoi(argv[i + 1]);
  }
  auto dir = fs::temp_directory_path() / ("ram-bench-st-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "bench.safetensors";
  double write_ms = 0;
  {
    st::NamedTensors ts;
    at::manual_seed(0);
    for (int i = 0; i < tensors; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "layer.%03d.weight", i);
      ts.emplace_back(name, at::randn({per}));
    }
    auto t0 = std::chrono::steady_clock::now();
    st::save(file, ts);
    write_ms = ms_since(t0);
  }
  double best[4] = {1e30, 1e30, 1e30, 1e30};
  double sums[2] = {0, 0};
  for (int r = 0; r < reps; ++r) {
    for (int k = 0; k < 2; ++k) {
      auto t0 = std::chrono::steady_clock::now();
      auto ts = k == 0 ? load_mmap(file) : load_ifstream(file);
      double load = ms_since(t0);
      sums[k] = sum_all(ts);
      double with_sum = ms_since(t0);
      best[k] = std::min(best[k], load);
      best[2 + k] = std::min(best[2 + k], with_sum);
    }
  }
  auto bytes = fs::file_size(file);
  fs::remove_all(dir);
  if (sums[0] != sums[1]) {
    std::fprintf(stderr, "bench_safetensors_load: the loaders disagree (%.17g vs %.17g)\n",
                 sums[0], sums[1]);
    return 1;
  }
  std::printf(
      "{\"bench\":\"safetensors_load\",\"bytes\":%llu,\"tensors\":%d,\"mmap_open_get_ms\":%.3f,"
      "\"ifstream_copy_ms\":%.3f,\"ratio\":%.1f,\"mmap_open_get_sum_ms\":%.3f,"
      "\"ifstream_copy_sum_ms\":%.3f,\"ratio_with_sum\":%.2f,\"write_ms\":%.1f}\n",
      static_cast<unsigned long long>(bytes), tensors, best[0], best[1], best[1] / best[0],
      best[2], best[3], best[3] / best[2], write_ms);
  return 0;
}
