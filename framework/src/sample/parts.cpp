#include "sample/parts.hpp"

#include <cstdio>
#include <iterator>

#include <fmt/format.h>

#include "h5/reader.hpp"
#include "h5/writer.hpp"
#include "ram/error.hpp"

namespace ram::sample {

namespace fs = std::filesystem;

namespace {

template <class T>
void move_append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

const char* const kRagged[] = {"examples/prompt_text", "examples/chosen_text",
                               "examples/proposal_text", "examples/proposal_ids"};
const char* const kArrays[] = {"examples/index",           "examples/sample_index",
                               "examples/proposal_logprob", "examples/finish_reason",
                               "examples/prompt_truncated", "examples/prompt_tokens"};

}  // namespace

void Rows::append(Rows&& o) {
  move_append(index, o.index);
  move_append(sample_index, o.sample_index);
  move_append(prompt_text, o.prompt_text);
  move_append(chosen_text, o.chosen_text);
  move_append(proposal_text, o.proposal_text);
  move_append(proposal_ids, o.proposal_ids);
  move_append(proposal_logprob, o.proposal_logprob);
  move_append(finish_reason, o.finish_reason);
  move_append(prompt_truncated, o.prompt_truncated);
  move_append(prompt_tokens, o.prompt_tokens);
}

fs::path part_path(const fs::path& parts_dir, std::int64_t chunk) {
  return parts_dir / fmt::format("chunk-{:06}.h5", chunk);
}

std::int64_t part_chunk(const std::string& name) {
  constexpr std::size_t kPrefix = 6, kSuffix = 3;  // "chunk-", ".h5"
  if (name.size() <= kPrefix + kSuffix || name.compare(0, kPrefix, "chunk-") != 0 ||
      name.compare(name.size() - kSuffix, kSuffix, ".h5") != 0)
    return -1;
  std::string digits = name.substr(kPrefix, name.size() - kPrefix - kSuffix);
  if (digits.size() < 6 || digits.size() > 12) return -1;
  for (char ch : digits)
    if (ch < '0' || ch > '9') return -1;
  return std::stoll(digits);
}

void write_rows(h5::Writer& w, const Rows& r) {
  w.write_array("examples/index", r.index);
  w.write_array("examples/sample_index", r.sample_index);
  w.write_ragged("examples/prompt_text", r.prompt_text);
  w.write_ragged("examples/chosen_text", r.chosen_text);
  w.write_ragged("examples/proposal_text", r.proposal_text);
  w.write_ragged_ids("examples/proposal_ids", r.proposal_ids);
  w.write_array("examples/proposal_logprob", r.proposal_logprob);
  w.write_array("examples/finish_reason", r.finish_reason);
  w.write_array("examples/prompt_truncated", r.prompt_truncated);
  w.write_array("examples/prompt_tokens", r.prompt_tokens);
}

void write_part(const fs::path& parts_dir, const PartInfo& info, const Rows& rows) {
  auto w = h5::Writer::create(part_path(parts_dir, info.chunk).string(), /*parallel=*/false);
  write_rows(w, rows);
  w.set_attr("/", "settings_hash", info.settings_hash);
  w.set_attr("/", "chunk", info.chunk);
  w.set_attr("/", "begin", info.begin);
  w.set_attr("/", "end", info.end);
  w.set_attr("/", "rows", rows.size());
  w.set_attr("/", "skipped_empty", info.skipped_empty);
  w.set_attr("/", "truncated_prompts", info.truncated_prompts);
  w.finalize();
}

PartInfo read_part_info(const fs::path& file) {
  auto r = h5::Reader::open(file.string());
  PartInfo p;
  p.settings_hash = r.attr_string("/", "settings_hash");
  p.chunk = r.attr_int("/", "chunk");
  p.begin = r.attr_int("/", "begin");
  p.end = r.attr_int("/", "end");
  p.skipped_empty = r.attr_int("/", "skipped_empty");
  p.truncated_prompts = r.attr_int("/", "truncated_prompts");
  const std::int64_t rows = r.attr_int("/", "rows");
  for (const char* name : kArrays) {
    auto shape = r.shape(name);
    if (shape.size() != 1 || shape[0] != rows)
      throw FormatError(fmt::format("{} does not hold {} rows", name, rows), file.string(),
                        "the part is damaged; it is redone");
  }
  for (const char* name : kRagged)
    if (r.ragged_size(name) != rows)
      throw FormatError(fmt::format("{} does not hold {} rows", name, rows), file.string(),
                        "the part is damaged; it is redone");
  return p;
}

Rows read_part_rows(const fs::path& file) {
  auto r = h5::Reader::open(file.string());
  Rows x;
  x.index = r.read_array<std::int64_t>("examples/index");
  x.sample_index = r.read_array<std::int64_t>("examples/sample_index");
  x.prompt_text = r.read_ragged("examples/prompt_text");
  x.chosen_text = r.read_ragged("examples/chosen_text");
  x.proposal_text = r.read_ragged("examples/proposal_text");
  x.proposal_ids = r.read_ragged_ids("examples/proposal_ids");
  x.proposal_logprob = r.read_array<float>("examples/proposal_logprob");
  x.finish_reason = r.read_array<std::uint8_t>("examples/finish_reason");
  x.prompt_truncated = r.read_array<std::uint8_t>("examples/prompt_truncated");
  x.prompt_tokens = r.read_array<std::int32_t>("examples/prompt_tokens");
  const auto n = static_cast<std::size_t>(x.size());
  if (x.sample_index.size() != n || x.prompt_text.size() != n || x.chosen_text.size() != n ||
      x.proposal_text.size() != n || x.proposal_ids.size() != n || x.proposal_logprob.size() != n ||
      x.finish_reason.size() != n || x.prompt_truncated.size() != n || x.prompt_tokens.size() != n)
    throw FormatError("datasets of different lengths", file.string(),
                      "delete the part file; the next run redoes it");
  return x;
}

}  // namespace ram::sample
