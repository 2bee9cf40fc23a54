// `ram generate`'s per-prompt decoding and its sharding over ranks (decoder.hpp).
#include "generate/decoder.hpp"

#include <sstream>

#include "dist/dist.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"

namespace ram::generate {

namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// resample's proposal engine: the "base" knobs are the proposal's sampling chain.
EngineOptions proposal_options(const DecodeSettings& s) {
  EngineOptions o = s.engine;
  o.joint = JointParams{};
  o.sampling.greedy = false;
  o.sampling.temperature = s.engine.joint.base_temperature;
  o.sampling.top_p = s.engine.joint.base_top_p;
  o.sampling.top_k = s.engine.joint.base_top_k;
  return o;
}

}  // namespace

const std::vector<std::string>& generate_order() {
  static const std::vector<std::string> order = {"temperature", "repetition_penalty", "top_p",
                                                 "top_k"};
  return order;
}

Decoder::Decoder(CausalLM& model, CausalLM* proposal, const tok::Tokenizer* tokenizer,
                 DecodeSettings settings)
    : model_(model), proposal_(proposal), s_(std::move(settings)) {
  const JointMode mode = s_.engine.joint.mode;
  if ((mode == JointMode::none) != (proposal == nullptr))
    throw ConfigError(proposal == nullptr
                          ? std::string("sample mode ") + to_string(mode) + " needs a proposal model"
                          : std::string("a proposal model needs a sample mode (par, par_kl, mds, resample)"),
                      "sample_mode", "give both --proposal and --sample-mode, or neither");
  if (mode == JointMode::resample) {
    check(s_.engine.joint);
    if (s_.num_candidates < 1)
      throw ConfigError("num_candidates must be ≥ 1 (got " + std::to_string(s_.num_candidates) + ")",
                        "num_candidates", "the number of proposal samples per prompt");
    engine_ = std::make_unique<Engine>(*proposal, tokenizer, proposal_options(s_));
  } else if (mode == JointMode::none) {
    engine_ = std::make_unique<Engine>(model, tokenizer, s_.engine);
  } else {
    engine_ = std::make_unique<Engine>(model, proposal, tokenizer, s_.engine);
  }
}

Decoder::~Decoder() = default;

void Decoder::run(const std::vector<Request>& requests,
                  const std::function<void(Output&&)>& on_output) {
  const JointMode mode = s_.engine.joint.mode;
  if (mode == JointMode::resample) {
    ResampleOptions ro;
    ro.n = s_.num_candidates;
    ro.temperature = s_.engine.joint.expert_temperature;
    ro.greedy = s_.engine.sampling.greedy;
    ro.score_batch = s_.engine.batch_size;
    resample(*engine_, model_, s_.engine.sampling.seed, s_.engine.vocab, ro, requests,
             [&](ResampleResult&& r) {
               Output o;
               o.example_index = r.chosen.example_index;
               o.ids = std::move(r.chosen.ids);
               o.text = std::move(r.chosen.text);
               o.finish = r.chosen.finish;
               o.logprob = r.chosen.logprob;
               o.proposal_logprob = r.chosen.proposal_logprob;
               o.prompt_tokens = r.chosen.prompt_tokens;
               o.prompt_truncated = r.chosen.prompt_truncated;
               o.ess = r.ess;
               o.chosen = r.chosen_index;
               o.weights = std::move(r.weights);
               on_output(std::move(o));
             });
    return;
  }
  engine_->run(requests, [&](Result&& r) {
    Output o;
    o.example_index = r.example_index;
    o.ids = std::move(r.ids);
    o.text = std::move(r.text);
    o.finish = r.finish;
    o.logprob = r.logprob;
    if (mode != JointMode::none) o.proposal_logprob = r.proposal_logprob;
    if (mode == JointMode::par || mode == JointMode::par_kl) o.restricted_steps = r.restricted_steps;
    o.prompt_tokens = r.prompt_tokens;
    o.prompt_truncated = r.prompt_truncated;
    on_output(std::move(o));
  });
}

std::string Decoder::describe() const {
  const JointMode mode = s_.engine.joint.mode;
  if (mode == JointMode::resample)
    return "resample: N = " + std::to_string(s_.num_candidates) + " proposal samples (" +
           engine_->describe() + "), " + generate::describe(s_.engine.joint) +
           (s_.engine.sampling.greedy ? ", pick = arg-max weight" : ", pick = draw by weight");
  return engine_->describe();
}

Engine::Stats Decoder::stats() const { return engine_->stats(); }

void run_sharded(Decoder& decoder, const std::vector<Request>& requests, std::int64_t chunk,
                 const std::function<void(Output&&)>& on_output) {
  dist::WorkQueue queue(static_cast<std::int64_t>(requests.size()), std::max<std::int64_t>(chunk, 1));
  while (auto range = queue.next()) {
    std::vector<Request> part(requests.begin() + range->begin, requests.begin() + range->end);
    decoder.run(part, on_output);
  }
}

std::string generator_tag(const std::string& model_name, const std::string& proposal_name,
                          const DecodeSettings& s) {
  const auto& j = s.engine.joint;
  const auto& sp = s.engine.sampling;
  const std::string t = sp.greedy ? "_greedy" : "_t" + num(sp.temperature);
  switch (j.mode) {
    case JointMode::none:
      return model_name + t;
    case JointMode::par:
      return model_name + "+" + proposal_name + "_par" + t + "_bt" + num(j.base_temperature);
    case JointMode::par_kl:
      return model_name + "+" + proposal_name + "_par_kl" + t + "_bt" + num(j.base_temperature) +
             "_d" + num(j.div_threshold);
    case JointMode::mds:
      return model_name + "+" + proposal_name + "_mds" + t + "_bt" + num(j.base_temperature) + "_et" +
             num(j.expert_temperature);
    case JointMode::resample:
      return model_name + "+" + proposal_name + "_resample_n" + std::to_string(s.num_candidates) +
             "_bt" + num(j.base_temperature) + "_et" + num(j.expert_temperature) +
             (sp.greedy ? "_greedy" : "");
  }
  return model_name;
}

}  // namespace ram::generate
