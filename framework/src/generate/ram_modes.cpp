// RAM's joint decoding step (ram_modes.hpp).
#include "generate/ram_modes.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include <ATen/ATen.h>

#include "generate/processors.hpp"
#include "ram/error.hpp"

namespace ram::generate {

namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void check_pair(const at::Tensor& q, const at::Tensor& m) {
  auto ok = [](const at::Tensor& t) {
    return t.dim() == 2 && t.scalar_type() == at::kFloat && t.is_contiguous();
  };
  if (!ok(q) || !ok(m) || q.sizes() != m.sizes())
    throw DataError("the aligner's and the proposal's logits must be contiguous float32 [B, V] "
                    "tensors of one shape",
                    "joint_step", "cut both to the shared vocabulary (joint_vocab) first");
}

}  // namespace

JointMode parse_joint_mode(const std::string& name) {
  if (name == "par") return JointMode::par;
  if (name == "par_kl") return JointMode::par_kl;
  if (name == "mds") return JointMode::mds;
  if (name == "resample") return JointMode::resample;
  throw ConfigError("unknown sample mode '" + name + "'", "sample_mode",
                    "valid modes: par, par_kl, mds, resample");
}

const char* to_string(JointMode m) {
  switch (m) {
    case JointMode::none:
      return "none";
    case JointMode::par:
      return "par";
    case JointMode::par_kl:
      return "par_kl";
    case JointMode::mds:
      return "mds";
    case JointMode::resample:
      return "resample";
  }
  return "unknown";
}

void check(const JointParams& p) {
  if (!(p.base_temperature > 0))
    throw ConfigError("base_temperature must be > 0 (got " + num(p.base_temperature) + ")",
                      "base_temperature", "1 leaves the proposal's logits as they are");
  if (!(p.base_top_p > 0 && p.base_top_p <= 1))
    throw ConfigError("base_top_p must lie in (0, 1] (got " + num(p.base_top_p) + ")",
                      "base_top_p", "1 keeps the whole vocabulary");
  if (!(p.div_threshold >= 0))
    throw ConfigError("div_threshold must be ≥ 0 (got " + num(p.div_threshold) + ")",
                      "div_threshold", "the original's value is 0.1");
  if (!(p.expert_temperature > 0))
    throw ConfigError("expert_temperature must be > 0 (got " + num(p.expert_temperature) + ")",
                      "expert_temperature", "1 leaves the aligner's logits as they are");
}

std::string describe(const JointParams& p) {
  std::string nucleus = "base_temperature " + num(p.base_temperature) + ", base_top_p " +
                        num(p.base_top_p) +
                        (p.base_top_k > 0 ? ", base_top_k " + std::to_string(p.base_top_k) : "");
  switch (p.mode) {
    case JointMode::none:
      return "none";
    case JointMode::par:
      return "par(" + nucleus + ", eos_priority)";
    case JointMode::par_kl:
      return "par_kl(" + nucleus + ", div_threshold " + num(p.div_threshold) +
             (p.eos_priority ? ", eos_priority)" : ")");
    case JointMode::mds:
      return "mds(base_temperature " + num(p.base_temperature) + ", expert_temperature " +
             num(p.expert_temperature) + (p.eos_priority ? ", eos_priority)" : ")");
    case JointMode::resample:
      return "resample(proposal " + nucleus + ", weights ∝ exp(log Q / " +
             num(p.expert_temperature) + "))";
  }
  return "unknown";
}

at::Tensor kl_rows(const at::Tensor& m, const at::Tensor& q) {
  check_pair(q, m);
  const at::Tensor lm = m.log_softmax(-1), lq = q.log_softmax(-1);
  return (lm.exp() * (lm - lq)).to(at::kDouble).sum(-1);
}

at::Tensor proposal_nucleus(const at::Tensor& m, const JointParams& p) {
  at::Tensor work = m.clone();
  std::int64_t finite = work.size(1);
  if (p.base_temperature != 1.0) Temperature(p.base_temperature).apply(work, finite);
  if (p.base_top_k > 0) TopK(p.base_top_k).apply(work, finite);
  if (p.base_top_p < 1.0) TopP(p.base_top_p).apply(work, finite);
  return at::isfinite(work);
}

