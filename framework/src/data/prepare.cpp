#include "data/prepare.hpp"

#include <chrono>
#include <filesystem>

#include "dist/dist.hpp"
#include "h5/writer.hpp"
#include "log/log.hpp"
#include "plugin/registry.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"

namespace ram::data {

PrepareSummary prepare(const config::Resolved& cfg, const std::string& command) {
  auto t0 = std::chrono::steady_clock::now();
  ConfigView root = cfg.view();
  ConfigView dcfg = root.child("dataset");
  ConfigView pcfg = root.child("prepare");
  const std::string out = pcfg.get<std::string>("out");
  pcfg.finish();

  auto dataset = plugin::Registry::instance().make_dataset(dcfg.get<std::string>("name"), dcfg);
  log::info("dataset: {}", dataset->describe());
  const std::int64_t n = dataset->size();
  const std::int64_t p = dist::size(), r = dist::rank();
  const std::int64_t begin = n * r / p, end = n * (r + 1) / p;

  std::vector<std::int64_t> index;
  std::vector<std::string> ids, prompts, chosen, rejected, sources;
  log::Progress progress("prepare", n, "examples");
  for (std::int64_t i = begin; i < end; ++i) {
    Example e = dataset->get(i);
    index.push_back(i);
    ids.push_back(std::move(e.id));
    prompts.push_back(std::move(e.prompt));
    chosen.push_back(std::move(e.chosen));
    rejected.push_back(std::move(e.rejected));
    auto src = e.meta.find("source");
    sources.push_back(src == e.meta.end() ? std::string() : src->second);
    if ((i - begin) % 256 == 255) progress.add(256);
  }
  progress.add((end - begin) % 256);
  progress.finish();

  std::error_code ec;
  auto dir = std::filesystem::path(out).parent_path();
  if (dist::rank() == 0 && !dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory " + dir.string() + ": " + ec.message(), "prepare.out");
  dist::barrier();

  auto w = h5::Writer::create(out, /*parallel=*/true);
  w.write_provenance(command, cfg.yaml());
  w.write_array("examples/index", index);
  w.write_ragged("examples/id", ids);
  w.write_ragged("examples/prompt_text", prompts);
  w.write_ragged("examples/chosen_text", chosen);
  w.write_ragged("examples/rejected_text", rejected);
  w.write_ragged("examples/source", sources);
  w.set_attr("examples", "dataset", dataset->describe());
  w.set_attr("examples", "dataset_fingerprint", dataset->fingerprint());
  w.set_attr("examples", "count", n);
  w.set_attr("examples", "skipped", dataset->skipped());
  w.finalize();

  PrepareSummary s;
  s.examples = n;
  s.skipped = dataset->skipped();
  s.out = out;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace ram::data
