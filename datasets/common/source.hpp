// source.hpp — finding and reading the files the dataset plugins consume.
//
// read_source(path, key): the whole file as bytes; gzip (by its magic bytes 1f 8b, not by
// the name) is inflated with zlib, multi-member files included, so `train.jsonl.gz` and
// `train.jsonl` read the same. A missing file, an unreadable one, or corrupt / truncated
// gzip data is a DataError naming the file and the config key that pointed at it.
//
// find_split_file(dir, split, key): the first of <dir>/<split>.jsonl.gz, .jsonl, .json.gz,
// .json that exists; none → a DataError listing every name tried.
#pragma once

#include <string>
#include <vector>

namespace ram_datasets {

std::string read_source(const std::string& path, const std::string& config_key);

// Candidate names, in the order they are tried.
std::vector<std::string> split_file_candidates(const std::string& dir, const std::string& split);

// `what` names the file for the message, e.g. "the test file of subset helpful-base".
std::string find_split_file(const std::string& dir, const std::string& split,
                            const std::string& config_key, const std::string& what);

// The file's name without folder and extensions ("data/test.jsonl.gz" → "test"): the tag
// of single-file datasets' ids ("test:17").
std::string file_tag(const std::string& path);

}  // namespace ram_datasets