at::Tensor joint_step(const at::Tensor& q, const at::Tensor& m, const JointParams& p,
                      const std::vector<std::int64_t>& eos_ids, JointInfo* info) {
  check_pair(q, m);
  const std::int64_t B = q.size(0), V = q.size(1);
  std::vector<std::uint8_t> restricted(static_cast<std::size_t>(B), 0);
  std::vector<double> kl;
  at::Tensor out;
  switch (p.mode) {
    case JointMode::none:
      out = q.clone();
      break;
    case JointMode::par:
      out = q.masked_fill(proposal_nucleus(m, p).logical_not(), kNegInf);
      std::fill(restricted.begin(), restricted.end(), 1);
      break;
    case JointMode::par_kl: {
      const at::Tensor d = kl_rows(m, q).contiguous();
      kl.assign(d.data_ptr<double>(), d.data_ptr<double>() + B);
      const at::Tensor take = (d <= p.div_threshold).unsqueeze(1);  // [B, 1]
      const at::Tensor inside = q.masked_fill(proposal_nucleus(m, p).logical_not(), kNegInf);
      out = at::where(take, inside, m).contiguous();
      for (std::int64_t r = 0; r < B; ++r)
        restricted[static_cast<std::size_t>(r)] = kl[static_cast<std::size_t>(r)] <= p.div_threshold;
      break;
    }
    case JointMode::mds: {
      at::Tensor prod = (m / p.base_temperature).softmax(-1) * (q / p.expert_temperature).softmax(-1);
      prod = prod / prod.sum(-1, /*keepdim=*/true);
      out = (prod + 1e-10).log().contiguous();
      break;
    }
    case JointMode::resample:
      throw ConfigError("resample is a sequence-level mode, not a decoding step", "joint_step",
                        "run it through generate::resample (resample.hpp)");
  }
  std::vector<std::uint8_t> forced(static_cast<std::size_t>(B), 0);
  const bool eos_on = p.mode == JointMode::par ||
                      (p.eos_priority && (p.mode == JointMode::par_kl || p.mode == JointMode::mds));
  if (eos_on && !eos_ids.empty()) {
    const at::Tensor top = m.argmax(-1).contiguous();
    const std::int64_t* pt = top.data_ptr<std::int64_t>();
    float* po = out.data_ptr<float>();
    for (std::int64_t r = 0; r < B; ++r) {
      if (std::find(eos_ids.begin(), eos_ids.end(), pt[r]) == eos_ids.end()) continue;
      std::fill(po + r * V, po + (r + 1) * V, kNegInf);
      po[r * V + pt[r]] = 0.0f;
      forced[static_cast<std::size_t>(r)] = 1;
    }
  }
  if (info != nullptr) {
    info->kl = std::move(kl);
    info->restricted = std::move(restricted);
    info->eos_forced = std::move(forced);
  }
  return out;
}

std::int64_t joint_vocab(std::int64_t aligner_vocab, std::int64_t proposal_vocab,
                         const std::string& aligner_dir, const std::string& proposal_dir,
                         const std::string& aligner_tokenizer_fp,
                         const std::string& proposal_tokenizer_fp, std::int64_t tokenizer_size) {
  if (!aligner_tokenizer_fp.empty() && !proposal_tokenizer_fp.empty() &&
      aligner_tokenizer_fp != proposal_tokenizer_fp)
    throw ConfigError("tokenizer mismatch: the aligner " + aligner_dir + " (" +
                          aligner_tokenizer_fp + ") and the proposal " + proposal_dir + " (" +
                          proposal_tokenizer_fp + ") use different tokenizers",
                      "--proposal", "RAM decoding needs a proposal and an aligner of one model family (one tokenizer)");
  if (tokenizer_size >= 0) {
    if (tokenizer_size > aligner_vocab || tokenizer_size > proposal_vocab)
      throw ConfigError("the tokenizer has " + std::to_string(tokenizer_size) +
                            " tokens but the aligner's vocabulary is " +
                            std::to_string(aligner_vocab) + " and the proposal's " +
                            std::to_string(proposal_vocab),
                        aligner_dir + " + " + proposal_dir,
                        "use models whose embedding tables cover their tokenizer");
    return tokenizer_size;
  }
  if (aligner_vocab != proposal_vocab)
    throw ConfigError("the aligner's vocabulary (" + std::to_string(aligner_vocab) +
                          " rows) differs from the proposal's (" + std::to_string(proposal_vocab) +
                          ") and neither directory has a tokenizer.json to say which rows are real",
                      aligner_dir + " + " + proposal_dir,
                      "add the shared tokenizer.json to both directories");
  return aligner_vocab;
}

}  // namespace ram::generate
