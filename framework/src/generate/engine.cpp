// The sampling engine (engine.hpp). One loop, one batched forward per step:
//
//   1. every free slot takes the next request (its prompt truncated to keep the end); the
//      cache row is reset(slot) so the previous sequence's keys are masked out;
//   2. the step's input is, per row, right-aligned and left-padded to T columns: a fresh
//      row's whole prompt, a live row's last sampled token, nothing (padding) for an idle
//      row — so a refill costs no extra forward: live rows keep decoding in the same call;
//      (when every live row is fresh, the cache is simply cleared first);
//   3. when the cache has no room for T more columns, it is rebuilt: clear(), and every live
//      row is fed its prompt + generated ids (the positions are the same as before);
//   4. the last column's logits: log-probability of the drawn token from the RAW logits,
//      then the processor chain, then arg-max or an inverse-CDF draw with the row's
//      counter-based uniform (rng.hpp) over float64 cumulative probabilities;
//   5. stop checks per row: EOS, stop strings (searched in the tail of the decoded text),
//      max_new_tokens, max_length. A finished row hands its result out and frees its slot.
//
// RAM decoding (a proposal given): step 2's input goes through both models (each its own
// cache, so clears, resets and rebuilds happen to both at once); step 4 runs the joint step
// (ram_modes.hpp) on (aligner logits, proposal logits) first, and adds both log-probabilities
// of the drawn token (each from its model's raw logits). Both are cut to options.vocab.
//
// Rows attend only to their own unmasked cache entries, so a row's logits are those of the
// row decoded alone up to float rounding (padding columns change the reduction length).
#include "generate/engine.hpp"

#include <algorithm>
#include <limits>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "generate/processors.hpp"
#include "generate/rng.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ram::generate {

const char* to_string(Finish f) {
  switch (f) {
    case Finish::eos:
      return "eos";
    case Finish::stop_string:
      return "stop_string";
    case Finish::length:
      return "length";
  }
  return "unknown";
}

namespace {

// Bytes re-searched before the previous text's end: a stop string may straddle the old
// tail, and the decoded tail may change when a token completes a UTF-8 sequence that
// was shown as U+FFFD (3 bytes each, up to 3 of them) one step earlier.
constexpr std::size_t kTailSlack = 12;

struct Slot {
  bool active = false;
  bool fresh = false;  // prompt not in the cache yet
  const Request* req = nullptr;
  std::vector<std::int64_t> prompt;  // after truncation
  bool truncated = false;
  std::vector<std::int64_t> ids;    // generated; the last one is not in the cache yet
  std::vector<std::int32_t> ids32;  // the same, for the tokenizer
  double logprob = 0, proposal_logprob = 0;
  std::int64_t restricted_steps = 0;
  std::size_t text_len = 0;  // decoded length at the previous step (stop strings)
};

std::string where_of(const Request& r) {
  return "example " + std::to_string(r.example_index) + " sample " + std::to_string(r.sample_index);
}

}  // namespace

struct Engine::Impl {
  CausalLM& model;
  CausalLM* proposal;  // RAM decoding; null otherwise
  const tok::Tokenizer* tokenizer;
  EngineOptions opt;
  Stats stats;
  std::size_t longest_stop = 0;
  std::int64_t V = 0;  // logits columns used

