// tokenizer/unicode.cpp — UTF-8 validation, lossy decoding, NFC, White_Space.
#include "tokenizer/unicode.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/tokenizer.hpp"

namespace ram::tok {
namespace detail {
namespace {
#include "tokenizer/unicode_tables.inc"

constexpr std::uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr std::uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = 588, kSCount = 11172;

std::uint8_t ccc_of(std::uint32_t cp) {
  if (cp < 0x300) return 0;
  auto it = std::lower_bound(std::begin(kCcc), std::end(kCcc), cp,
                             [](const CccEntry& e, std::uint32_t c) { return e.cp < c; });
  return (it != std::end(kCcc) && it->cp == cp) ? it->ccc : 0;
}

const DecompEntry* decomp_of(std::uint32_t cp) {
  auto it = std::lower_bound(std::begin(kDecomp), std::end(kDecomp), cp,
                             [](const DecompEntry& e, std::uint32_t c) { return e.cp < c; });
  return (it != std::end(kDecomp) && it->cp == cp) ? &*it : nullptr;
}

std::uint32_t compose(std::uint32_t a, std::uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount)
    return a + (b - kTBase);
  auto it = std::lower_bound(std::begin(kComp), std::end(kComp), std::make_pair(a, b),
                             [](const CompEntry& e, const std::pair<std::uint32_t, std::uint32_t>& k) {
                               return e.first != k.first ? e.first < k.first : e.second < k.second;
                             });
  if (it != std::end(kComp) && it->first == a && it->second == b) return it->composite;
  return 0;
}
}  // namespace

const char* unicode_version() { return RAM_TOK_UNICODE_VERSION; }

std::size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    unsigned char b = p[i];
    if (b < 0x80) { ++i; continue; }
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) { need = 2; lo = 0xA0; }
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) need = 2;
    else if (b == 0xED) { need = 2; hi = 0x9F; }
    else if (b == 0xF0) { need = 3; lo = 0x90; }
    else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else if (b == 0xF4) { need = 3; hi = 0x8F; }
    else return i;
    if (i + need >= n) return i;  // truncated sequence
    for (int k = 1; k <= need; ++k) {
      unsigned char c = p[i + k];
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return i;
    }
    i += need + 1;
  }
  return std::string_view::npos;
}

char32_t next_cp(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) { ++i; return b; }
  int len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  char32_t cp = b & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

std::size_t prev_cp_start(std::string_view s, std::size_t end) {
  std::size_t i = end;
  do { --i; } while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80);
  return i;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool is_word_char(char32_t cp) {
  if (cp < 0x80)
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  // One compiled pattern, matched against the single character (rarely used: single_word).
  static pcre2_code* re = [] {
    int err = 0;
    PCRE2_SIZE off = 0;
    return pcre2_compile(reinterpret_cast<PCRE2_SPTR>("^[\\p{L}\\p{Nl}\\p{Nd}\\p{M}\\p{Pc}\\x{200C}\\x{200D}]"), PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
  }();
  std::string s;
  append_utf8(s, cp);
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md, nullptr);
  pcre2_match_data_free(md);
  return rc >= 0;
}

}  // namespace detail

using namespace detail;

std::string nfc(std::string_view s) {
  // Code points below U+0300 are NFC-stable and never combine with a predecessor; their
  // UTF-8 lead bytes are all below 0xCC.
  if (std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xCC; }))
    return std::string(s);
  std::vector<std::uint32_t> buf;
  buf.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = next_cp(s, i);
    if (cp >= kSBase && cp < kSBase + kSCount) {
      std::uint32_t si = cp - kSBase;
      buf.push_back(kLBase + si / kNCount);
      buf.push_back(kVBase + (si % kNCount) / kTCount);
      if (si % kTCount) buf.push_back(kTBase + si % kTCount);
    } else if (const DecompEntry* d = cp >= 0xC0 ? decomp_of(cp) : nullptr) {
      buf.insert(buf.end(), kDecompData + d->offset, kDecompData + d->offset + d->len);
    } else {
      buf.push_back(cp);
    }
  }
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  std::vector<std::uint8_t> cls(buf.size());
  for (std::size_t i = 0; i < buf.size(); ++i) cls[i] = ccc_of(buf[i]);
  for (std::size_t i = 1; i < buf.size(); ++i) {
    std::size_t j = i;
    while (j > 0 && cls[j] != 0 && cls[j - 1] > cls[j]) {
      std::swap(cls[j], cls[j - 1]);
      std::swap(buf[j], buf[j - 1]);
      --j;
    }
  }
  // Canonical composition.
  if (!buf.empty()) {
    std::size_t starter = 0, out = 1;
    std::uint32_t starter_ch = buf[0];
    int last = cls[0] ? 256 : 0;
    for (std::size_t i = 1; i < buf.size(); ++i) {
      std::uint32_t ch = buf[i];
      int c = cls[i];
      std::uint32_t comp = compose(starter_ch, ch);
      if (comp && (last < c || last == 0)) {
        buf[starter] = comp;
        starter_ch = comp;
      } else {
        if (c == 0) {
          starter = out;
          starter_ch = ch;
        }
        last = c;
        buf[out++] = ch;
      }
    }
    buf.resize(out);
  }
  std::string r;
  r.reserve(s.size());
  for (auto cp : buf) append_utf8(r, cp);
  return r;
}

std::string utf8_lossy(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::string out;
  out.reserve(n);
  std::size_t i = 0;
  while (i < n) {
    unsigned char b = p[i];
    if (b < 0x80) { out += static_cast<char>(b); ++i; continue; }
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) { need = 2; lo = 0xA0; }
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) need = 2;
    else if (b == 0xED) { need = 2; hi = 0x9F; }
    else if (b == 0xF0) { need = 3; lo = 0x90; }
    else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else if (b == 0xF4) { need = 3; hi = 0x8F; }
    else { out += "\xEF\xBF\xBD"; ++i; continue; }
    std::size_t j = i + 1;
    int k = 0;
    while (k < need && j < n) {
      unsigned char c = p[j];
      if (k == 0 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) break;
      ++j;
      ++k;
    }
    if (k == need) out.append(s.data() + i, j - i);
    else out += "\xEF\xBF\xBD";
    i = j;
  }
  return out;
}

}  // namespace ram::tok
