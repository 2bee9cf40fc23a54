// train/grad_sync.hpp — data-parallel gradients: one flat f32 gradient buffer, bucketed
// all-reduce launched from autograd hooks while backward still runs (DESIGN §7).
//
// Layout: the model's trainable parameters in named_parameters() order, flattened into
// one f32 buffer [N] (FlatLayout, the same order checkpoints use). Buckets are contiguous
// ranges of ~bucket_mb MiB taken from the END of the buffer (backward produces the last
// layers' gradients first), numbered 0, 1, ... in that order.
//
// Per optimizer step:
//   zero();                                     grad() = 0
//   for each micro-batch: arm(last); loss.backward();
//       a hook on every parameter adds its gradient (any dtype) into its slot of grad();
//       on the LAST micro-batch, a bucket whose parameters all reported is all-reduced
//       (MPI_Iallreduce, SUM, in place) as soon as it and every lower-numbered bucket are
//       ready — all ranks start the same collectives in the same order; later hooks call
//       MPI_Testall so the transfers progress during backward.
//   finish();                                   launches what is left, waits: grad() now
//                                               holds the SUM over all ranks
// The model's own .grad() tensors are cleared after each backward (they are not used).
// One rank: no MPI call at all.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "train/checkpoint.hpp"

namespace torch::nn {
class Module;
}

namespace ram::train {

class GradSync {
 public:
  GradSync(torch::nn::Module& model, double bucket_mb);
  ~GradSync();
  GradSync(const GradSync&) = delete;
  GradSync& operator=(const GradSync&) = delete;

  const FlatLayout& layout() const { return layout_; }
  at::Tensor& grad() { return grad_; }
  std::int64_t buckets() const { return static_cast<std::int64_t>(buckets_.size()); }

  void zero();
  void arm(bool last_microbatch);
  // After each backward (clears the parameters' .grad()).
  void after_backward();
  void finish();

  // The parameters as one f32 [N] buffer / copied back from one (dtype converted).
  at::Tensor flatten_params() const;
  void load_params(const at::Tensor& flat);

  // Seconds this rank spent inside all-reduce calls during backward (launch + test) and
  // waiting in finish() — the latter is the part not hidden behind backward.
  double comm_seconds() const { return comm_seconds_; }
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Bucket {
    std::int64_t begin, end;  // range of grad_
    int params = 0;           // parameters in it
    int ready = 0;            // reported this step
    bool launched = false;
  };
  void on_grad(std::size_t param, const at::Tensor& g);
  void launch_ready();
  void launch(Bucket& b);
  void progress();

  std::vector<at::Tensor> params_;
  std::vector<std::size_t> bucket_of_;
  std::vector<unsigned> hook_ids_;
  FlatLayout layout_;
  at::Tensor grad_;
  std::vector<Bucket> buckets_;
  std::size_t next_launch_ = 0;
  struct Requests;  // the outstanding MPI_Requests (mpi.h stays out of this header)
  std::unique_ptr<Requests> requests_;
  bool armed_ = false;
  int world_ = 1;
  double comm_seconds_ = 0, wait_seconds_ = 0;
};

}  // namespace ram::train
