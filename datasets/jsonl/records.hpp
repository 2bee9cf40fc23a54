// records.hpp — splitting a JSON / JSONL file's text into raw records with line numbers,
// before any record is parsed, so every error can name file:line.
//
// Format by content: when the first non-space character (after an optional UTF-8 BOM) is
// '[', the file is one JSON array of records; otherwise it is JSONL, one record per line
// (blank lines skipped, "\r\n" accepted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ram_jsonl {

struct RawRecord {
  std::string_view text;  // the record's JSON text (a view into the file's bytes)
  std::size_t offset;     // byte offset of text in the file
  int line;               // 1-based line where the record starts
};

// Maps byte offsets to 1-based line numbers.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  int line_of(std::size_t offset) const;

 private:
  std::vector<std::size_t> newlines_;
};

enum class Format { jsonl, json_array };

// Thrown by split_records when the array's own structure is broken (no closing ']', text
// after it); carries the 1-based line. Single records are not parsed here.
struct StructureError {
  std::string message;
  int line;
};

Format detect_format(std::string_view text);
// The records of the file, in order. Throws StructureError (json_array only).
std::vector<RawRecord> split_records(std::string_view text, Format format, const LineIndex& lines);

// Offset of the first byte that is not valid UTF-8 (overlongs, surrogates and code points
// above U+10FFFF are invalid), or npos when all of `s` is valid.
std::size_t find_invalid_utf8(std::string_view s);

// FNV-1a, 64 bit; `seed` chains calls.
std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t seed = 0xcbf29ce484222325ull);
// 16 lower-case hex digits.
std::string hex64(std::uint64_t h);

// One record's text as a JSON object (keys in the record's order, for messages): ram::DataError at `where` (file:line) when it is not
// valid UTF-8, not valid JSON, or not an object (`object_hint`: what the fix line says then).
nlohmann::ordered_json parse_object(const RawRecord& r, const std::string& where, const std::string& object_hint);

}  // namespace ram_jsonl
