// dist/guard.hpp — the job-wide error policy in one place.
//
// run_guarded(body) runs body; any exception it lets escape is printed as ONE line,
//   [rank R] error: <what> (<where>); <hint>
// on stderr, and the whole job ends with exit code 1 (MPI_Abort when there are peers, so
// the ranks still waiting in a collective for the failed one are ended too — never a hang).
// Ranks other than 0 wait 1.5 s before printing, so an error that all ranks share is
// reported once, by rank 0. Run under `mpirun -q` to keep Open MPI's own MPI_ABORT notice
// off the terminal.
#pragma once

#include <functional>

namespace ram::dist {

int run_guarded(const std::function<void()>& body);

}  // namespace ram::dist
