// tokenizer/tokenizer.cpp — encode (added tokens, normalizer, pre-tokenizer, BPE with its
// cache, template) and decode (ByteLevel, lossy UTF-8); see tokenizer.hpp.
#include <algorithm>
#include <deque>
#include <queue>

#include "tokenizer/state.hpp"

namespace ram::tok {

using namespace detail;

// ---- encoding -----------------------------------------------------------------------------

template <class F>
void Tokenizer::State::split_added(std::string_view s, const Matcher& m, F&& on_piece) const {
  if (m.empty) {
    if (!s.empty()) on_piece(-1, s);
    return;
  }
  std::size_t emitted = 0;  // end of the last piece handed out
  std::size_t i = 0;
  while (i < s.size()) {
    const auto& cands = m.by_first[static_cast<unsigned char>(s[i])];
    const std::pair<std::string, std::size_t>* hit = nullptr;
    for (const auto& c : cands)
      if (s.compare(i, c.first.size(), c.first) == 0) {
        hit = &c;
        break;
      }
    if (!hit) {
      ++i;
      continue;
    }
    const AddedToken& t = added[hit->second];
    std::size_t start = i, stop = i + hit->first.size();
    if (t.single_word) {
      bool start_ok = start == 0 || !is_word_char([&] { std::size_t p = prev_cp_start(s, start); return next_cp(s, p); }());
      bool stop_ok = stop == s.size() || !is_word_char([&] { std::size_t p = stop; return next_cp(s, p); }());
      if (!start_ok || !stop_ok) {
        i = stop;  // the automaton resumes after the rejected match
        continue;
      }
    }
    if (t.lstrip) {
      std::size_t ns = start;
      while (ns > 0) {
        std::size_t p = prev_cp_start(s, ns);
        std::size_t q = p;
        if (!is_white_space(next_cp(s, q))) break;
        ns = p;
      }
      start = std::max(ns, emitted);
    }
    std::size_t resume = stop;
    if (t.rstrip) {
      while (stop < s.size()) {
        std::size_t q = stop;
        if (!is_white_space(next_cp(s, q))) break;
        stop = q;
      }
    }
    if (emitted < start) on_piece(-1, s.substr(emitted, start - emitted));
    on_piece(t.id, s.substr(start, stop - start));
    emitted = stop;
    i = std::max(resume, stop);
  }
  if (emitted < s.size()) on_piece(-1, s.substr(emitted));
}

void Tokenizer::State::bpe_uncached(std::string_view word, std::vector<std::int32_t>& out) const {
  if (ignore_merges) {
    std::string mapped;
    mapped.reserve(word.size() * 2);
    for (unsigned char b : word) mapped += byte_str[b];
    auto it = vocab.find(mapped);
    if (it != vocab.end()) {
      out.push_back(it->second);
      return;
    }
  }
  struct Sym {
    std::int32_t c, prev, next;
    bool alive;
  };
  std::vector<Sym> sym;
  sym.reserve(word.size());
  for (unsigned char b : word) {
    if (byte_id[b] < 0) continue;  // no unk token: HF drops the character
    std::int32_t n = static_cast<std::int32_t>(sym.size());
    sym.push_back({byte_id[b], n - 1, n + 1, true});
  }
  if (sym.empty()) return;
  sym.back().next = -1;
  struct Merge {
    std::int32_t rank, pos, id;
    bool operator>(const Merge& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Merge, std::vector<Merge>, std::greater<Merge>> heap;
  auto lookup = [&](std::int32_t a, std::int32_t b) {
    return merges.find((std::uint64_t(std::uint32_t(a)) << 32) | std::uint32_t(b));
  };
  for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
    auto it = lookup(sym[i].c, sym[i + 1].c);
    if (it != merges.end()) heap.push({it->second.first, static_cast<std::int32_t>(i), it->second.second});
  }
  while (!heap.empty()) {
    Merge top = heap.top();
    heap.pop();
    Sym& cur = sym[top.pos];
    if (!cur.alive || cur.next < 0) continue;
    std::int32_t nx = cur.next;
    auto it = lookup(cur.c, sym[nx].c);
    if (it == merges.end() || it->second.second != top.id) continue;
    cur.c = top.id;
    sym[nx].alive = false;
    cur.next = sym[nx].next;
    if (cur.next >= 0) sym[cur.next].prev = top.pos;
    if (cur.prev >= 0) {
      auto p = lookup(sym[cur.prev].c, cur.c);
      if (p != merges.end()) heap.push({p->second.first, cur.prev, p->second.second});
    }
    if (cur.next >= 0) {
      auto p = lookup(cur.c, sym[cur.next].c);
      if (p != merges.end()) heap.push({p->second.first, top.pos, p->second.second});
    }
  }
  for (std::int32_t i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].c);
}

void Tokenizer::State::bpe(std::string_view word, std::vector<std::int32_t>& out) const {
  if (word.size() == 1 && byte_id[static_cast<unsigned char>(word[0])] >= 0) {
    out.push_back(byte_id[static_cast<unsigned char>(word[0])]);
    return;
  }
  const bool use_cache = cache_capacity > 0 && word.size() <= 256;
  std::string key;
  if (use_cache) {
    key.assign(word);
    std::lock_guard<std::mutex> lock(cache_mu);
    auto it = cache.find(key);
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::size_t before = out.size();
  bpe_uncached(word, out);
  if (use_cache) {
    std::vector<std::int32_t> ids(out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
    std::lock_guard<std::mutex> lock(cache_mu);
    if (cache.size() >= cache_capacity) cache.clear();
    cache.emplace(std::move(key), std::move(ids));
  }
}

void Tokenizer::State::pre_and_bpe(std::string_view text, std::vector<std::int32_t>& out) const {
  std::vector<std::string_view> pieces{text}, next;
  std::deque<std::string> owned;  // pieces that got a prefix space
  for (const PreStep& step : pre) {
    next.clear();
    for (std::string_view p : pieces) {
      if (step.kind == PreKind::kByteLevel && step.add_prefix_space && (p.empty() || p[0] != ' ')) {
        owned.push_back(" " + std::string(p));
        p = owned.back();
      }
      if (step.re) step.re->split_isolated(p, next);
      else if (!p.empty()) next.push_back(p);
    }
    pieces.swap(next);
  }
  for (std::string_view p : pieces) bpe(p, out);
}

// ---- Tokenizer ----------------------------------------------------------------------------

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const State& s = *s_;
  if (auto bad = find_invalid_utf8(text); bad != std::string_view::npos)
    throw DataError("text is not valid UTF-8", "byte " + std::to_string(bad), "pass UTF-8 text");
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special_tokens) out.insert(out.end(), s.prefix_ids.begin(), s.prefix_ids.end());
  s.split_added(text, s.raw_matcher, [&](std::int32_t id, std::string_view piece) {
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    std::string normalized;
    std::string_view norm = piece;
    if (s.nfc) {
      normalized = nfc(piece);
      norm = normalized;
    }
    s.split_added(norm, s.norm_matcher, [&](std::int32_t id2, std::string_view p2) {
      if (id2 >= 0) out.push_back(id2);
      else s.pre_and_bpe(p2, out);
    });
  });
  if (add_special_tokens) out.insert(out.end(), s.suffix_ids.begin(), s.suffix_ids.end());
  return out;
}

std::string Tokenizer::decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens) const {
  // As HF: every id to its token (added tokens first, unknown ids dropped, special ones
  // dropped on request), then the ByteLevel decoder over the whole list at once: each char
  // back to its byte (a token with a char outside the byte map is taken as its own UTF-8
  // bytes), and the bytes to text with U+FFFD per invalid maximal subpart.
  const State& s = *s_;
  std::string bytes;
  bytes.reserve(ids.size() * 4);
  for (std::int32_t id : ids) {
    const std::string* tok = nullptr;
    if (auto a = s.added_by_id.find(id); a != s.added_by_id.end()) {
      const AddedToken& t = s.added[a->second];
      if (skip_special_tokens && t.special) continue;
      tok = &t.content;
    } else if (id >= 0 && static_cast<std::size_t>(id) < s.model_tokens.size() && s.model_tokens[id]) {
      tok = s.model_tokens[id];
    } else {
      continue;
    }
    std::size_t mark = bytes.size();
    bool ok = true;
    for (std::size_t i = 0; i < tok->size();) {
      char32_t c = next_cp(*tok, i);
      if (c >= s.char_byte.size() || s.char_byte[c] < 0) {
        ok = false;
        break;
      }
      bytes += static_cast<char>(s.char_byte[c]);
    }
    if (!ok) {
      bytes.resize(mark);
      bytes += *tok;
    }
  }
  return utf8_lossy(bytes);
}

