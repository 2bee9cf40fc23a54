// dist/dist.cpp — MPI behind ram::dist (see dist.hpp for the contract).
#include "dist/dist.hpp"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>

#include <ATen/ATen.h>

#include "ram/error.hpp"

namespace ram::dist {

namespace {

bool g_owner = false;     // this Context called MPI_Init
MPI_Comm g_local = MPI_COMM_NULL;

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw DistError(std::string(what) + " failed: " + std::string(msg, len),
                  "rank " + std::to_string(rank()));
}

void require_mpi(const char* what) {
  if (!initialized())
    throw DistError(std::string(what) + " called before MPI was initialised", "",
                    "create ram::dist::Context first in main()");
}

MPI_Op to_mpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::min: return MPI_MIN;
    case ReduceOp::max: return MPI_MAX;
  }
  return MPI_SUM;
}

MPI_Datatype to_mpi(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    case at::kByte: return MPI_UINT8_T;
    default:
      throw DistError(std::string("collective on a tensor of dtype ") + at::toString(t) +
                          " is not supported",
                      "", "use float32, float64, int32, int64 or uint8");
  }
}

void check_tensor(const at::Tensor& t, const char* what) {
  if (!t.defined() || !t.is_contiguous() || !t.device().is_cpu())
    throw DistError(std::string(what) + ": tensor must be defined, contiguous and on the CPU");
}

// Large buffers go in pieces: MPI counts are int.
template <class F>
void chunked(std::int64_t n, F&& f) {
  constexpr std::int64_t kMax = std::numeric_limits<int>::max() / 2;
  for (std::int64_t off = 0; off < n; off += kMax) f(off, static_cast<int>(std::min(kMax, n - off)));
}

}  // namespace

Context::Context(int* argc, char*** argv) {
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    g_owner = true;
  }
  // Errors come back as codes (turned into DistError), not as MPI's own abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &g_local),
        "MPI_Comm_split_type");
}

Context::~Context() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (g_local != MPI_COMM_NULL) MPI_Comm_free(&g_local);
  if (g_owner) MPI_Finalize();
}

bool initialized() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

