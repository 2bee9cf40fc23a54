#include "common/source.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <ram/error.hpp>

namespace ram_datasets {

namespace {

namespace fs = std::filesystem;

std::string read_raw(const std::string& path, const std::string& key) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw ram::DataError("dataset file '" + path + "' does not exist or is not a file", key,
                         "check " + key + " (paths may use ${env:RAM_DATA})");
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  if (!f && !f.eof())
    throw ram::DataError("cannot read dataset file '" + path + "'", key, "check its permissions");
  return ss.str();
}

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// Inflates every gzip member of `in` in turn (concatenated members are valid gzip).
std::string gunzip(const std::string& in, const std::string& path) {
  std::string out;
  std::size_t pos = 0;
  char buf[1 << 16];
  while (pos < in.size()) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK)
      throw ram::Error("zlib: inflateInit2 failed", path, "this is a bug; report it");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size() - pos, 1u << 30));
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        std::string msg = z.msg ? z.msg : (rc == Z_BUF_ERROR ? "unexpected end of data" : "error");
        inflateEnd(&z);
        throw ram::DataError("corrupt or truncated gzip data (zlib: " + msg + ", after " +
                                 std::to_string(out.size() + (sizeof buf - z.avail_out)) +
                                 " uncompressed bytes)",
                             path, "download the file again, or gunzip -t it to check");
      }
      out.append(buf, sizeof buf - z.avail_out);
      if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
        inflateEnd(&z);
        throw ram::DataError("truncated gzip data (the stream ends after " +
                                 std::to_string(out.size()) + " uncompressed bytes)",
                             path, "download the file again, or gunzip -t it to check");
      }
    }
    pos += static_cast<std::size_t>(z.next_in - reinterpret_cast<const Bytef*>(in.data() + pos));
    inflateEnd(&z);
    // Trailing zero padding after the last member is tolerated, as gzip does.
    std::size_t rest = pos;
    while (rest < in.size() && in[rest] == '\0') ++rest;
    if (rest == in.size()) break;
    if (!is_gzip(in.substr(pos, 2)))
      throw ram::DataError("trailing garbage after the gzip data (byte " + std::to_string(pos) + ")",
                           path, "download the file again, or gunzip -t it to check");
  }
  return out;
}

}  // namespace

std::string read_source(const std::string& path, const std::string& config_key) {
  std::string bytes = read_raw(path, config_key);
  return is_gzip(bytes) ? gunzip(bytes, path) : bytes;
}

std::vector<std::string> split_file_candidates(const std::string& dir, const std::string& split) {
  std::vector<std::string> out;
  for (const char* ext : {".jsonl.gz", ".jsonl", ".json.gz", ".json"})
    out.push_back((fs::path(dir) / (split + ext)).string());
  return out;
}

std::string file_tag(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  std::string tag = name.substr(0, name.find('.'));
  return tag.empty() ? name : tag;
}

std::string find_split_file(const std::string& dir, const std::string& split,
                            const std::string& config_key, const std::string& what) {
  std::error_code ec;
  std::string tried;
  for (const std::string& p : split_file_candidates(dir, split)) {
    if (fs::is_regular_file(p, ec)) return p;
    tried += (tried.empty() ? "" : ", ") + p;
  }
  throw ram::DataError("no " + what + " (tried " + tried + ")", config_key,
                       "put the file there (plain or .gz), or point " + config_key +
                           " at the folder that holds it");
}

}  // namespace ram_datasets
