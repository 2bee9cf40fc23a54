// dist/dist.hpp — the process layer: MPI ranks, collectives, a dynamic work queue.
//
// The distributed contract (as c10d states its own):
//   - Every rank calls the collectives below in the same order, with the same sizes where
//     a size is an argument. A collective called by some ranks only is a hang: don't.
//   - One Context per process, created first in main() (before any thread starts) and
//     destroyed last. It also works without mpirun: a single rank (MPI singleton).
//   - Errors: an exception on any rank reaches main(), which prints one line
//     "[rank R] error: ..." and calls abort_job(), ending every rank non-zero. A rank
//     never waits forever for a peer that failed.
//   - Tensors given to collectives are contiguous CPU tensors; all_reduce is in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace ram::dist {

class Context {
 public:
  Context(int* argc, char*** argv);  // MPI_Init_thread(MPI_THREAD_FUNNELED)
  ~Context();                        // MPI_Finalize unless aborted
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
};

bool initialized();
int rank();
int size();
int local_rank();  // rank among the ranks on this node
int local_size();  // ranks on this node
bool is_root();    // rank() == 0

// Ends the whole job with `code` (MPI_Abort when MPI is up and size() > 1, else exit).
[[noreturn]] void abort_job(int code);

enum class ReduceOp { sum, min, max };

void barrier();
// In place over every rank. Tensor: float32, float64, int32, int64, uint8 (as its dtype).
void all_reduce(at::Tensor& t, ReduceOp op = ReduceOp::sum);
void all_reduce(double* data, std::int64_t n, ReduceOp op = ReduceOp::sum);
void all_reduce(std::int64_t* data, std::int64_t n, ReduceOp op = ReduceOp::sum);
double all_reduce(double v, ReduceOp op = ReduceOp::sum);
std::int64_t all_reduce(std::int64_t v, ReduceOp op = ReduceOp::sum);
// In place: rank r's elements [begin_r, end_r) of the 1-D tensor `t` (the same length on
// every rank) are sent to all; ranges are contiguous and in rank order (rank 0 first),
// e.g. train::shard_range. Used by ZeRO-1 to share the updated parameter shards.
void all_gather_shards(at::Tensor& t, std::int64_t begin, std::int64_t end);
// The root's tensor (shape and dtype already equal on all ranks) overwrites the others'.
void broadcast(at::Tensor& t, int root = 0);
void broadcast(std::string& s, int root = 0);  // any length; receivers resized
// Root gets every rank's string in rank order; other ranks get an empty vector.
std::vector<std::string> gather(const std::string& s, int root = 0);
std::vector<std::string> all_gather(const std::string& s);
// Sum of v over ranks 0..rank()-1 (0 on rank 0).
std::int64_t exclusive_scan(std::int64_t v);

// Hands out chunks [begin, end) of [0, total) to whichever rank asks first, through one
// shared counter (MPI_Fetch_and_op on rank 0's window): fast ranks take more chunks.
// Construction and destruction are collective; next() is not. Destroyed while an exception
// unwinds (a failing rank), it skips the collective free so the job's abort is not blocked.
class WorkQueue {
 public:
  struct Range {
    std::int64_t begin, end;
  };
  // `start` lets a resumed run skip work already done (every rank must pass the same).
  WorkQueue(std::int64_t total, std::int64_t chunk, std::int64_t start = 0);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;
  std::optional<Range> next();
  std::int64_t total() const { return total_; }

 private:
  std::int64_t total_, chunk_;
  void* impl_;  // MPI window state
};

}  // namespace ram::dist
