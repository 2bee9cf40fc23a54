// tokenizer/train_bpe.hpp — byte-level BPE merges learned from texts (`ram make-tokenizer
// --bpe N`), for models trained from scratch on a dataset (the demo task).
//
// The texts are split as the ByteLevel pre-tokenizer splits them (GPT-2's regex), each
// piece's bytes written as GPT-2's byte symbols (bytes_to_unicode); then, as HF's
// BpeTrainer: count every adjacent symbol pair within the pieces (weighted by how often a
// piece occurs), merge the most frequent pair everywhere, repeat — up to `merges` times or
// until no pair occurs `min_count` times. Ties: the lexicographically smallest pair (by
// the symbols' UTF-8 bytes), so the result is a function of the texts alone.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ram::tok {

// GPT-2's bytes_to_unicode: the UTF-8 text of byte b's symbol (printable Latin-1 bytes map
// to themselves, the others to U+0100 + n in byte order).
std::string byte_symbol(unsigned char b);

// The merges, in the order learned, as (left, right) symbol strings.
std::vector<std::pair<std::string, std::string>> train_bpe(const std::vector<std::string>& texts,
                                                           std::int64_t merges,
                                                           std::int64_t min_count = 2);

}  // namespace ram::tok
