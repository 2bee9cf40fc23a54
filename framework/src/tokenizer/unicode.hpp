// tokenizer/unicode.hpp — the UTF-8 and Unicode helpers of ram::tok (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ram::tok::detail {

// Byte offset of the first byte that starts an invalid UTF-8 sequence, or npos.
std::size_t find_invalid_utf8(std::string_view s);
// Decodes the code point at s[i] (valid UTF-8 assumed); advances i.
char32_t next_cp(std::string_view s, std::size_t& i);
// Decodes the code point ending just before s[end] (valid UTF-8 assumed); returns its start.
std::size_t prev_cp_start(std::string_view s, std::size_t end);
void append_utf8(std::string& out, char32_t cp);
// Unicode White_Space (Rust's char::is_whitespace, Oniguruma's \s).
bool is_white_space(char32_t cp);
// A word character as HF's single_word check sees it (Rust regex \w: letters, marks, decimal
// and letter numbers, connector punctuation, ZWNJ/ZWJ), from PCRE2's property tables.
bool is_word_char(char32_t cp);
const char* unicode_version();

}  // namespace ram::tok::detail
