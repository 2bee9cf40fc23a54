#include "generate/processors.hpp"

#include <algorithm>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <ATen/ATen.h>

#include "generate/engine.hpp"
#include "ram/error.hpp"

namespace ram::generate {

namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void check_logits(const at::Tensor& logits, const char* stage) {
  if (logits.dim() != 2 || logits.scalar_type() != at::kFloat || !logits.is_contiguous()) {
    throw DataError(std::string("logits must be a contiguous [B, V] float32 tensor"), stage,
                    "pass the last position's logits, converted with .to(kFloat).contiguous()");
  }
}

}  // namespace

std::int64_t finite_candidates(const at::Tensor& logits) {
  return at::isfinite(logits).sum(-1).max().item<std::int64_t>();
}

const std::vector<std::string>& processor_names() {
  static const std::vector<std::string> names = {"repetition_penalty", "temperature", "top_k",
                                                 "top_p"};
  return names;
}

// ---- repetition penalty ----------------------------------------------------------------

RepetitionPenalty::RepetitionPenalty(double penalty, std::int64_t batch, std::int64_t vocab)
    : penalty_(penalty),
      vocab_(vocab),
      seen_(at::zeros({batch, vocab}, at::kBool)),
      lists_(static_cast<std::size_t>(batch)) {}

std::string RepetitionPenalty::describe() const {
  return "repetition_penalty(" + num(penalty_) + ")";
}

void RepetitionPenalty::apply(at::Tensor& logits, std::int64_t& /*finite*/) {
  check_logits(logits, "repetition_penalty");
  // HF: score = gather(scores, ids); where(score < 0, score * p, score / p); scatter back —
  // the same float operations, over each row's distinct seen ids (not the whole [B, V]:
  // ~8 ms a step for B = 32, V = 32000). Rows are padded with their own first id (a
  // repeated index writes the same value); a row with no ids writes its values back.
  const std::int64_t B = logits.size(0);
  std::size_t width = 0;
  for (const auto& l : lists_) width = std::max(width, l.size());
  if (width == 0) return;
  const auto L = static_cast<std::int64_t>(width);
  at::Tensor idx = at::empty({B, L}, at::kLong);
  at::Tensor valid = at::empty({B, L}, at::kBool);
  std::int64_t* pi = idx.data_ptr<std::int64_t>();
  bool* pv = valid.data_ptr<bool>();
  for (std::int64_t r = 0; r < B; ++r) {
    const auto& l = lists_[static_cast<std::size_t>(r)];
    for (std::int64_t j = 0; j < L; ++j) {
      const auto ju = static_cast<std::size_t>(j);
      pi[r * L + j] = ju < l.size() ? l[ju] : l.empty() ? 0 : l[0];
      pv[r * L + j] = !l.empty();
    }
  }
  at::Tensor score = logits.gather(1, idx);
  at::Tensor penalized = at::where(score < 0, score * penalty_, score / penalty_);
  logits.scatter_(1, idx, at::where(valid, penalized, score));
}

void RepetitionPenalty::apply(Candidates& c) {
  // The same float operations on the candidates that are in the row's seen set.
  at::Tensor seen = seen_.narrow(0, 0, c.ids.size(0)).gather(1, c.ids);
  at::Tensor penalized = at::where(c.vals < 0, c.vals * penalty_, c.vals / penalty_);
  c.vals = at::where(seen, penalized, c.vals);
}

void RepetitionPenalty::start(std::int64_t slot, const std::vector<std::int64_t>& prompt) {
  at::Tensor row = seen_[slot];
  row.zero_();
  lists_[static_cast<std::size_t>(slot)].clear();
  for (std::int64_t id : prompt) accept(slot, id);
}

void RepetitionPenalty::accept(std::int64_t slot, std::int64_t id) {
  if (id < 0 || id >= vocab_) return;
  bool& seen = seen_.data_ptr<bool>()[slot * vocab_ + id];
  if (!seen) {
    seen = true;
    lists_[static_cast<std::size_t>(slot)].push_back(id);
  }
}

// ---- temperature -----------------------------------------------------------------------

Temperature::Temperature(double t) : t_(t) {}
std::string Temperature::describe() const { return "temperature(" + num(t_) + ")"; }
void Temperature::apply(at::Tensor& logits, std::int64_t& /*finite*/) { logits.div_(t_); }
void Temperature::apply(Candidates& c) { c.vals = c.vals / t_; }

// ---- top-k -----------------------------------------------------------------------------

TopK::TopK(std::int64_t k) : k_(k) {}
std::string TopK::describe() const { return "top_k(" + std::to_string(k_) + ")"; }