  Impl(CausalLM& m, CausalLM* p, const tok::Tokenizer* t, EngineOptions o)
      : model(m), proposal(p), tokenizer(t), opt(std::move(o)) {
    const auto& st = opt.stop;
    V = opt.vocab > 0 ? opt.vocab : model.vocab_size();
    if (V > model.vocab_size() || (proposal != nullptr && V > proposal->vocab_size()))
      throw ConfigError("engine vocab " + std::to_string(V) + " exceeds a model's vocabulary",
                        "engine vocab", "use the tokenizer's length (ram_modes.hpp joint_vocab)");
    if (proposal != nullptr) {
      const auto mode = opt.joint.mode;
      if (mode != JointMode::par && mode != JointMode::par_kl && mode != JointMode::mds)
        throw ConfigError(std::string("RAM decoding needs mode par, par_kl or mds (got ") +
                              to_string(mode) + ")",
                          "engine joint mode", "resample runs through generate::resample");
      if (opt.vocab <= 0 && proposal->vocab_size() != model.vocab_size())
        throw ConfigError("the aligner and the proposal have different vocabulary sizes",
                          "engine vocab", "set the shared length (ram_modes.hpp joint_vocab)");
      generate::check(opt.joint);
    } else if (opt.joint.mode != JointMode::none) {
      throw ConfigError(std::string("sample mode ") + to_string(opt.joint.mode) +
                            " needs a proposal model",
                        "engine joint mode", "give the proposal, or use mode none");
    }
    if (opt.refill_min_free < 1) {
      throw ConfigError(
          "refill_min_free must be ≥ 1 (got " + std::to_string(opt.refill_min_free) + ")",
          "engine refill_min_free", "1 refills a slot as soon as it is free");
    }
    if (opt.batch_size < 1) {
      throw ConfigError("batch_size must be ≥ 1 (got " + std::to_string(opt.batch_size) + ")",
                        "engine batch_size", "the number of sequences decoded together");
    }
    if (st.max_new_tokens < 0 || st.max_length < 1 || st.max_prompt_length < 1) {
      throw ConfigError("need max_new_tokens ≥ 0, max_length ≥ 1, max_prompt_length ≥ 1 (got " +
                            std::to_string(st.max_new_tokens) + ", " +
                            std::to_string(st.max_length) + ", " +
                            std::to_string(st.max_prompt_length) + ")",
                        "engine stop limits", "set the three limits to positive token counts");
    }
    for (const auto& s : st.stop_strings) {
      if (s.empty()) {
        throw ConfigError("an empty stop string", "engine stop_strings",
                          "remove it: it would match at once");
      }
      longest_stop = std::max(longest_stop, s.size());
    }
    if (!st.stop_strings.empty() && tokenizer == nullptr) {
      throw ConfigError("stop strings need a tokenizer", "engine stop_strings",
                        "load the model directory's tokenizer or drop the stop strings");
    }
    Chain check(opt.sampling, 1, V);  // validates the order and values now
  }

  std::string decode(const Slot& s) const {
    return tokenizer ? tokenizer->decode(s.ids32, /*skip_special_tokens=*/true) : std::string();
  }

  // Stop checks after `s` took one token; fills `text` when it finishes.
  bool finished(Slot& s, Finish& why, std::string& text) const {
    const auto& st = opt.stop;
    const std::int64_t id = s.ids.back();
    if (std::find(st.eos_ids.begin(), st.eos_ids.end(), id) != st.eos_ids.end()) {
      why = Finish::eos;
      text = decode(s);
      return true;
    }
    bool have_text = false;
    if (!st.stop_strings.empty()) {
      text = decode(s);
      have_text = true;
      const std::size_t back = longest_stop + kTailSlack;
      const std::size_t from = s.text_len > back ? s.text_len - back : 0;
      std::size_t best = std::string::npos;
      for (const auto& stop : st.stop_strings) best = std::min(best, text.find(stop, from));
      if (best != std::string::npos) {
        text.resize(best);
        why = Finish::stop_string;
        return true;
      }
      s.text_len = text.size();
    }
    const auto n = static_cast<std::int64_t>(s.ids.size());
    if (n >= st.max_new_tokens || static_cast<std::int64_t>(s.prompt.size()) + n >= st.max_length) {
      why = Finish::length;
      if (!have_text) text = decode(s);
      return true;
    }
    return false;
  }

  Result result(const Slot& s, Finish why, std::string text) const {
    Result r;
    r.example_index = s.req->example_index;
    r.sample_index = s.req->sample_index;
    r.ids = s.ids;
    r.text = std::move(text);
    r.logprob = s.logprob;
    r.proposal_logprob = s.proposal_logprob;
    r.restricted_steps = s.restricted_steps;
    r.finish = why;
    r.prompt_tokens = static_cast<std::int64_t>(s.prompt.size());
    r.prompt_truncated = s.truncated;
    return r;
  }

  void run(const std::vector<Request>& requests, const std::function<void(Result&&)>& on_result);
  struct Batch;
};

// One run(): the slots, the cache and the chain, and the steps of the loop.
struct Engine::Impl::Batch {
  Engine::Impl& e;
  const std::vector<Request>& requests;
  const std::function<void(Result&&)>& on_result;
  std::int64_t B = 0, V = 0, capacity = 0;
  std::unique_ptr<KVCache> cache, pcache;  // the model's, the proposal's
  at::Tensor plogits;                     // the proposal's last logits [B, V] (RAM decoding)
  Chain chain;
  std::vector<Slot> slots;
  std::size_t next = 0;  // the next request to hand out
  std::int64_t live = 0;
  at::Tensor ids1, attn1, pos1, uniform;  // reused by decode steps (T = 1)

