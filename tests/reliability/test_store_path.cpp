// A `store:` that names an existing file which is not a store is refused (exit 2) and left as is.
#include <gtest/gtest.h>

#include "reliability_util.hpp"
#include "test_helpers.hpp"

namespace othrun::reliability {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(StorePath, AnExistingFileThatIsNotAStoreIsRefusedAndKept) {
  TempDir dir;
  write_file(dir / "notes.txt", "notes I keep\n");
  fs::copy_file(fs::path(OTHRUN_SOURCE_DIR) / "tests/fixtures/checkpoint/one_key.pth",
                dir / "model.pth");
  write_foreign_hdf5(dir / "data.h5");
  // (store, why) — the last is the experiment file itself.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"notes.txt", "not an HDF5 file"},
      {"model.pth", "not an HDF5 file"},
      {"data.h5", "an HDF5 file without the othrun.store_format attribute"},
      {"e.yaml", "not an HDF5 file"}};
  for (const auto& [store, why] : cases) {
    write_file(dir / "e.yaml", counter_experiment(store));
    const std::string before = read_file(dir / store);
    const std::string refusal = (dir / "e.yaml").string() + ":2: store '" + (dir / store).string() +
                                "' exists and is not an othrun store index (" + why;
    for (const bool check : {true, false}) {
      const Result result =
          check ? run({"--check", (dir / "e.yaml").string()}) : run({(dir / "e.yaml").string()});
      EXPECT_EQ(result.exit_code, 2) << store << "\n" << result.output;
      EXPECT_NE(result.output.find(refusal), std::string::npos) << refusal << "\n" << result.output;
    }
    EXPECT_EQ(read_file(dir / store), before) << store;
    EXPECT_FALSE(fs::exists(fs::path(dir / store).replace_extension(".d"))) << store;
  }
  // `othrun --report` refuses it too.
  const Result report = run({"--report", (dir / "notes.txt").string()});
  EXPECT_EQ(report.exit_code, 1) << report.output;
  EXPECT_NE(report.output.find("is not an othrun store index"), std::string::npos);
  EXPECT_EQ(read_file(dir / "notes.txt"), "notes I keep\n");
}

}  // namespace
}  // namespace othrun::reliability
