// Logging: rank gating and the aggregated progress line.
#include <gtest/gtest.h>

#include "dist/dist.hpp"
#include "log/log.hpp"

using namespace ram;

TEST(Log, ProgressLineHasCountsRateAndEta) {
  auto line = log::Progress::format_line("sample", 50, 200, 10.0, "prompts");
  EXPECT_EQ(line, "sample: 50/200 prompts (25.0%), 5.00 prompts/s, elapsed 10s, ETA 30s");
  auto done = log::Progress::format_line("sample", 200, 200, 125.0, "prompts");
  EXPECT_NE(done.find("(100.0%)"), std::string::npos) << done;
  EXPECT_NE(done.find("elapsed 2m05s, ETA 0s"), std::string::npos) << done;
  auto start = log::Progress::format_line("x", 0, 10, 0.0, "items");
  EXPECT_NE(start.find("ETA ?"), std::string::npos) << start;
}

TEST(Log, OnlyRankZeroLogsInfoByDefaultEveryRankWarns) {
  log::set_all_ranks(false);
  log::set_level(log::Level::info);
  EXPECT_EQ(log::enabled(log::Level::info), dist::rank() == 0);
  EXPECT_TRUE(log::enabled(log::Level::warn));
  EXPECT_FALSE(log::enabled(log::Level::debug));
  log::set_all_ranks(true);
  EXPECT_TRUE(log::enabled(log::Level::info));
  log::set_all_ranks(false);
}

TEST(Log, ProgressCountsAcrossRanks) {
  // Rank r finishes r+1 items in r+1 calls; the global count is the sum over ranks.
  const int n = dist::size();
  log::Progress p("test", n * (n + 1) / 2, "items", std::chrono::milliseconds(0));
  for (int i = 0; i <= dist::rank(); ++i) p.add(1);
  EXPECT_EQ(p.finish(), n * (n + 1) / 2);
}
