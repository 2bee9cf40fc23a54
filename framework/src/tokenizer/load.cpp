// tokenizer/load.cpp — tokenizer.json (+ tokenizer_config.json) into Tokenizer::State; any
// part outside what tokenizer.hpp lists is a FormatError naming the file and JSON path.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "tokenizer/state.hpp"

namespace ram::tok {

using namespace detail;

namespace {

// GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 + k.
std::array<char32_t, 256> byte_to_char() {
  std::array<char32_t, 256> m{};
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    m[b] = printable ? char32_t(b) : char32_t(256 + n++);
  }
  return m;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw FormatError("cannot read file", p.string(), "check the path and permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void Tokenizer::State::load_model(const json& m) {
  const std::string jp = "model";
  only_keys(m, {"type", "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix",
                "fuse_unk", "byte_fallback", "ignore_merges", "vocab", "merges"},
            jp);
  if (str(member(m, "type", jp), jp + ".type") != "BPE")
    bad(jp + ".type", "unsupported model type \"" + m["type"].get<std::string>() + "\"");
  if (m.contains("dropout") && !m["dropout"].is_null()) bad(jp + ".dropout", "BPE dropout is not supported");
  if (m.contains("unk_token") && !m["unk_token"].is_null())
    bad(jp + ".unk_token", "an unk_token is not supported (byte-level BPE needs none)");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (m.contains(k) && !m[k].is_null() && !(m[k].is_string() && m[k].get<std::string>().empty()))
      bad(jp + "." + k, "a non-empty value is not supported");
  if (flag(m, "byte_fallback", false, jp)) bad(jp + ".byte_fallback", "byte_fallback is not supported");
  ignore_merges = flag(m, "ignore_merges", false, jp);

  const json& v = member(m, "vocab", jp);
  if (!v.is_object()) bad(jp + ".vocab", "expected an object token -> id");
  vocab.reserve(v.size() * 2);
  std::int32_t max_id = -1;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > INT32_MAX)
      bad(jp + ".vocab[\"" + it.key() + "\"]", "expected a non-negative integer id");
    auto id = it->get<std::int32_t>();
    vocab.emplace(it.key(), id);
    max_id = std::max(max_id, id);
  }
  model_tokens.assign(static_cast<std::size_t>(max_id + 1), nullptr);
  for (auto& [tok, id] : vocab) model_tokens[static_cast<std::size_t>(id)] = &tok;

  auto b2c = byte_to_char();
  char_byte.fill(-1);
  for (int b = 0; b < 256; ++b) {
    char_byte[b2c[b]] = b;
    std::string s;
    append_utf8(s, b2c[b]);
    byte_str[b] = s;
    auto it = vocab.find(s);
    byte_id[b] = it == vocab.end() ? -1 : it->second;
  }

  const json& mg = member(m, "merges", jp);
  if (!mg.is_array()) bad(jp + ".merges", "expected an array");
  merges.reserve(mg.size() * 2);
  std::string a, b;
  for (std::size_t r = 0; r < mg.size(); ++r) {
    const json& e = mg[r];
    std::string where = jp + ".merges[" + std::to_string(r) + "]";
    if (e.is_string()) {
      const std::string& s = e.get_ref<const std::string&>();
      auto sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        bad(where, "expected \"left right\" (two tokens separated by one space)");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      bad(where, "expected \"left right\" or [\"left\", \"right\"]");
    }
    auto ia = vocab.find(a), ib = vocab.find(b), iab = vocab.find(a + b);
    if (ia == vocab.end() || ib == vocab.end() || iab == vocab.end())
      bad(where, "merge of tokens not in the vocabulary");
    std::uint64_t key = (std::uint64_t(std::uint32_t(ia->second)) << 32) | std::uint32_t(ib->second);
    merges.emplace(key, std::make_pair(static_cast<std::int32_t>(r), iab->second));  // first wins
  }
}

