// train/data.cpp — the example sources, tokenization/truncation, batches and the data order
// declared in train/data.hpp.
//
// Implementation notes (beyond the header's contract):
//   - synth.h5 is read ONCE when opened: the three text columns (prompt, chosen, proposal)
//     plus index / sample_index go to memory and the file is closed, so get() touches no
//     HDF5 handle (no serial-HDF5 thread-safety question, no file kept open during a run).
//     10^5 rows of HH-sized text are a few hundred MB per rank at most.
//     A row's id is its dataset index, with "#k" appended for the k-th sample (k ≥ 1) of a
//     prompt; meta: "source" = "<file>:<row>", "sample_index", "rejected_kind" = "sample".
//   - add_bos: BOS counts as a prompt token and stays first under keep_end truncation
//     ([BOS] + the last max_prompt_length − 1 text tokens); the original never adds a BOS.
//   - An empty rejected response is refused (DataError) except when the example marks it as
//     a model sample (meta "rejected_kind" = "sample", set by the synth source): a proposal
//     that stopped at once (EOS first, or the stop string first) is a real sample, and
//     the original trains on it as [EOS]. An empty chosen response is always refused.
//   - max_prompt_length must be in [1, max_length): the original's slicing with 0 or a
//     negative response budget would silently keep everything or cut from the end.
//   - split / epoch_order: Fisher–Yates over a SplitMix64 stream keyed by
//     generate::draw_bits(seed, domain, epoch, 0), with Lemire's unbiased bounded draw;
//     tests/python/train_data_reference.py re-implements it bit for bit.
#include "train/data.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "generate/rng.hpp"
#include "h5/reader.hpp"
#include "plugin/registry.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"

namespace ram::train {

namespace fs = std::filesystem;

namespace {

// ------------------------------------------------------------------ synth.h5
constexpr const char* kRunSample =
    "run `ram sample` (complete) first; a file that lacks these datasets was not written by "
    "`ram sample`";

class SynthSource final : public ExampleSource {
 public:
  SynthSource(const fs::path& file, const std::string& aligner_tok_fp,
              const std::string& aligner_model_type) {
    path_ = fs::absolute(file).lexically_normal().string();
    if (!fs::exists(file)) {
      const fs::path parts = file.string() + ".parts";
      if (fs::is_directory(parts))
        throw ConfigError("synth file not found, but its sampling is under way or was interrupted",
                        path_, "rerun the same `ram sample` command to finish it (" +
                                   parts.string() + " holds the finished chunks)");
      throw ConfigError("synth file not found", path_,
                      "run `ram sample` first, or point train.synth at its output");
    }
    const h5::Reader r = h5::Reader::open(file.string());

    // The datasets we need, all with one row count.
    const char* texts[] = {"examples/prompt_text", "examples/chosen_text",
                           "examples/proposal_text"};
    require(r, "examples/index");
    for (const char* t : texts) {
      require(r, t);
      require(r, std::string(t) + "_offsets");
    }
    index_ = r.read_array<std::int64_t>("examples/index");
    rows_ = static_cast<std::int64_t>(index_.size());
    if (r.has("examples/sample_index")) {
      sample_index_ = r.read_array<std::int64_t>("examples/sample_index");
      check_rows("examples/sample_index", static_cast<std::int64_t>(sample_index_.size()));
    } else {
      sample_index_.assign(index_.size(), 0);
    }
    for (const char* t : texts) check_rows(t, r.ragged_size(t));

    // Same tokenizer and family as the aligner.
    const std::string file_fp = attr(r, "tokenizer_fingerprint");
    if (file_fp != aligner_tok_fp)
      throw DataError(
          fmt::format("the proposal samples were tokenized with {} but the aligner's tokenizer is "
                      "{}: the residual aligner must share the proposal's tokenizer, since both "
                      "models score the same token ids",
                      file_fp, aligner_tok_fp),
          path_,
          "use an aligner of the proposal's family and vocabulary (model.path), or sample "
          "again with that proposal");
    if (r.has_attr("/", "proposal_model_type")) {
      const std::string file_type = r.attr_string("/", "proposal_model_type");
      if (file_type != aligner_model_type)
        throw DataError(
            fmt::format("the proposal is a '{}' model but the aligner is '{}': the residual "
                        "aligner must be of the proposal's family (same tokenizer and "
                        "vocabulary, decoded in lockstep with it)",
                        file_type, aligner_model_type),
            path_, "use an aligner of the proposal's family (model.path)");
    }
    settings_hash_ = attr(r, "settings_hash");

    prompt_ = r.read_ragged("examples/prompt_text");
    chosen_ = r.read_ragged("examples/chosen_text");
    proposal_ = r.read_ragged("examples/proposal_text");
  }