  Batch(Engine::Impl& engine, const std::vector<Request>& reqs,
        const std::function<void(Result&&)>& cb)
      : e(engine), requests(reqs), on_result(cb) {}

  // Checks every request and sizes the cache (the longest row this run can need).
  void setup();
  // Fills slot r with the next request that needs decoding; requests with no room for a new
  // token finish at once (finish = length). False when none is left.
  bool take(std::int64_t r);
  void refill();
  // Tokens row `s` feeds this step: a fresh prompt, the last sampled id, or (rebuild) all.
  static std::int64_t width(const Slot& s, bool rebuild) {
    if (!s.active) return 0;
    if (rebuild) return static_cast<std::int64_t>(s.prompt.size() + s.ids.size());
    return s.fresh ? static_cast<std::int64_t>(s.prompt.size()) : 1;
  }
  // One forward for every row; returns the last column's logits [B, V] float32.
  at::Tensor forward();
  // Next id per row [B, 1] from the raw logits (chain, then arg-max or a draw).
  at::Tensor next_ids(const at::Tensor& raw);
  // Appends the ids, adds their log-probabilities, runs the stop checks.
  static void add_logprobs(const at::Tensor& raw, const std::int64_t* ids, std::vector<double>& out);
  void accept(const at::Tensor& raw, const at::Tensor& ids);
};

void Engine::Impl::Batch::setup() {
  const auto& st = e.opt.stop;
  V = e.V;
  std::int64_t row_max = 0, prompt_max = 0, decodable = 0, gen_max = 0;
  for (const auto& q : requests) {
    if (q.prompt_ids.empty()) {
      throw DataError("empty prompt", where_of(q), "every prompt needs at least one token");
    }
    for (std::int64_t id : q.prompt_ids) {
      if (id < 0 || id >= V) {
        throw DataError("token id " + std::to_string(id) + " outside the vocabulary [0, " +
                            std::to_string(V) + ")",
                        where_of(q), "encode prompts with the model's tokenizer");
      }
    }
    const std::int64_t n = std::min<std::int64_t>(static_cast<std::int64_t>(q.prompt_ids.size()),
                                                  st.max_prompt_length);
    const std::int64_t total = std::min(st.max_length, n + st.max_new_tokens);
    if (total > n) {
      row_max = std::max(row_max, total);
      prompt_max = std::max(prompt_max, n);
      gen_max = std::max(gen_max, total - n);
      ++decodable;
    }
  }
  B = std::min(e.opt.batch_size, std::max<std::int64_t>(decodable, 1));
  // One batch holds every request: no refill ever appends columns, so the prefill's width
  // (the longest prompt) plus the most tokens a row generates is all the cache needs.
  const std::int64_t automatic =
      decodable <= B ? std::min(row_max + prompt_max, prompt_max + gen_max) : row_max + prompt_max;
  capacity = e.opt.cache_capacity > 0 ? e.opt.cache_capacity : std::max<std::int64_t>(automatic, 1);
  if (capacity < row_max) {
    throw ConfigError("cache_capacity " + std::to_string(capacity) + " cannot hold a row of " +
                          std::to_string(row_max) + " tokens",
                      "engine cache_capacity",
                      "use 0 (automatic) or at least min(max_length, prompt + max_new_tokens)");
  }
  if (decodable > 0) {
    cache = e.model.make_cache(B, capacity);
    if (e.proposal != nullptr) pcache = e.proposal->make_cache(B, capacity);
  }
  chain = Chain(e.opt.sampling, B, V);
  slots.assign(static_cast<std::size_t>(B), Slot{});
  ids1 = at::empty({B, 1}, at::kLong);
  attn1 = at::empty({B, 1}, at::kLong);
  pos1 = at::empty({B, 1}, at::kLong);
  uniform = at::empty({B, 1}, at::kDouble);
}