// Ids follow HF's AddedVocabulary::add_tokens, not the "id" fields (HF only warns when they
// differ): a token already in the model vocabulary (or added before) keeps that id; a new one
// gets max(added ids) + 1, or the model vocabulary size while no added id reaches it.
void Tokenizer::State::load_added(const json& a) {
  if (a.is_null()) return;
  if (!a.is_array()) bad("added_tokens", "expected an array");
  std::vector<AddedToken> listed;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string jp = "added_tokens[" + std::to_string(i) + "]";
    const json& t = a[i];
    only_keys(t, {"id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"}, jp);
    AddedToken at;
    const json& id = member(t, "id", jp);
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0) bad(jp + ".id", "expected a non-negative integer");
    at.id = id.get<std::int32_t>();
    at.content = str(member(t, "content", jp), jp + ".content");
    at.special = flag(t, "special", false, jp);
    at.single_word = flag(t, "single_word", false, jp);
    at.lstrip = flag(t, "lstrip", false, jp);
    at.rstrip = flag(t, "rstrip", false, jp);
    at.normalized = flag(t, "normalized", !at.special, jp);
    if (find_invalid_utf8(at.content) != std::string_view::npos) bad(jp + ".content", "not valid UTF-8");
    listed.push_back(std::move(at));
  }
  auto same = [](const AddedToken& x, const AddedToken& y) {
    return x.content == y.content && x.special == y.special && x.single_word == y.single_word &&
           x.lstrip == y.lstrip && x.rstrip == y.rstrip && x.normalized == y.normalized;
  };
  std::vector<std::string> special_list, plain_list;  // HF's special_tokens / added_tokens
  std::unordered_set<std::string> special_set;
  for (const auto& t : listed)
    if (t.special && !t.content.empty() && special_set.insert(t.content).second) special_list.push_back(t.content);
  const auto model_size = static_cast<std::int64_t>(vocab.size());
  for (auto t : listed) {
    if (t.content.empty()) continue;
    bool dup = false;
    for (const auto& [id, idx] : added_by_id) dup = dup || same(added[idx], t);
    if (dup) continue;
    std::int64_t nid;
    if (auto c = added_by_content.find(t.content); c != added_by_content.end()) {
      nid = c->second;
    } else if (auto v = vocab.find(t.content); v != vocab.end()) {
      nid = v->second;
    } else {
      std::int64_t mx = -1;
      for (const auto& [c2, id2] : added_by_content) mx = std::max<std::int64_t>(mx, id2);
      nid = (mx < 0 || (mx < model_size && model_size != 0)) ? model_size : mx + 1;
    }
    t.id = static_cast<std::int32_t>(nid);
    added_by_content[t.content] = t.id;
    if (auto r = added_by_id.find(t.id); r != added_by_id.end()) {
      added[r->second] = t;
    } else {
      added_by_id[t.id] = added.size();
      added.push_back(t);
    }
    if (!special_set.count(t.content)) plain_list.push_back(t.content);
  }
  for (auto& t : added) t.special = special_set.count(t.content) > 0;
  // Matching order: special tokens first, then the others (HF's refresh_added_tokens).
  match_order = special_list;
  match_order.insert(match_order.end(), plain_list.begin(), plain_list.end());
}

void Tokenizer::State::load_normalizer(const json& n, const std::string& jp) {
  if (n.is_null()) return;
  std::string type = str(member(n, "type", jp), jp + ".type");
  if (type == "NFC") {
    only_keys(n, {"type"}, jp);
    nfc = true;
  } else if (type == "Sequence") {
    only_keys(n, {"type", "normalizers"}, jp);
    const json& list = member(n, "normalizers", jp);
    if (!list.is_array()) bad(jp + ".normalizers", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (nfc) bad(jp + ".normalizers[" + std::to_string(i) + "]", "only one normalizer (NFC) is supported");
      load_normalizer(list[i], jp + ".normalizers[" + std::to_string(i) + "]");
    }
  } else {
    bad(jp + ".type", "unsupported normalizer \"" + type + "\"", "supported normalizers: NFC (or none)");
  }
}

