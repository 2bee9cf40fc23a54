// `ram plugins [-v]` — every plugin found on the search path: kind, name, version, path.
// -v also lists rejected candidates with the reason and the search path itself.
#include <cstdio>

#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "plugin/registry.hpp"

RAM_VERB(plugins) {
  auto* cmd = app.add_subcommand("plugins", "list the plugins found (kind, name, version, path)");
  static bool verbose = false;
  cmd->add_flag("-v,--verbose", verbose, "also show the search path and rejected files");
  cmd->callback([] {
    auto& reg = ram::plugin::Registry::instance();
    const auto& found = reg.plugins();
    if (ram::dist::rank() != 0) return;
    std::printf("%-10s %-16s %-10s %s\n", "KIND", "NAME", "VERSION", "PATH");
    for (const auto& p : found)
      std::printf("%-10s %-16s %-10s %s\n", ram::to_string(p.kind), p.name.c_str(),
                  p.version.c_str(), p.path.c_str());
    std::printf("%zu plugins (%d ranks)\n", found.size(), ram::dist::size());
    if (verbose) {
      std::printf("\nsearch path:\n");
      for (const auto& d : reg.search_path()) std::printf("  %s\n", d.c_str());
      std::printf("rejected:\n");
      for (const auto& c : reg.candidates())
        if (!c.problem.empty()) std::printf("  %s: %s\n", c.path.c_str(), c.problem.c_str());
    }
    std::fflush(stdout);
  });
}