void TopK::apply(at::Tensor& logits, std::int64_t& finite) {
  check_logits(logits, "top_k");
  // HF: top_k = min(max(top_k, min_tokens_to_keep), V); remove scores < the k-th largest.
  const std::int64_t V = logits.size(1);
  const std::int64_t k = std::min<std::int64_t>(std::max<std::int64_t>(k_, 1), V);
  at::Tensor kth = std::get<0>(logits.topk(k, -1)).narrow(1, k - 1, 1);  // [B, 1]
  at::Tensor remove = logits < kth;
  logits.masked_fill_(remove, -std::numeric_limits<float>::infinity());
  // Kept: the values ≥ the k-th, ties included (k or a few more).
  finite = std::min(finite, V - remove.sum(-1).min().item<std::int64_t>());
}

void TopK::apply(Candidates& /*c*/) {
  throw std::logic_error("top_k on candidates: a chain holds one top_k, which makes them");
}

bool TopK::select(const at::Tensor& logits, Candidates& c) const {
  check_logits(logits, "top_k");
  const std::int64_t V = logits.size(1);
  const std::int64_t k = std::max<std::int64_t>(k_, 1);
  if (k + 1 > V) return false;
  // One more than k: the (k+1)-th tells whether apply() would keep a tie beyond k. With the
  // k-th largest at −inf nothing finite lies outside the k (apply() removes nothing).
  auto top = logits.topk(k + 1, -1, /*largest=*/true, /*sorted=*/true);
  const at::Tensor& vals = std::get<0>(top);
  at::Tensor kth = vals.narrow(1, k - 1, 1), next = vals.narrow(1, k, 1);
  if (((next == kth) & at::isfinite(kth)).any().item<bool>()) return false;
  c.vals = vals.narrow(1, 0, k);
  c.ids = std::get<1>(top).narrow(1, 0, k);
  return true;
}

// ---- top-p -----------------------------------------------------------------------------

TopP::TopP(double p) : p_(p) {}
std::string TopP::describe() const { return "top_p(" + num(p_) + ")"; }

void TopP::apply(at::Tensor& logits, std::int64_t& finite) {
  check_logits(logits, "top_p");
  const std::int64_t V = logits.size(1);
  const std::int64_t m = std::max<std::int64_t>(std::min(finite, V), 1);
  if (m * 4 <= V) {
    // Fast path after a top-k (or any stage that left few finite logits): a full sort of V
    // costs ~90 ms for B = 32, V = 32000 on one core, topk(m) ~2 ms. The ascending order of
    // the m largest is HF's sorted order without its leading −inf entries, which add 0 to
    // every cumulative sum; only the softmax denominator is summed over m instead of V
    // entries (same terms, another rounding order).
    auto top = logits.topk(m, -1, /*largest=*/true, /*sorted=*/true);
    at::Tensor vals = std::get<0>(top).flip(-1), idx = std::get<1>(top).flip(-1);  // ascending
    at::Tensor remove = vals.softmax(-1).cumsum(-1) <= (1.0 - p_);
    remove.narrow(1, m - 1, 1).fill_(false);
    logits.scatter_(1, idx, vals.masked_fill(remove, -std::numeric_limits<float>::infinity()));
    finite = m - remove.sum(-1).min().item<std::int64_t>();
    return;
  }
  // HF: sorted ascending; cumulative softmax; remove where ≤ 1 − top_p; keep the last
  // (largest) one. A token's cumulative value is the mass of the tokens below it, so only
  // the largest few matter: a row's k largest (k = 256, ×4 until enough), their
  // probabilities exp(x − logsumexp(row)), and `rest`, the mass of all the others summed
  // directly (not 1 − the head's mass: that cancellation would make the cut ~20× more
  // sensitive to rounding in the logits), as the cumulative sum's start. Once rest ≤
  // 1 − top_p, everything outside the k is removed and the k decide as in HF — no sort of
  // the whole row (~70 ms for B = 32, V = 32000 on one core). The same cut as HF's but for
  // the rounding of the sums. Each row's k depends on that row alone (rows still short of
  // the nucleus go on to the next k by themselves), so a row's result does not depend on
  // the rows beside it.
  const float inf = std::numeric_limits<float>::infinity();
  const at::Tensor prob = (logits - at::logsumexp(logits, {1}, /*keepdim=*/true)).exp();  // [B, V]
  at::Tensor out = at::full_like(logits, -inf);
  at::Tensor rows;  // pending rows (undefined: all of them)
  std::int64_t most = 0;
  for (std::int64_t k = std::min<std::int64_t>(V, 256);; k = std::min(V, 4 * k)) {
    const at::Tensor x = rows.defined() ? logits.index_select(0, rows) : logits;
    const at::Tensor px = rows.defined() ? prob.index_select(0, rows) : prob;
    auto top = x.topk(k, -1, /*largest=*/true, /*sorted=*/true);
    at::Tensor vals = std::get<0>(top).flip(-1), idx = std::get<1>(top).flip(-1);  // ascending
    at::Tensor probs = px.gather(1, idx);
    at::Tensor head = at::zeros_like(px, at::kBool).scatter_(1, idx, true);
    at::Tensor rest = px.masked_fill(head, 0.0).sum(-1, /*keepdim=*/true);
    at::Tensor done = k == V ? at::ones({x.size(0)}, at::kBool) : (rest <= (1.0 - p_)).squeeze(1);
    const at::Tensor d = done.nonzero().squeeze(1);
    if (d.numel() > 0) {
      at::Tensor remove = (rest.index_select(0, d) + probs.index_select(0, d).cumsum(-1)) <= (1.0 - p_);
      remove.narrow(1, k - 1, 1).fill_(false);
      at::Tensor kept = vals.index_select(0, d).masked_fill(remove, -inf);
      at::Tensor block = at::full({d.numel(), V}, -inf, logits.options());
      block.scatter_(1, idx.index_select(0, d), kept);
      out.index_copy_(0, rows.defined() ? rows.index_select(0, d) : d, block);
      most = std::max(most, k - remove.sum(-1).min().item<std::int64_t>());
    }
    if (d.numel() == x.size(0)) break;
    const at::Tensor left = done.logical_not().nonzero().squeeze(1);
    rows = rows.defined() ? rows.index_select(0, left) : left;
  }
  logits.copy_(out);
  finite = most;
}