std::int64_t Tokenizer::vocab_size() const { return s_->vocab_size; }
std::optional<std::int32_t> Tokenizer::bos_id() const { return s_->bos; }
std::optional<std::int32_t> Tokenizer::eos_id() const { return s_->eos; }
std::optional<std::int32_t> Tokenizer::pad_id() const { return s_->pad; }
std::string Tokenizer::fingerprint() const { return s_->fingerprint; }
const std::filesystem::path& Tokenizer::path() const { return s_->path; }

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  std::string key(token);
  if (auto a = s_->added_by_content.find(key); a != s_->added_by_content.end()) return a->second;
  if (auto v = s_->vocab.find(key); v != s_->vocab.end()) return v->second;
  return std::nullopt;
}

std::optional<std::string> Tokenizer::id_to_token(std::int32_t id) const {
  if (auto a = s_->added_by_id.find(id); a != s_->added_by_id.end()) return s_->added[a->second].content;
  if (id >= 0 && static_cast<std::size_t>(id) < s_->model_tokens.size() && s_->model_tokens[id])
    return *s_->model_tokens[id];
  return std::nullopt;
}

bool Tokenizer::is_special(std::int32_t id) const {
  auto a = s_->added_by_id.find(id);
  return a != s_->added_by_id.end() && s_->added[a->second].special;
}

}  // namespace ram::tok
