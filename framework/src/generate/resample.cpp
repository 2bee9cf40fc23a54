// Sequence-level importance resampling (resample.hpp).
#include "generate/resample.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "generate/rng.hpp"
#include "generate/score.hpp"
#include "ram/error.hpp"

namespace ram::generate {

double importance_weights(const std::vector<double>& logq, double temperature,
                          std::vector<double>& w) {
  w.assign(logq.size(), 0.0);
  if (logq.empty()) return 0.0;
  double top = -INFINITY;
  for (double x : logq) top = std::max(top, x / temperature);
  double total = 0;
  for (std::size_t i = 0; i < logq.size(); ++i) total += (w[i] = std::exp(logq[i] / temperature - top));
  double sq = 0;
  for (double& x : w) {
    x /= total;
    sq += x * x;
  }
  return 1.0 / sq;
}

void resample(Engine& proposal_engine, CausalLM& aligner, std::uint64_t seed,
              std::int64_t vocab, const ResampleOptions& opt,
              const std::vector<Request>& requests,
              const std::function<void(ResampleResult&&)>& on_result) {
  if (opt.n < 1)
    throw ConfigError("num_candidates must be ≥ 1 (got " + std::to_string(opt.n) + ")",
                      "num_candidates", "the number of proposal samples per prompt");
  if (!(opt.temperature > 0))
    throw ConfigError("the resampling temperature must be > 0", "expert_temperature",
                      "1 weighs by Q(y|x) itself (the method's exact form)");
  // 1. N samples per prompt.
  std::vector<Request> expanded;
  expanded.reserve(requests.size() * static_cast<std::size_t>(opt.n));
  std::map<std::int64_t, std::size_t> prompt_of;  // example index → position in requests
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!prompt_of.emplace(requests[i].example_index, i).second)
      throw DataError("two requests with example index " + std::to_string(requests[i].example_index),
                      "resample", "give every prompt its own example index");
    for (std::int64_t k = 0; k < opt.n; ++k)
      expanded.push_back({requests[i].example_index, k, requests[i].prompt_ids});
  }
  std::vector<std::vector<Result>> samples(requests.size());
  for (auto& s : samples) s.resize(static_cast<std::size_t>(opt.n));
  proposal_engine.run(expanded, [&](Result&& r) {
    samples[prompt_of.at(r.example_index)][static_cast<std::size_t>(r.sample_index)] = std::move(r);
  });
  // 2. log Q of every sample, in batches.
  std::vector<double> logq(expanded.size(), 0.0);
  std::vector<ScoreRequest> batch;
  std::vector<std::size_t> where;
  auto flush = [&] {
    if (batch.empty()) return;
    auto scores = score_batch(aligner, batch, 1, vocab);
    for (std::size_t j = 0; j < scores.size(); ++j) logq[where[j]] = scores[j].logprob;
    batch.clear();
    where.clear();
  };
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& prompt = requests[i].prompt_ids;
    for (std::int64_t k = 0; k < opt.n; ++k) {
      const Result& r = samples[i][static_cast<std::size_t>(k)];
      if (r.ids.empty()) continue;  // log Q of the empty response: 0
      ScoreRequest q;
      q.prompt.assign(prompt.end() - std::min<std::int64_t>(r.prompt_tokens,
                                                              static_cast<std::int64_t>(prompt.size())),
                      prompt.end());
      q.response = r.ids;
      batch.push_back(std::move(q));
      where.push_back(i * static_cast<std::size_t>(opt.n) + static_cast<std::size_t>(k));
      if (static_cast<std::int64_t>(batch.size()) >= std::max<std::int64_t>(opt.score_batch, 1)) flush();
    }
  }
  flush();
  // 3–5. weights, the pick, the ESS.
  for (std::size_t i = 0; i < requests.size(); ++i) {
    ResampleResult out;
    const auto off = i * static_cast<std::size_t>(opt.n);
    out.aligner_logprobs.assign(logq.begin() + static_cast<std::ptrdiff_t>(off),
                                logq.begin() + static_cast<std::ptrdiff_t>(off + static_cast<std::size_t>(opt.n)));
    for (const auto& r : samples[i]) out.proposal_logprobs.push_back(r.logprob);
    out.ess = importance_weights(out.aligner_logprobs, opt.temperature, out.weights);
    std::size_t pick = 0;
    if (opt.greedy) {
      pick = static_cast<std::size_t>(std::max_element(out.weights.begin(), out.weights.end()) -
                                      out.weights.begin());
    } else {
      const double u = draw_uniform(seed, requests[i].example_index, -1, 0);
      double cum = 0;
      pick = out.weights.size() - 1;
      for (std::size_t k = 0; k < out.weights.size(); ++k) {
        cum += out.weights[k];
        if (u < cum) {
          pick = k;
          break;
        }
      }
      while (pick > 0 && out.weights[pick] == 0.0) --pick;  // u rounded past the total
    }
    out.chosen_index = static_cast<std::int64_t>(pick);
    out.chosen = std::move(samples[i][pick]);
    out.chosen.proposal_logprob = out.chosen.logprob;
    out.chosen.logprob = out.aligner_logprobs[pick];
    on_result(std::move(out));
  }
}

}  // namespace ram::generate
