#include "records.hpp"

#include <cstdio>

#include <ram/error.hpp>

#include <algorithm>

namespace ram_jsonl {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_bom(std::string_view text) {
  return text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
}

std::size_t first_non_space(std::string_view text, std::size_t from) {
  while (from < text.size() && is_space(text[from])) ++from;
  return from;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// JSONL: one record per line; blank (all-space) lines are skipped.
std::vector<RawRecord> split_lines(std::string_view text, const LineIndex& lines) {
  std::vector<RawRecord> out;
  std::size_t pos = skip_bom(text);
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim_right(text.substr(pos, end - pos));
    std::size_t start = first_non_space(text, pos);
    if (!line.empty() && start < end)
      out.push_back({line.substr(start - pos), start, lines.line_of(pos)});
    pos = end + 1;
  }
  return out;
}

// Adds text[begin,end) (trimmed) as a record; an empty element (e.g. a trailing comma) is
// still a record so that parsing reports it at its line.
void push_element(std::string_view text, std::size_t begin, std::size_t end,
                  const LineIndex& lines, std::vector<RawRecord>& out) {
  std::size_t b = first_non_space(text, begin);
  if (b > end) b = end;
  std::string_view elem = trim_right(text.substr(b, end - b));
  out.push_back({elem, b, lines.line_of(b)});
}

// JSON array: scans for the top-level commas and the closing bracket, honouring strings
// and nesting; each element's text is parsed later on its own.
std::vector<RawRecord> split_array(std::string_view text, const LineIndex& lines) {
  std::vector<RawRecord> out;
  std::size_t open = first_non_space(text, skip_bom(text));
  std::size_t elem_begin = open + 1;
  int depth = 0;
  bool in_string = false, any = false;
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (!is_space(c) && c != ',' && !(c == ']' && depth == 0)) any = true;
    if (c == '[' || c == '{') ++depth;
    else if ((c == ']' || c == '}') && depth > 0) --depth;
    else if (c == ',' && depth == 0) {
      push_element(text, elem_begin, i, lines, out);
      elem_begin = i + 1;
      any = false;
    } else if (c == ']' && depth == 0) {
      if (any || !out.empty()) push_element(text, elem_begin, i, lines, out);
      std::size_t after = first_non_space(text, i + 1);
      if (after < text.size())
        throw StructureError{"text after the closing ']' of the JSON array", lines.line_of(after)};
      return out;
    }
  }
  throw StructureError{in_string ? "unterminated string in the JSON array"
                                 : "the JSON array has no closing ']'",
                       lines.line_of(text.empty() ? 0 : text.size() - 1)};
}

}  // namespace

LineIndex::LineIndex(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') newlines_.push_back(i);
}

int LineIndex::line_of(std::size_t offset) const {
  // Line = 1 + number of newlines strictly before offset.
  return 1 + static_cast<int>(std::lower_bound(newlines_.begin(), newlines_.end(), offset) -
                              newlines_.begin());
}

Format detect_format(std::string_view text) {
  std::size_t i = first_non_space(text, skip_bom(text));
  return i < text.size() && text[i] == '[' ? Format::json_array : Format::jsonl;
}

std::vector<RawRecord> split_records(std::string_view text, Format format, const LineIndex& lines) {
  return format == Format::json_array ? split_array(text, lines) : split_lines(text, lines);
}

std::size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  auto cont = [&](std::size_t k, unsigned char lo, unsigned char hi) {
    return k < n && p[k] >= lo && p[k] <= hi;
  };
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;        // no overlongs
      else if (c == 0xED) hi = 0x9F;   // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;        // no overlongs
      else if (c == 0xF4) hi = 0x8F;   // ≤ U+10FFFF
    } else {
      return i;
    }
    if (!cont(i + 1, lo, hi)) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (!cont(i + k, 0x80, 0xBF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex64(std::uint64_t h) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) s[static_cast<std::size_t>(i)] = digits[h & 0xF];
  return s;
}

nlohmann::ordered_json parse_object(const RawRecord& r, const std::string& where, const std::string& object_hint) {
  const std::size_t bad = find_invalid_utf8(r.text);
  if (bad != std::string_view::npos) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(r.text[bad]));
    throw ram::DataError("invalid UTF-8 (byte " + std::string(hex) + " at byte " + std::to_string(bad + 1) +
                             " of the record)",
                         where, "re-encode the file as UTF-8, or set on_error: skip");
  }
  nlohmann::ordered_json obj;
  try {
    obj = nlohmann::ordered_json::parse(r.text.begin(), r.text.end());
  } catch (const nlohmann::json::parse_error& e) {
    std::string msg = e.what();
    const auto cut = msg.find("] ");
    if (msg.rfind("[json.exception", 0) == 0 && cut != std::string::npos) msg = msg.substr(cut + 2);
    for (auto& c : msg)
      if (c == '\n' || c == '\r') c = ' ';
    throw ram::DataError("malformed JSON: " + msg, where, "fix the record, or set on_error: skip");
  }
  if (!obj.is_object())
    throw ram::DataError(std::string("record is a JSON ") + obj.type_name() + ", expected an object", where,
                         object_hint);
  return obj;
}

}  // namespace ram_jsonl