void Tokenizer::State::load_pre(const json& p, const std::string& jp) {
  if (p.is_null()) return;
  std::string type = str(member(p, "type", jp), jp + ".type");
  if (type == "Sequence") {
    only_keys(p, {"type", "pretokenizers"}, jp);
    const json& list = member(p, "pretokenizers", jp);
    if (!list.is_array()) bad(jp + ".pretokenizers", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i)
      load_pre(list[i], jp + ".pretokenizers[" + std::to_string(i) + "]");
  } else if (type == "Split") {
    only_keys(p, {"type", "pattern", "behavior", "invert"}, jp);
    const json& pat = member(p, "pattern", jp);
    std::shared_ptr<const Regex> re;
    if (pat.is_object() && pat.size() == 1 && pat.contains("Regex"))
      re = std::make_shared<Regex>(str(pat["Regex"], jp + ".pattern.Regex"), false, file, jp + ".pattern.Regex");
    else if (pat.is_object() && pat.size() == 1 && pat.contains("String"))
      re = std::make_shared<Regex>(str(pat["String"], jp + ".pattern.String"), true, file, jp + ".pattern.String");
    else
      bad(jp + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    std::string behavior = str(member(p, "behavior", jp), jp + ".behavior");
    if (behavior != "Isolated")
      bad(jp + ".behavior", "unsupported split behavior \"" + behavior + "\"", "supported: Isolated");
    if (flag(p, "invert", false, jp)) bad(jp + ".invert", "invert: true is not supported");
    pre.push_back({PreKind::kSplit, std::move(re), false});
  } else if (type == "ByteLevel") {
    only_keys(p, {"type", "add_prefix_space", "trim_offsets", "use_regex"}, jp);
    PreStep s{PreKind::kByteLevel, nullptr, flag(p, "add_prefix_space", true, jp)};
    if (flag(p, "use_regex", true, jp)) s.re = std::make_shared<Regex>(kGpt2Pattern, false, file, jp);
    pre.push_back(std::move(s));
  } else {
    bad(jp + ".type", "unsupported pre-tokenizer \"" + type + "\"", "supported: Sequence, Split, ByteLevel");
  }
}

void Tokenizer::State::load_post(const json& p, const std::string& jp) {
  if (p.is_null()) return;
  std::string type = str(member(p, "type", jp), jp + ".type");
  if (type == "Sequence") {
    only_keys(p, {"type", "processors"}, jp);
    const json& list = member(p, "processors", jp);
    if (!list.is_array()) bad(jp + ".processors", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i)
      load_post(list[i], jp + ".processors[" + std::to_string(i) + "]");
  } else if (type == "ByteLevel") {
    only_keys(p, {"type", "add_prefix_space", "trim_offsets", "use_regex"}, jp);  // offsets only
  } else if (type == "TemplateProcessing") {
    only_keys(p, {"type", "single", "pair", "special_tokens"}, jp);
    if (!prefix_ids.empty() || !suffix_ids.empty()) bad(jp, "a second TemplateProcessing is not supported");
    const json& single = member(p, "single", jp);
    const json& specials = member(p, "special_tokens", jp);
    if (!single.is_array()) bad(jp + ".single", "expected an array");
    bool seen_a = false;
    for (std::size_t i = 0; i < single.size(); ++i) {
      std::string ip = jp + ".single[" + std::to_string(i) + "]";
      const json& piece = single[i];
      if (piece.is_object() && piece.contains("Sequence")) {
        if (str(member(piece["Sequence"], "id", ip + ".Sequence"), ip + ".Sequence.id") != "A" || seen_a)
          bad(ip, "the single template must hold $A exactly once");
        seen_a = true;
      } else if (piece.is_object() && piece.contains("SpecialToken")) {
        std::string name = str(member(piece["SpecialToken"], "id", ip + ".SpecialToken"), ip + ".SpecialToken.id");
        const json& st = member(specials, name, jp + ".special_tokens");
        const json& ids = member(st, "ids", jp + ".special_tokens." + name);
        if (!ids.is_array()) bad(jp + ".special_tokens." + name + ".ids", "expected an array of ids");
        for (const auto& id : ids) (seen_a ? suffix_ids : prefix_ids).push_back(id.get<std::int32_t>());
      } else {
        bad(ip, "expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
      }
    }
    if (!seen_a) bad(jp + ".single", "the single template must hold $A");
  } else {
    bad(jp + ".type", "unsupported post-processor \"" + type + "\"",
        "supported: TemplateProcessing, ByteLevel, Sequence");
  }
}

void Tokenizer::State::load_decoder(const json& d, const std::string& jp) {
  if (d.is_null()) bad(jp, "a tokenizer without a decoder is not supported", "use a ByteLevel decoder");
  std::string type = str(member(d, "type", jp), jp + ".type");
  if (type != "ByteLevel")
    bad(jp + ".type", "unsupported decoder \"" + type + "\"", "supported: ByteLevel");
  only_keys(d, {"type", "add_prefix_space", "trim_offsets", "use_regex"}, jp);
}

void Tokenizer::State::load_config(const std::filesystem::path& cfg_path) {
  std::string text = read_all(cfg_path);
  json cfg;
  try {
    cfg = json::parse(text);
  } catch (const json::parse_error& e) {
    throw FormatError(std::string("not valid JSON: ") + e.what(), cfg_path.string(),
                      "the file must be the one transformers saves");
  }
  if (!cfg.is_object()) throw FormatError("expected a JSON object", cfg_path.string(), "");
  auto token = [&](const char* key, std::optional<std::int32_t>& out) {
    auto it = cfg.find(key);
    if (it == cfg.end()) return false;
    std::string name;
    if (it->is_null()) {
      out.reset();
      return true;
    }
    if (it->is_string()) name = it->get<std::string>();
    else if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
      name = (*it)["content"].get<std::string>();
    else
      throw FormatError("expected a token string, {\"content\": ...} or null",
                        cfg_path.string() + " at " + key, "");
    auto a = added_by_content.find(name);
    if (a != added_by_content.end()) {
      out = a->second;
    } else if (auto v = vocab.find(name); v != vocab.end()) {
      out = v->second;
    } else {
      throw FormatError("token \"" + name + "\" is not in the vocabulary",
                        cfg_path.string() + " at " + key, "tokenizer.json and tokenizer_config.json must match");
    }
    return true;
  };
  token("bos_token", bos);
  token("eos_token", eos);
  token("pad_token", pad);
}

Tokenizer Tokenizer::from_file(const std::filesystem::path& tokenizer_json, const Options& options) {
  auto s = std::make_shared<State>();
  s->path = tokenizer_json;
  s->file = tokenizer_json.string();
  s->cache_capacity = options.bpe_cache_capacity;
  std::string text = read_all(tokenizer_json);
  s->fingerprint = "sha256:" + sha256_hex(text);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw FormatError(std::string("not valid JSON: ") + e.what(), s->file,
                      "tokenizer.json must be the file HuggingFace tokenizers saves");
  }
  text.clear();
  text.shrink_to_fit();
  if (!root.is_object()) s->bad("$", "expected a JSON object");
  s->only_keys(root, {"version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer",
                      "post_processor", "decoder", "model"},
               "$");
  for (const char* k : {"truncation", "padding"})
    if (root.contains(k) && !root[k].is_null())
      s->bad(k, std::string(k) + " is not supported", std::string("set \"") + k + "\" to null");
  s->load_model(s->member(root, "model", "$"));
  s->load_added(root.value("added_tokens", json()));
  s->load_normalizer(root.value("normalizer", json()), "normalizer");
  s->load_pre(root.value("pre_tokenizer", json()), "pre_tokenizer");
  s->load_post(root.value("post_processor", json()), "post_processor");
  s->load_decoder(root.value("decoder", json()), "decoder");

  for (const std::string& content : s->match_order) {
    std::size_t i = s->added_by_id.at(s->added_by_content.at(content));
    const AddedToken& t = s->added[i];  // flags of the token now holding that id
    if (t.normalized) s->norm_matcher.add(s->nfc ? nfc(content) : content, i);
    else s->raw_matcher.add(content, i);
  }
  s->raw_matcher.finish();
  s->norm_matcher.finish();

  std::int64_t extra = 0;
  for (auto& [content, id] : s->added_by_content) extra += s->vocab.count(content) ? 0 : 1;
  s->vocab_size = static_cast<std::int64_t>(s->vocab.size()) + extra;
  if (!s->prefix_ids.empty()) s->bos = s->prefix_ids.front();
  if (!s->suffix_ids.empty()) s->eos = s->suffix_ids.back();
  return Tokenizer(std::move(s));
}

Tokenizer Tokenizer::from_dir(const std::filesystem::path& dir, const Options& options) {
  auto tj = dir / "tokenizer.json";
  if (!std::filesystem::is_regular_file(tj))
    throw FormatError("no tokenizer.json", dir.string(),
                      "point at a HuggingFace model or tokenizer directory holding tokenizer.json");
  Tokenizer t = from_file(tj, options);
  // As transformers: special_tokens_map.json first, tokenizer_config.json's keys override.
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    auto cfg = dir / name;
    if (std::filesystem::is_regular_file(cfg))
      std::const_pointer_cast<State>(t.s_)->load_config(cfg);  // still private to this call
  }
  return t;
}

}  // namespace ram::tok
