// ram — the one binary. `ram <verb> ...`; each verb lives in cmd_<verb>.cpp.
//
// Order matters: BLAS kernels and thread environment first (may re-exec), then MPI, then
// logging, then the verb. Any exception ends in run_guarded as one line
// "[rank R] error: ..." and a non-zero exit of the whole job — never a hang.
#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "dist/guard.hpp"
#include "log/log.hpp"
#include "platform/platform.hpp"
#include "platform/stop.hpp"
#include "ram/error.hpp"
#include "ram/version.hpp"

int main(int argc, char** argv) {
  ram::platform::prepare_process(argc, argv);
  ram::dist::Context mpi(&argc, &argv);
  // SIGUSR1 / SIGTERM (Slurm's time-limit warning and preemption): `ram train` and `ram
  // sample` stop at the next step / chunk, save, and exit 0 (platform/stop.hpp). After MPI
  // init so that the MPI library's own handlers do not replace these.
  ram::platform::install_stop_handlers();
  return ram::dist::run_guarded([&] {
    ram::log::init();
    for (int i = 0; i < argc; ++i)
      ram::apps::command_line() += (i ? " " : "") + std::string(argv[i]);
    CLI::App app{"ram — Residual Alignment Model runtime " RAM_VERSION_STRING};
    app.require_subcommand(1);
    app.set_version_flag("--version", RAM_VERSION_STRING);
    bool all_ranks = false;
    app.add_flag("--log-all-ranks", all_ranks, "log from every rank, not only rank 0");
    app.parse_complete_callback([&] {
      if (all_ranks) ram::log::set_all_ranks(true);
      auto report = ram::platform::configure_threads();
      ram::log::info("{}", report.summary());  // the BLAS kernels and threads chosen
    });
    for (auto& [name, setup] : ram::apps::VerbRegistry::all()) setup(app);
    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help, --version
      if (ram::dist::rank() == 0) app.exit(e);
    } catch (const CLI::ParseError& e) {
      throw ram::ConfigError(e.what(), "command line", "see `ram --help` or `ram <verb> --help`");
    }
  });
}