  std::int64_t size() const override { return rows_; }

  Example get(std::int64_t i) const override {
    if (i < 0 || i >= rows_)
      throw Error(fmt::format("synth example {} out of range [0, {})", i, rows_), path_,
                  "this is a bug in the caller: indices come from split()/epoch_order()");
    const auto k = static_cast<std::size_t>(i);
    Example e;
    e.index = i;
    e.id = std::to_string(index_[k]);
    if (sample_index_[k] != 0) e.id += "#" + std::to_string(sample_index_[k]);
    e.prompt = prompt_[k];
    e.chosen = chosen_[k];
    e.rejected = proposal_[k];
    e.meta["source"] = path_ + ":" + std::to_string(i);
    e.meta["sample_index"] = std::to_string(sample_index_[k]);
    e.meta["rejected_kind"] = "sample";
    return e;
  }

  bool has_rejected() const override { return true; }

  std::string describe() const override {
    return fmt::format("synth.h5 {} ({} rows)", path_, rows_);
  }

  std::string fingerprint() const override {
    return fmt::format("synth:{}:{}", settings_hash_, rows_);
  }

 private:
  void require(const h5::Reader& r, const std::string& name) const {
    if (!r.has(name)) {
      std::string hint = kRunSample;
      if (name == "examples/proposal_text" && r.has("examples/rejected_text"))
        hint = "this looks like a `ram prepare` output (it has rejected_text, no proposal "
               "samples): train from the dataset with train.data=dataset, or run `ram sample`";
      throw FormatError("synth file has no dataset /" + name, path_, hint);
    }
  }
  void check_rows(const std::string& name, std::int64_t n) const {
    if (n != rows_)
      throw FormatError(fmt::format("/{} has {} rows but /examples/index has {}", name, n, rows_),
                        path_, "the file is damaged; run `ram sample` again");
  }
  std::string attr(const h5::Reader& r, const std::string& key) const {
    if (!r.has_attr("/", key))
      throw FormatError("synth file has no root attribute '" + key + "'", path_, kRunSample);
    return r.attr_string("/", key);
  }

  std::string path_, settings_hash_;
  std::int64_t rows_ = 0;
  std::vector<std::int64_t> index_, sample_index_;
  std::vector<std::string> prompt_, chosen_, proposal_;
};

// ------------------------------------------------------------------ dataset plugin
class DatasetSource final : public ExampleSource {
 public:
  explicit DatasetSource(std::shared_ptr<Dataset> d) : d_(std::move(d)) {
    // Has a rejected response when any example has one; examples without one are refused
    // by tokenize() with their id when the objective needs it.
    for (std::int64_t i = 0, n = d_->size(); i < n && !has_rejected_; ++i)
      has_rejected_ = !d_->get(i).rejected.empty();
  }
  std::int64_t size() const override { return d_->size(); }
  Example get(std::int64_t i) const override {
    if (i < 0 || i >= d_->size())
      throw Error(fmt::format("dataset example {} out of range [0, {})", i, d_->size()),
                  d_->describe(), "this is a bug in the caller: indices come from split()");
    Example e = d_->get(i);
    e.index = i;
    return e;
  }
  bool has_rejected() const override { return has_rejected_; }
  std::string describe() const override { return d_->describe(); }
  std::string fingerprint() const override { return d_->fingerprint(); }