bool Engine::Impl::Batch::take(std::int64_t r) {
  const auto& st = e.opt.stop;
  while (next < requests.size()) {
    const Request& q = requests[next++];
    Slot& s = slots[static_cast<std::size_t>(r)];
    s = Slot{};
    s.req = &q;
    const auto n = static_cast<std::int64_t>(q.prompt_ids.size());
    s.truncated = n > st.max_prompt_length;
    s.prompt.assign(q.prompt_ids.end() - std::min(n, st.max_prompt_length), q.prompt_ids.end());
    ++e.stats.prompts;
    e.stats.prompt_tokens += static_cast<std::int64_t>(s.prompt.size());
    e.stats.truncated_prompts += s.truncated ? 1 : 0;
    if (st.max_new_tokens <= 0 || static_cast<std::int64_t>(s.prompt.size()) >= st.max_length) {
      on_result(e.result(s, Finish::length, std::string()));
      s = Slot{};
      continue;
    }
    s.active = s.fresh = true;
    cache->reset(r);
    if (pcache) pcache->reset(r);
    chain.start(r, s.prompt);
    ++live;
    return true;
  }
  return false;
}

void Engine::Impl::Batch::refill() {
  const std::int64_t free_slots = B - live;
  const auto remaining = static_cast<std::int64_t>(requests.size() - next);
  if (live > 0 && free_slots < std::min(e.opt.refill_min_free, remaining)) return;
  for (std::int64_t r = 0; r < B; ++r) {
    if (!slots[static_cast<std::size_t>(r)].active && !take(r)) break;
  }
}

at::Tensor Engine::Impl::Batch::forward() {
  // No live row has anything in the cache (all fresh): start it over, for free.
  if (std::none_of(slots.begin(), slots.end(),
                   [](const Slot& s) { return s.active && !s.fresh; })) {
    cache->clear();
    if (pcache) pcache->clear();
  }
  bool rebuild = false;
  std::int64_t T = 0;
  for (const auto& s : slots) T = std::max(T, width(s, false));
  if (cache->length() + T > capacity) {
    rebuild = true;
    cache->clear();
    if (pcache) pcache->clear();
    ++e.stats.cache_rebuilds;
    T = 0;
    for (const auto& s : slots) T = std::max(T, width(s, true));
  }
  at::Tensor ids = T == 1 ? ids1 : at::empty({B, T}, at::kLong);
  at::Tensor attn = T == 1 ? attn1 : at::empty({B, T}, at::kLong);
  at::Tensor pos = T == 1 ? pos1 : at::empty({B, T}, at::kLong);
  ids.fill_(e.opt.pad_id);
  attn.zero_();
  pos.fill_(1);  // HF's value at padding places
  std::int64_t* pi = ids.data_ptr<std::int64_t>();
  std::int64_t* pa = attn.data_ptr<std::int64_t>();
  std::int64_t* pp = pos.data_ptr<std::int64_t>();
  for (std::int64_t r = 0; r < B; ++r) {  // right-aligned, left-padded
    const Slot& s = slots[static_cast<std::size_t>(r)];
    const std::int64_t w = width(s, rebuild), off = r * T + (T - w);
    if (w == 1 && !s.fresh && !rebuild) {
      pi[off] = s.ids.back();
      pa[off] = 1;
      pp[off] = static_cast<std::int64_t>(s.prompt.size() + s.ids.size()) - 1;
      continue;
    }
    const auto np = static_cast<std::int64_t>(s.prompt.size());
    for (std::int64_t j = 0; j < w; ++j) {
      pi[off + j] = j < np ? s.prompt[static_cast<std::size_t>(j)]
                           : s.ids[static_cast<std::size_t>(j - np)];
      pa[off + j] = 1;
      pp[off + j] = j;
    }
  }
  at::Tensor logits = e.model.forward_last(ids, pos, attn, cache.get());  // [B,V]
  if (e.proposal != nullptr) {
    plogits = e.proposal->forward_last(ids, pos, attn, pcache.get())
                  .narrow(1, 0, V).to(at::kFloat).contiguous();
  }
  ++e.stats.forward_calls;
  e.stats.forward_positions += B * T;
  for (auto& s : slots) s.fresh = false;
  return logits.narrow(1, 0, V).to(at::kFloat).contiguous();
}