void TopP::apply(Candidates& c) {
  // apply()'s fast path on the candidates: ascending order, cumulative softmax, the largest
  // always kept; removed candidates become −inf (their ids stay, with probability 0).
  const std::int64_t m = c.vals.size(1);
  auto sorted = c.vals.sort(-1, /*descending=*/false);
  at::Tensor vals = std::get<0>(sorted), order = std::get<1>(sorted);
  at::Tensor remove = vals.softmax(-1).cumsum(-1) <= (1.0 - p_);
  remove.narrow(1, m - 1, 1).fill_(false);
  c.vals = vals.masked_fill(remove, -std::numeric_limits<float>::infinity());
  c.ids = c.ids.gather(1, order);
}

// ---- the draw --------------------------------------------------------------------------

at::Tensor sample_inverse_cdf(const at::Tensor& logits, const at::Tensor& u, std::int64_t finite) {
  if (finite <= 0) finite = finite_candidates(logits);
  const std::int64_t m = std::max<std::int64_t>(std::min(finite, logits.size(1)), 1);
  if (m * 4 <= logits.size(1)) {
    // Few finite logits (after top-k / top-p): the same draw over the candidates only, in
    // vocabulary order (ids of −inf logits among them have probability 0 and are skipped).
    at::Tensor ids = std::get<0>(std::get<1>(logits.topk(m, -1)).sort(-1));  // [B, m] ascending
    at::Tensor pick = sample_inverse_cdf_full(logits.gather(1, ids), u);
    return ids.gather(1, pick);
  }
  return sample_inverse_cdf_full(logits, u);
}

at::Tensor sample_inverse_cdf_full(const at::Tensor& logits, const at::Tensor& u) {
  const std::int64_t B = logits.size(0), V = logits.size(1);
  at::Tensor cdf = at::softmax(logits, -1, at::kDouble).cumsum(-1);  // [B, V]
  at::Tensor target = u * cdf.narrow(1, V - 1, 1);
  at::Tensor ids = at::searchsorted(cdf, target, /*out_int32=*/false, /*right=*/true).contiguous();
  // searchsorted returns V when u · total rounds up to total: take the last id, then step
  // back over ids of probability 0 (equal cumulative values). Elsewhere cdf[id−1] ≤ target
  // < cdf[id], so the loop does nothing.
  ids.clamp_max_(V - 1);
  const double* pc = cdf.data_ptr<double>();
  std::int64_t* pi = ids.data_ptr<std::int64_t>();
  for (std::int64_t r = 0; r < B; ++r) {
    const double* row = pc + r * V;
    while (pi[r] > 0 && row[pi[r]] == row[pi[r] - 1]) --pi[r];
  }
  return ids;
}

// ---- the chain -------------------------------------------------------------------------

