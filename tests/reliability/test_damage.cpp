// Damaged stores: products that are truncated, empty, garbled or unmarked, a deleted or junk index,
// a stray .partial, a foreign file in the product folder. A rerun repairs each, with a warning.
#include <gtest/gtest.h>

#include <fstream>

#include "reliability_util.hpp"
#include "test_helpers.hpp"

namespace othrun::reliability {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(Damage, DamagedProductsAreRedoneWithAWarningNamingThem) {
  TempDir dir;
  write_file(dir / "e.yaml", real_experiment());
  ASSERT_EQ(run({(dir / "e.yaml").string()}).exit_code, 0);
  const fs::path index = dir / "out/rel.h5";
  const auto expected = snapshot(index);
  const fs::path folder = dir / "out/rel.d";

  fs::resize_file(folder / "games.h5", fs::file_size(folder / "games.h5") / 2);
  fs::resize_file(folder / "dirs.h5", 0);
  {
    std::fstream garble(folder / "boards.h5", std::ios::in | std::ios::out | std::ios::binary);
    garble.write("not the HDF5 superblock", 23);
  }
  std::vector<std::pair<std::string, std::string>> damaged = {
      {"games", "truncated file"}, {"dirs", "empty file"}, {"boards", "file signature not found"}};
#ifdef OTHRUN_RELIABILITY_WITH_TORCH
  delete_root_attribute(folder / "cache.h5", "othrun.complete");
  damaged.emplace_back("cache", "no othrun.complete mark");
#endif

  const Result rerun = run({(dir / "e.yaml").string()});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  for (const auto& [label, why] : damaged) {
    const std::string file = (folder / (label + ".h5")).string();
    EXPECT_TRUE(contains(rerun.output, "[warn] " + file + " is not a complete product (")) << file;
    EXPECT_TRUE(contains(rerun.output, why)) << why << "\n" << rerun.output;
  }
  EXPECT_EQ(snapshot(index), expected);
  EXPECT_EQ(leftovers(dir.path()), std::vector<std::string>{});
  // Repaired: the next run finds everything up to date and warns about nothing.
  const Result again = run({(dir / "e.yaml").string()});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_FALSE(contains(again.output, "[warn]")) << again.output;
  EXPECT_FALSE(contains(again.output, "running")) << again.output;
}

TEST(Damage, ADeletedOrJunkIndexIsRebuiltWhenEveryStepIsUpToDate) {
  TempDir dir;
  write_file(dir / "e.yaml", counter_experiment("out/c.h5"));
  ASSERT_EQ(run({(dir / "e.yaml").string()}).exit_code, 0);
  const fs::path index = dir / "out/c.h5";
  const auto expected = snapshot(index);
  const std::vector<std::pair<std::string, std::string>> damages = {
      {"deleted", ""}, {"junk", "junk\n"}, {"empty", "-"}};
  for (const auto& [what, content] : damages) {
    if (what == "deleted") {
      fs::remove(index);
    } else {
      write_file(index, content == "-" ? "" : content);
    }
    const Result rerun = run({(dir / "e.yaml").string()});
    ASSERT_EQ(rerun.exit_code, 0) << what << "\n" << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "[warn] store index " + index.string() + " was "))
        << what << "\n"
        << rerun.output;
    EXPECT_TRUE(contains(rerun.output, "rebuilt from the complete products (first, second)"))
        << rerun.output;
    EXPECT_FALSE(contains(rerun.output, "running")) << what << ": every step is up to date";
    EXPECT_EQ(index_links(index), (std::vector<std::string>{"first", "second"})) << what;
    EXPECT_EQ(snapshot(index), expected) << what;
  }
}

TEST(Damage, AStrayPartialIsRemovedAtTheStartOfTheNextRun) {
  TempDir dir;
  write_file(dir / "e.yaml", counter_experiment("out/c.h5"));
  ASSERT_EQ(run({(dir / "e.yaml").string()}).exit_code, 0);
  const fs::path partial = dir / "out/c.d/second.h5.partial";
  write_file(partial, "what a killed run left");
  write_file(dir / "out/c.d/gone.h5.partial", "a step no longer in the experiment");
  const Result rerun = run({(dir / "e.yaml").string()});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_FALSE(contains(rerun.output, "running")) << "every step is up to date";
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_FALSE(fs::exists(dir / "out/c.d/gone.h5.partial"));
  EXPECT_TRUE(
      contains(rerun.output, "removed " + partial.string() + ", left by an interrupted run"))
      << rerun.output;
}

TEST(Damage, AForeignFileInTheProductFolderIsNotLinkedNorDeleted) {
  TempDir dir;
  write_file(dir / "e.yaml", counter_experiment("out/c.h5"));
  const fs::path foreign = dir / "out/c.d/x.h5";
  fs::create_directories(foreign.parent_path());
  write_foreign_hdf5(foreign);
  const std::string content = read_file(foreign);
  const Result result = run({(dir / "e.yaml").string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(index_links(dir / "out/c.h5"), (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(contains(result.output, "[warn] " + foreign.string() +
                                          " is not a complete product (not written by othrun"))
      << result.output;
  EXPECT_EQ(read_file(foreign), content);
}

}  // namespace
}  // namespace othrun::reliability
