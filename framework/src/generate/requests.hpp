// generate/requests.hpp — the JSONL input of `ram score` and `ram generate`.
//
// One JSON object per line; blank lines are skipped. Token ids or text:
//   score:    {"prompt_ids": [...], "response_ids": [...]}  or  {"prompt": "...", "response": "..."}
//   generate: {"prompt_ids": [...]}                          or  {"prompt": "..."}
// Text is encoded with the model's tokenizer: the prompt with add_special_tokens = true
// (BOS where the tokenizer's post-processor adds one), the response with false, so that
// prompt ++ response is what the model saw in training. Other keys are ignored (kept for
// the caller's bookkeeping). Every problem is a DataError naming FILE:LINE: malformed JSON,
// neither ids nor text, an id that is not an integer in [0, vocab), an empty prompt.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ram::generate {

// text, add_special_tokens → ids (the model's tokenizer); may throw.
using Encode = std::function<std::vector<std::int64_t>(const std::string&, bool)>;

struct TokenRequest {
  std::int64_t line = 0;  // 1-based line number in the input
  std::vector<std::int64_t> prompt, response;
  bool text = false;      // given as text (so the output may decode ids back)
};

// `file` "-" reads stdin. with_response: score lines; otherwise generate lines.
std::vector<TokenRequest> read_requests(const std::filesystem::path& file, bool with_response,
                                        std::int64_t vocab, const Encode& encode);

}  // namespace ram::generate
