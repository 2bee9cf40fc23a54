// Bucketed gradient all-reduce from autograd hooks (grad_sync.hpp).
#include "train/grad_sync.hpp"

#include <algorithm>
#include <chrono>
#include <climits>

#include <mpi.h>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <ram/error.hpp>

#include "dist/dist.hpp"

namespace ram::train {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

struct GradSync::Requests {
  std::vector<MPI_Request> pending;
};

GradSync::GradSync(torch::nn::Module& model, double bucket_mb)
    : requests_(std::make_unique<Requests>()) {
  if (!(bucket_mb > 0))
    throw ConfigError("train.bucket_mb must be > 0, got " + std::to_string(bucket_mb), "train.bucket_mb",
                      "use a few MiB (4 is measured best on one node)");
  world_ = dist::initialized() ? dist::size() : 1;
  layout_.offsets.push_back(0);
  for (auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    params_.push_back(item.value());
    layout_.names.push_back(item.key());
    layout_.shapes.emplace_back(item.value().sizes().vec());
    layout_.offsets.push_back(layout_.offsets.back() + item.value().numel());
  }
  if (params_.empty())
    throw Error("the model has no trainable parameters", "train", "check the model plugin");
  grad_ = at::zeros({layout_.numel()}, at::TensorOptions().dtype(at::kFloat));

  // Buckets from the end: parameters P-1, P-2, ... until a bucket holds bucket_mb MiB.
  const auto cap = static_cast<std::int64_t>(bucket_mb * 1024 * 1024 / 4);
  bucket_of_.assign(params_.size(), 0);
  std::int64_t end = layout_.numel();
  Bucket cur{0, end, 0, 0, false};
  for (std::size_t i = params_.size(); i-- > 0;) {
    cur.begin = layout_.offsets[i];
    cur.params += 1;
    bucket_of_[i] = buckets_.size();
    if (cur.end - cur.begin >= cap || i == 0) {
      buckets_.push_back(cur);
      cur = Bucket{0, cur.begin, 0, 0, false};
    }
  }
  for (std::size_t i = 0; i < params_.size(); ++i) {
    hook_ids_.push_back(params_[i].register_hook([this, i](const at::Tensor& g) { on_grad(i, g); }));
  }
}

GradSync::~GradSync() {
  for (std::size_t i = 0; i < hook_ids_.size(); ++i) {
    try {
      params_[i].remove_hook(hook_ids_[i]);
    } catch (...) {
    }
  }
}

void GradSync::zero() {
  grad_.zero_();
  for (auto& b : buckets_) {
    b.ready = 0;
    b.launched = false;
  }
  next_launch_ = 0;
}

void GradSync::arm(bool last_microbatch) { armed_ = last_microbatch; }

void GradSync::on_grad(std::size_t i, const at::Tensor& g) {
  const auto begin = layout_.offsets[i], end = layout_.offsets[i + 1];
  grad_.slice(0, begin, end).view(g.sizes()).add_(g);
  if (!armed_ || world_ == 1) return;
  Bucket& b = buckets_[bucket_of_[i]];
  b.ready += 1;
  if (b.ready == b.params) launch_ready();
  progress();
}

void GradSync::launch(Bucket& b) {
  const double t0 = now();
  float* base = grad_.data_ptr<float>();
  for (std::int64_t off = b.begin; off < b.end;) {
    const auto n = std::min<std::int64_t>(b.end - off, INT_MAX / 2);
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, base + off, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
    requests_->pending.push_back(r);
    off += n;
  }
  b.launched = true;
  comm_seconds_ += now() - t0;
}

void GradSync::launch_ready() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].ready == buckets_[next_launch_].params) {
    launch(buckets_[next_launch_]);
    ++next_launch_;
  }
}

void GradSync::progress() {
  auto& p = requests_->pending;
  if (p.empty()) return;
  const double t0 = now();
  int done = 0;
  MPI_Testall(static_cast<int>(p.size()), p.data(), &done, MPI_STATUSES_IGNORE);
  if (done) p.clear();
  comm_seconds_ += now() - t0;
}

void GradSync::after_backward() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad().reset();
  }
}

void GradSync::finish() {
  armed_ = false;
  if (world_ == 1) return;
  const double t0 = now();
  // Buckets whose parameters got no gradient on this rank (unused) still take part, in order.
  while (next_launch_ < buckets_.size()) {
    launch(buckets_[next_launch_]);
    ++next_launch_;
  }
  auto& p = requests_->pending;
  if (!p.empty()) MPI_Waitall(static_cast<int>(p.size()), p.data(), MPI_STATUSES_IGNORE);
  p.clear();
  const double dt = now() - t0;
  wait_seconds_ += dt;
  comm_seconds_ += dt;
}

at::Tensor GradSync::flatten_params() const {
  at::Tensor flat = at::empty({layout_.numel()}, at::TensorOptions().dtype(at::kFloat));
  at::NoGradGuard ng;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    flat.slice(0, layout_.offsets[i], layout_.offsets[i + 1]).copy_(params_[i].detach().reshape(-1));
  }
  return flat;
}

void GradSync::load_params(const at::Tensor& flat) {
  at::NoGradGuard ng;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    params_[i].detach().view(-1).copy_(flat.slice(0, layout_.offsets[i], layout_.offsets[i + 1]));
  }
}

}  // namespace ram::train
