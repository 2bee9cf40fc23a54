// bench/h5_text — 1e5 strings in HDF5: flat bytes + int64 offsets (what ram writes) versus
// HDF5 variable-length strings, written and read in the same run. One JSON line:
//   {"bench":"h5_text","n":100000,"flat_write_ms":..,"flat_read_ms":..,"vlen_write_ms":..,
//    "vlen_read_ms":..,"write_ratio":vlen/flat,"read_ratio":vlen/flat,"flat_bytes":..,
//    "vlen_bytes":..}
// Times are the best of --reps runs (default 3); both round trips are verified.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "h5/reader.hpp"
#include "h5/writer.hpp"

namespace fs = std::filesystem;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::string> make_items(int n) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> len(0, 160), ch('a', 'z');
  std::vector<std::string> v(n);
  for (auto& s : v) {
    s.resize(len(rng));
    for (auto& c : s) c = static_cast<char>(ch(rng));
  }
  return v;
}

struct Times {
  double write = 1e30, read = 1e30;
  std::uintmax_t bytes = 0;
};

template <class W, class R>
Times measure(const std::string& path, int reps, const std::vector<std::string>& items, W write,
              R read) {
  Times t;
  for (int i = 0; i < reps; ++i) {
    fs::remove(path);
    auto t0 = std::chrono::steady_clock::now();
    auto w = ram::h5::Writer::create(path, false);
    write(w);
    w.finalize();
    t.write = std::min(t.write, ms_since(t0));
    t0 = std::chrono::steady_clock::now();
    auto r = ram::h5::Reader::open(path);
    auto back = read(r);
    t.read = std::min(t.read, ms_since(t0));
    if (back != items) {
      std::fprintf(stderr, "bench_h5_text: round trip through %s differs\n", path.c_str());
      std::exit(1);
    }
  }
  t.bytes = fs::file_size(path);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000, reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--n") n = std::atoi(argv[i + 1]);
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
  }
  auto items = make_items(n);
  auto dir = fs::temp_directory_path() / ("ram-bench-h5-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto flat = measure(
      (dir / "flat.h5").string(), reps, items,
      [&](ram::h5::Writer& w) { w.write_ragged("/text", items); },
      [](ram::h5::Reader& r) { return r.read_ragged("/text"); });
  auto vlen = measure(
      (dir / "vlen.h5").string(), reps, items,
      [&](ram::h5::Writer& w) { w.write_vlen_strings("/text", items); },
      [](ram::h5::Reader& r) { return r.read_vlen_strings("/text"); });
  fs::remove_all(dir);
  std::printf(
      "{\"bench\":\"h5_text\",\"n\":%d,\"flat_write_ms\":%.3f,\"flat_read_ms\":%.3f,"
      "\"vlen_write_ms\":%.3f,\"vlen_read_ms\":%.3f,\"write_ratio\":%.2f,\"read_ratio\":%.2f,"
      "\"flat_bytes\":%ju,\"vlen_bytes\":%ju}\n",
      n, flat.write, flat.read, vlen.write, vlen.read, vlen.write / flat.write,
      vlen.read / flat.read, flat.bytes, vlen.bytes);
  return 0;
}