at::Tensor Engine::Impl::Batch::next_ids(const at::Tensor& raw) {
  at::Tensor work;
  if (e.proposal != nullptr) {
    JointInfo info;
    work = joint_step(raw, plogits, e.opt.joint, e.opt.stop.eos_ids, &info);
    for (std::int64_t r = 0; r < B; ++r) {
      Slot& s = slots[static_cast<std::size_t>(r)];
      if (!s.active) continue;
      const auto ru = static_cast<std::size_t>(r);
      ++e.stats.joint_steps;
      e.stats.restricted_steps += info.restricted[ru];
      e.stats.eos_forced += info.eos_forced[ru];
      s.restricted_steps += info.restricted[ru];
    }
  } else {
    work = raw.clone();
  }
  if (e.opt.sampling.greedy) {
    chain.apply(work);
    return work.argmax(-1, /*keepdim=*/true);
  }
  double* pu = uniform.data_ptr<double>();
  for (std::int64_t r = 0; r < B; ++r) {
    const Slot& s = slots[static_cast<std::size_t>(r)];
    pu[r] = s.active ? draw_uniform(e.opt.sampling.seed, s.req->example_index,
                                    s.req->sample_index, static_cast<std::int64_t>(s.ids.size()))
                     : 0.0;
  }
  return chain.sample(work, uniform);
}

void Engine::Impl::Batch::accept(const at::Tensor& raw, const at::Tensor& ids) {
  const at::Tensor next = ids.contiguous();
  const std::int64_t* pn = next.data_ptr<std::int64_t>();
  std::vector<double> lp, plp;
  add_logprobs(raw, pn, lp);
  if (e.proposal != nullptr) add_logprobs(plogits, pn, plp);
  for (std::int64_t r = 0; r < B; ++r) {
    Slot& s = slots[static_cast<std::size_t>(r)];
    if (!s.active) continue;
    const std::int64_t id = pn[r];
    s.ids.push_back(id);
    s.ids32.push_back(static_cast<std::int32_t>(id));
    s.logprob += lp[static_cast<std::size_t>(r)];
    if (!plp.empty()) s.proposal_logprob += plp[static_cast<std::size_t>(r)];
    chain.accept(r, id);
    ++e.stats.generated_tokens;
    Finish why = Finish::length;
    std::string text;
    if (e.finished(s, why, text)) {
      on_result(e.result(s, why, std::move(text)));
      s = Slot{};
      --live;
    }
  }
}

void Engine::Impl::Batch::add_logprobs(const at::Tensor& raw, const std::int64_t* ids,
                                        std::vector<double>& out) {
  const at::Tensor lse = at::logsumexp(raw, {1});  // [B], of the RAW logits
  const std::int64_t B = raw.size(0), V = raw.size(1);
  const float* praw = raw.data_ptr<float>();
  const float* plse = lse.data_ptr<float>();
  out.resize(static_cast<std::size_t>(B));
  for (std::int64_t r = 0; r < B; ++r)
    out[static_cast<std::size_t>(r)] =
        static_cast<double>(praw[r * V + ids[r]]) - static_cast<double>(plse[r]);
}

void Engine::Impl::run(const std::vector<Request>& requests,
                       const std::function<void(Result&&)>& on_result) {
  c10::InferenceMode guard;
  Batch b(*this, requests, on_result);
  b.setup();
  for (;;) {
    b.refill();
    if (b.live == 0) break;
    const at::Tensor raw = b.forward();
    b.accept(raw, b.next_ids(raw));
  }
}

Engine::Engine(CausalLM& model, const tok::Tokenizer* tokenizer, EngineOptions options)
    : impl_(new Impl(model, nullptr, tokenizer, std::move(options))) {}

Engine::Engine(CausalLM& model, CausalLM* proposal, const tok::Tokenizer* tokenizer,
               EngineOptions options)
    : impl_(new Impl(model, proposal, tokenizer, std::move(options))) {
  if (proposal == nullptr) {
    delete impl_;
    throw ConfigError("RAM decoding without a proposal model", "engine", "pass the proposal");
  }
}

Engine::~Engine() { delete impl_; }

void Engine::run(const std::vector<Request>& requests,
                 const std::function<void(Result&&)>& on_result) {
  impl_->run(requests, on_result);
}

const Engine::Stats& Engine::stats() const { return impl_->stats; }

std::string Engine::describe() const {
  const auto& sp = impl_->opt.sampling;
  Chain chain(sp, 1, impl_->V);
  const std::string joint =
      impl_->proposal != nullptr ? generate::describe(impl_->opt.joint) + " → " : std::string();
  return joint + chain.describe() +
         (sp.greedy ? " → argmax" : " → sample(seed " + std::to_string(sp.seed) + ")");
}

}  // namespace ram::generate