Chain::Chain(const SamplingParams& params, std::int64_t batch, std::int64_t vocab) {
  const auto& names = processor_names();
  std::string valid;
  for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
  std::vector<std::string> used;
  for (const auto& name : params.order) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw ConfigError("unknown logits processor '" + name + "'", "sampling order",
                        "valid names: " + valid);
    }
    if (std::find(used.begin(), used.end(), name) != used.end()) {
      throw ConfigError("logits processor '" + name + "' appears twice", "sampling order",
                        "name each of " + valid + " at most once");
    }
    used.push_back(name);
    if (name == "repetition_penalty") {
      if (!(params.repetition_penalty > 0)) {
        throw ConfigError(
            "repetition_penalty must be > 0 (got " + num(params.repetition_penalty) + ")",
            "sampling repetition_penalty", "1 turns it off");
      }
      if (params.repetition_penalty != 1.0) {
        stages_.push_back(
            std::make_unique<RepetitionPenalty>(params.repetition_penalty, batch, vocab));
      }
    } else if (name == "temperature") {
      if (params.greedy) continue;
      if (!(params.temperature > 0)) {
        throw ConfigError("temperature must be > 0 (got " + num(params.temperature) + ")",
                          "sampling temperature", "use greedy decoding for an arg-max");
      }
      if (params.temperature != 1.0)
        stages_.push_back(std::make_unique<Temperature>(params.temperature));
    } else if (name == "top_k") {
      if (params.top_k > 0) stages_.push_back(std::make_unique<TopK>(params.top_k));
    } else {  // top_p
      if (!(params.top_p >= 0 && params.top_p <= 1)) {
        throw ConfigError("top_p must lie in [0, 1] (got " + num(params.top_p) + ")",
                          "sampling top_p", "1 turns it off");
      }
      if (params.top_p < 1.0) stages_.push_back(std::make_unique<TopP>(params.top_p));
    }
  }
  // A stage set away from its neutral value but missing from the order would be silently
  // ignored: say so instead.
  auto require = [&](const char* name, bool active, const std::string& value) {
    if (active && std::find(used.begin(), used.end(), name) == used.end()) {
      throw ConfigError(std::string(name) + " is " + value + " but not in the processor order",
                        "sampling order",
                        std::string("add '") + name + "' to the order or turn it off");
    }
  };
  require("repetition_penalty", params.repetition_penalty != 1.0, num(params.repetition_penalty));
  require("temperature", !params.greedy && params.temperature != 1.0, num(params.temperature));
  require("top_k", params.top_k > 0, std::to_string(params.top_k));
  require("top_p", params.top_p < 1.0, num(params.top_p));
}

void Chain::apply(at::Tensor& logits) {
  finite_ = logits.size(1);
  for (auto& s : stages_) s->apply(logits, finite_);
}

at::Tensor Chain::sample(at::Tensor& logits, const at::Tensor& u) {
  finite_ = logits.size(1);
  std::size_t k = 0;  // the top-k stage, if the stages after it all work on candidates
  while (k < stages_.size() && dynamic_cast<const TopK*>(stages_[k].get()) == nullptr) ++k;
  bool compact = k < stages_.size();
  for (std::size_t i = k + 1; compact && i < stages_.size(); ++i) compact = stages_[i]->compact();
  if (!compact) {
    apply(logits);
    return sample_inverse_cdf(logits, u, finite_);
  }
  for (std::size_t i = 0; i < k; ++i) stages_[i]->apply(logits, finite_);
  Candidates c;
  if (!static_cast<const TopK&>(*stages_[k]).select(logits, c)) {
    for (std::size_t i = k; i < stages_.size(); ++i) stages_[i]->apply(logits, finite_);
    return sample_inverse_cdf(logits, u, finite_);
  }
  for (std::size_t i = k + 1; i < stages_.size(); ++i) stages_[i]->apply(c);
  finite_ = c.vals.size(1);
  // The draw in vocabulary order over the candidates, as sample_inverse_cdf's own path.
  auto by_id = c.ids.sort(-1);
  at::Tensor ids = std::get<0>(by_id);
  at::Tensor pick = sample_inverse_cdf_full(c.vals.gather(1, std::get<1>(by_id)).contiguous(), u);
  return ids.gather(1, pick);
}

void Chain::start(std::int64_t slot, const std::vector<std::int64_t>& prompt) {
  for (auto& s : stages_) s->start(slot, prompt);
}

void Chain::accept(std::int64_t slot, std::int64_t id) {
  for (auto& s : stages_) s->accept(slot, id);
}

std::string Chain::describe() const {
  if (stages_.empty()) return "none";
  std::string out;
  for (const auto& s : stages_) out += (out.empty() ? "" : " → ") + s->describe();
  return out;
}

}  // namespace ram::generate
