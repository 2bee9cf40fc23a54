// Rank 1 throws while it holds a WorkQueue and a Progress (both freed collectively); rank 0
// is already waiting in a collective. Unwinding must not block in MPI_Win_free: the job
// ends non-zero with rank 1's one line (dist/guard.hpp), never a hang. `ram sample` hit
// this when a chunk held a bad record.
#include "dist/dist.hpp"
#include "dist/guard.hpp"
#include "log/log.hpp"
#include "ram/error.hpp"

int main(int argc, char** argv) {
  ram::dist::Context ctx(&argc, &argv);
  return ram::dist::run_guarded([] {
    ram::log::init();
    ram::log::Progress progress("work", 4, "items");
    ram::dist::WorkQueue queue(4, 1);
    if (ram::dist::rank() == 1)
      throw ram::DataError("deliberate failure inside a work queue", "fail_in_work_queue",
                           "nothing to do");
    ram::dist::barrier();  // rank 0 waits here for the peer that failed
  });
}
