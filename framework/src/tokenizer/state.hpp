// tokenizer/state.hpp — the shared, immutable state of a ram::tok::Tokenizer (internal:
// load.cpp fills it from tokenizer.json, tokenizer.cpp encodes and decodes with it).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include "ram/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace ram::tok {
namespace detail {

// ---- PCRE2 ------------------------------------------------------------------------------

// Oniguruma's \s (what HF's regexes are written for) is Unicode White_Space; PCRE2's \s
// under UCP also takes U+180E. Both are rewritten to this explicit set.
inline constexpr const char* kWhiteSpaceSet =
    "\\x{09}-\\x{0D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

// Rewrites \s and \S (outside and inside character classes) to the White_Space set.
// Returns false for a construct this rewrite cannot express (\S inside a class).
inline bool rewrite_whitespace(const std::string& in, std::string& out) {
  out.clear();
  bool in_class = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\' && i + 1 < in.size()) {
      char n = in[i + 1];
      ++i;
      if (n == 's') {
        out += in_class ? std::string(kWhiteSpaceSet) : "[" + std::string(kWhiteSpaceSet) + "]";
      } else if (n == 'S') {
        if (in_class) return false;
        out += "[^" + std::string(kWhiteSpaceSet) + "]";
      } else {
        out += c;
        out += n;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is literal.
      if (i + 1 < in.size() && in[i + 1] == '^') out += in[++i];
      if (i + 1 < in.size() && in[i + 1] == ']') out += in[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < in.size() && in[i + 1] == ':') return false;
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return !in_class;
}

class Regex {
 public:
  Regex(const std::string& pattern, bool literal, const std::string& file, const std::string& jpath) {
    std::string pat = pattern;
    std::uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK;
    if (literal) {
      opts |= PCRE2_LITERAL;
      opts &= ~PCRE2_UCP;
    } else if (!rewrite_whitespace(pattern, pat)) {
      throw FormatError("unsupported regex construct (\\S or a POSIX class inside [...])",
                        file + " at " + jpath, "only Oniguruma syntax PCRE2 shares is supported");
    }
    int err = 0;
    PCRE2_SIZE off = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.data()), pat.size(), opts, &err, &off, nullptr);
    if (!code_) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(err, buf, sizeof buf);
      throw FormatError("regex does not compile: " + std::string(reinterpret_cast<char*>(buf)) +
                            " at offset " + std::to_string(off),
                        file + " at " + jpath, "the pattern must be valid PCRE2 syntax");
    }
    jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
  }
  ~Regex() { pcre2_code_free(code_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the pieces of `s` (matches and the gaps between them, empty ones dropped).
  void split_isolated(std::string_view s, std::vector<std::string_view>& out) const {
    struct Scratch {
      pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
      pcre2_match_context* mc = pcre2_match_context_create(nullptr);
      pcre2_jit_stack* js = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
      Scratch() { pcre2_jit_stack_assign(mc, nullptr, js); }
      ~Scratch() {
        pcre2_jit_stack_free(js);
        pcre2_match_context_free(mc);
        pcre2_match_data_free(md);
      }
    };
    thread_local Scratch scratch;
    auto subject = reinterpret_cast<PCRE2_SPTR>(s.data());
    std::size_t start = 0, last = 0;
    while (start <= s.size()) {
      int rc = pcre2_match(code_, subject, s.size(), start, PCRE2_NO_UTF_CHECK, scratch.md, scratch.mc);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(rc, buf, sizeof buf);
        throw DataError("pre-tokenizer regex failed: " + std::string(reinterpret_cast<char*>(buf)),
                        "text of " + std::to_string(s.size()) + " bytes", "split the text into smaller parts");
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(scratch.md);
      std::size_t m0 = ov[0], m1 = ov[1];
      if (m0 > last) out.push_back(s.substr(last, m0 - last));
      if (m1 > m0) out.push_back(s.substr(m0, m1 - m0));
      last = std::max(last, m1);
      if (m1 == m0) {
        if (m1 >= s.size()) break;
        std::size_t i = m1;
        next_cp(s, i);
        start = i;
      } else {
        start = m1;
      }
    }
    if (last < s.size()) out.push_back(s.substr(last));
  }

 private:
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

// GPT-2's split, used by ByteLevel with use_regex (HF's byte_level.rs).
inline constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct AddedToken {
  std::int32_t id;
  std::string content;
  bool special = false, single_word = false, lstrip = false, rstrip = false, normalized = true;
};

// Leftmost-longest matching of added tokens (HF builds an Aho-Corasick automaton with
// MatchKind::LeftmostLongest; the token sets are small, so candidates are bucketed by their
// first byte and tried longest first).
struct Matcher {
  std::array<std::vector<std::pair<std::string, std::size_t>>, 256> by_first;  // (pattern, token index)
  bool empty = true;
  void add(const std::string& pattern, std::size_t token) {
    if (pattern.empty()) return;
    by_first[static_cast<unsigned char>(pattern[0])].emplace_back(pattern, token);
    empty = false;
  }
  void finish() {
    for (auto& v : by_first)
      std::stable_sort(v.begin(), v.end(),
                       [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }
};

enum class PreKind { kSplit, kByteLevel };
struct PreStep {
  PreKind kind;
  std::shared_ptr<const Regex> re;  // Split, or ByteLevel with use_regex
  bool add_prefix_space = false;
};

}  // namespace detail

using json = nlohmann::json;
using detail::AddedToken;
using detail::Matcher;
using detail::PreKind;
using detail::PreStep;
using detail::Regex;

struct Tokenizer::State {
  std::filesystem::path path;
  std::string file;  // path as text, for messages
  std::string fingerprint;

  std::unordered_map<std::string, std::int32_t> vocab;
  std::vector<const std::string*> model_tokens;  // id -> token (model vocabulary)
  std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int32_t>> merges;  // (a,b) -> (rank, id)
  std::array<std::int32_t, 256> byte_id{};
  std::array<std::string, 256> byte_str;
  std::array<int, 0x144> char_byte{};  // byte-level char -> byte, -1 when none
  bool ignore_merges = false;

  std::vector<AddedToken> added;
  std::unordered_map<std::string, std::int32_t> added_by_content;
  std::unordered_map<std::int32_t, std::size_t> added_by_id;
  Matcher raw_matcher, norm_matcher;
  std::vector<std::string> match_order;  // contents, in HF's trie order

  bool nfc = false;
  std::vector<PreStep> pre;
  std::vector<std::int32_t> prefix_ids, suffix_ids;
  std::optional<std::int32_t> bos, eos, pad;
  std::int64_t vocab_size = 0;

  std::size_t cache_capacity = 0;
  mutable std::mutex cache_mu;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>> cache;

  [[noreturn]] void bad(const std::string& jpath, const std::string& what,
                        const std::string& hint = "supported: byte-level BPE as the llama3, qwen2, "
                                                  "gpt2 and gpt_neox tokenizer.json files use it") const {
    throw FormatError(what, file + " at " + jpath, hint);
  }
  const json& member(const json& obj, const std::string& key, const std::string& jpath) const {
    if (!obj.is_object()) bad(jpath, "expected a JSON object");
    auto it = obj.find(key);
    if (it == obj.end()) bad(jpath + "." + key, "missing key");
    return *it;
  }
  void only_keys(const json& obj, std::initializer_list<const char*> keys, const std::string& jpath) const {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool ok = false;
      for (const char* k : keys) ok = ok || it.key() == k;
      if (!ok) bad(jpath + "." + it.key(), "unsupported key");
    }
  }
  bool flag(const json& obj, const char* key, bool dflt, const std::string& jpath) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return dflt;
    if (!it->is_boolean()) bad(jpath + "." + key, "expected true or false");
    return it->get<bool>();
  }
  std::string str(const json& v, const std::string& jpath) const {
    if (!v.is_string()) bad(jpath, "expected a string");
    return v.get<std::string>();
  }

  void load_model(const json& m);
  void load_added(const json& a);
  void load_normalizer(const json& n, const std::string& jpath);
  void load_pre(const json& p, const std::string& jpath);
  void load_post(const json& p, const std::string& jpath);
  void load_decoder(const json& d, const std::string& jpath);
  void load_config(const std::filesystem::path& cfg);

  void bpe(std::string_view word, std::vector<std::int32_t>& out) const;
  void bpe_uncached(std::string_view word, std::vector<std::int32_t>& out) const;
  void pre_and_bpe(std::string_view text, std::vector<std::int32_t>& out) const;
  template <class F>
  void split_added(std::string_view s, const Matcher& m, F&& on_piece) const;
};

}  // namespace ram::tok