 private:
  std::shared_ptr<Dataset> d_;
  bool has_rejected_ = false;
};

// ------------------------------------------------------------------ shuffles
constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;
// Domain tags, so the split and the epoch orders of one seed are unrelated streams.
constexpr std::int64_t kSplitDomain = 0x73706c6974;   // "split"
constexpr std::int64_t kEpochDomain = 0x65706f6368;   // "epoch"

class Stream {
 public:
  explicit Stream(std::uint64_t key) : state_(key) {}
  std::uint64_t next() {
    const std::uint64_t out = generate::splitmix64(state_);
    state_ += kGamma;
    return out;
  }
  // Uniform in [0, bound), bound ≥ 1, unbiased (Lemire 2019, "Fast random integer
  // generation in an interval").
  std::uint64_t below(std::uint64_t bound) {
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

 private:
  std::uint64_t state_;
};

// Fisher–Yates: for k = n−1 … 1, swap v[k] with v[j], j uniform in [0, k].
void shuffle(std::vector<std::int64_t>& v, std::uint64_t key) {
  Stream s(key);
  for (std::size_t k = v.size(); k-- > 1;) {
    const auto j = static_cast<std::size_t>(s.below(k + 1));
    std::swap(v[k], v[j]);
  }
}

void check_options(const TokenizeOptions& o) {
  if (o.max_length < 2)
    throw ConfigError(fmt::format("max_length must be at least 2, got {}", o.max_length),
                      "max_length", "set max_length to the longest prompt + response to train on");
  if (o.max_prompt_length < 1 || o.max_prompt_length >= o.max_length)
    throw ConfigError(fmt::format("max_prompt_length must be in [1, max_length = {}), got {}",
                                  o.max_length, o.max_prompt_length),
                      "max_prompt_length",
                      "responses keep max_length - max_prompt_length tokens when cut; leave room "
                      "for them (the original: 2048 / 1024)");
}

}  // namespace

// ------------------------------------------------------------------ sources
std::unique_ptr<ExampleSource> open_synth(const fs::path& file,
                                          const std::string& aligner_tokenizer_fingerprint,
                                          const std::string& aligner_model_type) {
  return std::make_unique<SynthSource>(file, aligner_tokenizer_fingerprint, aligner_model_type);
}

std::unique_ptr<ExampleSource> open_dataset(const ConfigView& dataset_node) {
  const auto name = dataset_node.get<std::string>("name");
  return std::make_unique<DatasetSource>(
      plugin::Registry::instance().make_dataset(name, dataset_node));
}

// ------------------------------------------------------------------ tokenize
TokenizedExample tokenize(const Example& ex, const tok::Tokenizer& tok, const TokenizeOptions& o) {
  check_options(o);
  const std::string where = "example " + ex.id;
  const std::optional<std::int32_t> eos = tok.eos_id();
  if (!eos)
    throw DataError("the aligner's tokenizer has no EOS token, which every response ends with",
                    where + " (" + tok.path().string() + ")",
                    "set eos_token in tokenizer_config.json beside tokenizer.json");

  TokenizedExample t;
  t.index = ex.index;
  t.id = ex.id;
  t.prompt = tok.encode(ex.prompt, /*add_special_tokens=*/false);
  if (o.add_bos) {
    const std::optional<std::int32_t> bos = tok.bos_id();
    if (!bos)
      throw ConfigError("train.add_bos is set but the aligner's tokenizer has no BOS token",
                        tok.path().string(), "set train.add_bos=false");
    t.prompt.insert(t.prompt.begin(), *bos);
  }
  t.chosen = tok.encode(ex.chosen, false);
  if (t.chosen.empty())
    throw DataError("the chosen (gold) response is empty", where,
                    "drop or fix the example in the dataset");
  t.chosen.push_back(*eos);
  if (o.with_rejected) {
    t.rejected = tok.encode(ex.rejected, false);
    const auto kind = ex.meta.find("rejected_kind");
    const bool is_sample = kind != ex.meta.end() && kind->second == "sample";
    if (t.rejected.empty() && !is_sample)
      throw DataError("the rejected response is empty and the objective needs one", where,
                      "use a dataset with a rejected response for every example, or an "
                      "objective that needs none");
    t.rejected.push_back(*eos);
  }

  // The original's two rules (ram-method.md "Truncation").
  const auto max_length = static_cast<std::size_t>(o.max_length);
  const auto max_prompt = static_cast<std::size_t>(o.max_prompt_length);
  const std::size_t longer = std::max(t.chosen.size(), t.rejected.size());
  if (t.prompt.size() + longer > max_length && t.prompt.size() > max_prompt) {
    t.prompt_truncated = true;
    if (!o.keep_end) {
      t.prompt.resize(max_prompt);
    } else if (o.add_bos) {  // BOS stays first, then the end of the text
      t.prompt.erase(t.prompt.begin() + 1,
                     t.prompt.end() - static_cast<std::ptrdiff_t>(max_prompt - 1));
    } else {
      t.prompt.erase(t.prompt.begin(), t.prompt.end() - static_cast<std::ptrdiff_t>(max_prompt));
    }
  }
  if (t.prompt.size() + longer > max_length) {
    const std::size_t keep = max_length - max_prompt;
    for (auto* r : {&t.chosen, &t.rejected})
      if (r->size() > keep) {
        r->resize(keep);
        t.response_truncated = true;
      }
  }
  return t;
}

// ------------------------------------------------------------------ batches
TokenBatch make_batch(const std::vector<TokenizedExample>& examples, bool rejected,
                      std::int32_t pad_id) {
  if (examples.empty())
    throw Error("make_batch: no examples", "train batch", "this is a bug in the caller");
  std::int64_t T = 0;
  for (const auto& e : examples) {
    const auto& r = rejected ? e.rejected : e.chosen;
    if (rejected && r.empty())
      throw Error("make_batch: example " + e.id + " has no rejected tokens", "train batch",
                  "tokenize with with_rejected = true when the objective needs them");
    T = std::max<std::int64_t>(T, static_cast<std::int64_t>(e.prompt.size() + r.size()));
  }
  const auto B = static_cast<std::int64_t>(examples.size());
  TokenBatch b;
  b.ids = at::full({B, T}, static_cast<std::int64_t>(pad_id), at::kLong);
  b.attention = at::zeros({B, T}, at::kLong);
  b.loss_mask = at::zeros({B, T}, at::kFloat);
  auto ids = b.ids.accessor<std::int64_t, 2>();
  auto att = b.attention.accessor<std::int64_t, 2>();
  auto mask = b.loss_mask.accessor<float, 2>();
  for (std::int64_t i = 0; i < B; ++i) {
    const auto& e = examples[static_cast<std::size_t>(i)];
    const auto& r = rejected ? e.rejected : e.chosen;
    std::int64_t t = 0;
    for (std::int32_t id : e.prompt) {
      ids[i][t] = id;
      att[i][t++] = 1;
    }
    for (std::int32_t id : r) {
      ids[i][t] = id;
      att[i][t] = 1;
      mask[i][t++] = 1.0f;
    }
  }
  return b;
}

ObjectiveBatch make_objective_batch(const std::vector<TokenizedExample>& examples,
                                    bool with_rejected, std::int32_t pad_id) {
  ObjectiveBatch ob;
  ob.chosen = make_batch(examples, /*rejected=*/false, pad_id);
  if (with_rejected) ob.rejected = make_batch(examples, /*rejected=*/true, pad_id);
  return ob;
}

// ------------------------------------------------------------------ split / order
Split split(std::int64_t n, std::int64_t n_eval, std::uint64_t seed) {
  if (n_eval < 0)
    throw ConfigError(fmt::format("n_eval_examples must be ≥ 0, got {}", n_eval),
                      "n_eval_examples", "set n_eval_examples=0 for no evaluation");
  if (n_eval >= n)
    throw ConfigError(fmt::format("n_eval_examples = {} leaves no training example out of {}",
                                  n_eval, n),
                      "n_eval_examples", "lower n_eval_examples, or use more data");
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), std::int64_t{0});
  shuffle(perm, generate::draw_bits(seed, kSplitDomain, 0, 0));
  Split s;
  s.eval.assign(perm.begin(), perm.begin() + n_eval);
  s.train.assign(perm.begin() + n_eval, perm.end());
  std::sort(s.eval.begin(), s.eval.end());
  std::sort(s.train.begin(), s.train.end());
  return s;
}

std::vector<std::int64_t> epoch_order(const std::vector<std::int64_t>& train, std::uint64_t seed,
                                      std::int64_t epoch) {
  if (epoch < 0)
    throw Error(fmt::format("epoch_order: epoch must be ≥ 0, got {}", epoch), "train data order",
                "this is a bug in the caller");
  std::vector<std::int64_t> order = train;
  shuffle(order, generate::draw_bits(seed, kEpochDomain, epoch, 0));
  return order;
}

}  // namespace ram::train