int rank() {
  if (!initialized()) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int size() {
  if (!initialized()) return 1;
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

int local_rank() {
  if (!initialized() || g_local == MPI_COMM_NULL) return 0;
  int r = 0;
  MPI_Comm_rank(g_local, &r);
  return r;
}

int local_size() {
  if (!initialized() || g_local == MPI_COMM_NULL) return 1;
  int s = 1;
  MPI_Comm_size(g_local, &s);
  return s;
}

bool is_root() { return rank() == 0; }

void abort_job(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (initialized() && size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
  if (initialized()) MPI_Finalize();
  std::_Exit(code);
}

void barrier() {
  require_mpi("barrier");
  check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void all_reduce(at::Tensor& t, ReduceOp op) {
  require_mpi("all_reduce");
  check_tensor(t, "all_reduce");
  auto type = to_mpi(t.scalar_type());
  auto* base = static_cast<char*>(t.data_ptr());
  auto esize = t.element_size();
  chunked(t.numel(), [&](std::int64_t off, int n) {
    check(MPI_Allreduce(MPI_IN_PLACE, base + off * esize, n, type, to_mpi(op), MPI_COMM_WORLD),
          "MPI_Allreduce");
  });
}

void all_gather_shards(at::Tensor& t, std::int64_t begin, std::int64_t end) {
  require_mpi("all_gather_shards");
  check_tensor(t, "all_gather_shards");
  const int W = size();
  std::vector<std::int64_t> ranges(2 * static_cast<std::size_t>(W));
  std::int64_t mine[2] = {begin, end};
  check(MPI_Allgather(mine, 2, MPI_INT64_T, ranges.data(), 2, MPI_INT64_T, MPI_COMM_WORLD), "MPI_Allgather");
  for (int r = 0; r < W; ++r) {
    const auto b = ranges[2 * static_cast<std::size_t>(r)], e = ranges[2 * static_cast<std::size_t>(r) + 1];
    if (b < 0 || e < b || e > t.numel() || (r > 0 && b != ranges[2 * static_cast<std::size_t>(r) - 1]))
      throw Error("all_gather_shards: rank " + std::to_string(r) + " range [" + std::to_string(b) + ", " +
                      std::to_string(e) + ") is not contiguous after the previous rank's",
                  "dist", "pass contiguous rank-ordered shard ranges");
  }
  // Broadcast each rank's range from its owner (ranges may exceed int counts: chunked).
  auto type = to_mpi(t.scalar_type());
  auto* base = static_cast<char*>(t.data_ptr());
  const auto esize = t.element_size();
  for (int r = 0; r < W; ++r) {
    const auto b = ranges[2 * static_cast<std::size_t>(r)], e = ranges[2 * static_cast<std::size_t>(r) + 1];
    chunked(e - b, [&](std::int64_t off, int n) {
      check(MPI_Bcast(base + (b + off) * esize, n, type, r, MPI_COMM_WORLD), "MPI_Bcast");
    });
  }
}

void all_reduce(double* data, std::int64_t n, ReduceOp op) {
  require_mpi("all_reduce");
  chunked(n, [&](std::int64_t off, int c) {
    check(MPI_Allreduce(MPI_IN_PLACE, data + off, c, MPI_DOUBLE, to_mpi(op), MPI_COMM_WORLD),
          "MPI_Allreduce");
  });
}

void all_reduce(std::int64_t* data, std::int64_t n, ReduceOp op) {
  require_mpi("all_reduce");
  chunked(n, [&](std::int64_t off, int c) {
    check(MPI_Allreduce(MPI_IN_PLACE, data + off, c, MPI_INT64_T, to_mpi(op), MPI_COMM_WORLD),
          "MPI_Allreduce");
  });
}

double all_reduce(double v, ReduceOp op) {
  all_reduce(&v, 1, op);
  return v;
}

std::int64_t all_reduce(std::int64_t v, ReduceOp op) {
  all_reduce(&v, 1, op);
  return v;
}

void broadcast(at::Tensor& t, int root) {
  require_mpi("broadcast");
  check_tensor(t, "broadcast");
  auto* base = static_cast<char*>(t.data_ptr());
  chunked(t.nbytes(), [&](std::int64_t off, int n) {
    check(MPI_Bcast(base + off, n, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  });
}

void broadcast(std::string& s, int root) {
  require_mpi("broadcast");
  std::int64_t n = static_cast<std::int64_t>(s.size());
  check(MPI_Bcast(&n, 1, MPI_INT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
  if (rank() != root) s.resize(static_cast<size_t>(n));
  chunked(n, [&](std::int64_t off, int c) {
    check(MPI_Bcast(s.data() + off, c, MPI_CHAR, root, MPI_COMM_WORLD), "MPI_Bcast");
  });
}

namespace {
std::vector<std::string> gather_impl(const std::string& s, int root, bool all) {
  require_mpi("gather");
  const int n = size();
  int len = static_cast<int>(s.size());
  if (s.size() > static_cast<size_t>(std::numeric_limits<int>::max() / 4))
    throw DistError("gather: string of " + std::to_string(s.size()) + " bytes is too large");
  std::vector<int> lens(n), displs(n);
  if (all)
    check(MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  else
    check(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, root, MPI_COMM_WORLD), "MPI_Gather");
  std::int64_t total = 0;
  for (int i = 0; i < n; ++i) {
    displs[i] = static_cast<int>(total);
    total += lens[i];
  }
  std::string buf(static_cast<size_t>(total), '\0');
  if (all)
    check(MPI_Allgatherv(s.data(), len, MPI_CHAR, buf.data(), lens.data(), displs.data(), MPI_CHAR,
                         MPI_COMM_WORLD), "MPI_Allgatherv");
  else
    check(MPI_Gatherv(s.data(), len, MPI_CHAR, buf.data(), lens.data(), displs.data(), MPI_CHAR,
                      root, MPI_COMM_WORLD), "MPI_Gatherv");
  std::vector<std::string> out;
  if (all || rank() == root)
    for (int i = 0; i < n; ++i) out.emplace_back(buf.substr(displs[i], lens[i]));
  return out;
}
}  // namespace

std::vector<std::string> gather(const std::string& s, int root) { return gather_impl(s, root, false); }
std::vector<std::string> all_gather(const std::string& s) { return gather_impl(s, 0, true); }

std::int64_t exclusive_scan(std::int64_t v) {
  require_mpi("exclusive_scan");
  std::int64_t out = 0;
  check(MPI_Exscan(&v, &out, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "MPI_Exscan");
  return rank() == 0 ? 0 : out;  // MPI leaves rank 0's result undefined
}

// ---- WorkQueue ------------------------------------------------------------------------

namespace {
struct QueueImpl {
  MPI_Win win = MPI_WIN_NULL;
  std::int64_t* counter = nullptr;  // rank 0's memory (others: unused)
};
}  // namespace

WorkQueue::WorkQueue(std::int64_t total, std::int64_t chunk, std::int64_t start)
    : total_(total), chunk_(chunk), impl_(nullptr) {
  require_mpi("WorkQueue");
  if (total < 0 || chunk <= 0 || start < 0)
    throw DistError("WorkQueue(total=" + std::to_string(total) + ", chunk=" + std::to_string(chunk) +
                    ", start=" + std::to_string(start) + "): total, start >= 0 and chunk > 0 required");
  auto* q = new QueueImpl;
  MPI_Aint bytes = rank() == 0 ? sizeof(std::int64_t) : 0;
  int rc = MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &q->counter,
                            &q->win);
  if (rc != MPI_SUCCESS) {
    delete q;
    check(rc, "MPI_Win_allocate");
  }
  if (rank() == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, q->win);
    *q->counter = start;
    MPI_Win_unlock(0, q->win);
  }
  impl_ = q;
  barrier();  // the counter is set before anyone asks
}

WorkQueue::~WorkQueue() {
  auto* q = static_cast<QueueImpl*>(impl_);
  if (!q) return;
  // MPI_Win_free is collective: while an exception unwinds this rank (its peers are not
  // coming), leave the window to the job's abort instead of waiting forever for them.
  if (std::uncaught_exceptions() > 0) return;
  if (initialized()) MPI_Win_free(&q->win);  // collective
  delete q;
}

std::optional<WorkQueue::Range> WorkQueue::next() {
  auto* q = static_cast<QueueImpl*>(impl_);
  std::int64_t add = chunk_, old = 0;
  check(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, q->win), "MPI_Win_lock");
  check(MPI_Fetch_and_op(&add, &old, MPI_INT64_T, 0, 0, MPI_SUM, q->win), "MPI_Fetch_and_op");
  check(MPI_Win_unlock(0, q->win), "MPI_Win_unlock");
  if (old >= total_) return std::nullopt;
  return Range{old, std::min(old + chunk_, total_)};
}

}  // namespace ram::dist
