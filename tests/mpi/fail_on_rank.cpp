// Rank 1 throws; rank 0 is already waiting in a barrier for it. The job must end non-zero
// with rank 1's message — the error policy of dist/guard.hpp — and never hang.
#include "dist/dist.hpp"
#include "dist/guard.hpp"
#include "ram/error.hpp"

int main(int argc, char** argv) {
  ram::dist::Context ctx(&argc, &argv);
  return ram::dist::run_guarded([] {
    if (ram::dist::rank() == 1)
      throw ram::DataError("deliberate failure on rank 1", "fail_on_rank", "nothing to do");
    ram::dist::barrier();  // would wait forever without MPI_Abort
  });
}
