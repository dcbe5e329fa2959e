// Faults while writing: a full disk (a file-size limit everywhere, a small tmpfs where this
// machine lets the test mount one), Ctrl-C while the report is written, a commit that cannot
// complete (an index folder that cannot be written).
#include <gtest/gtest.h>

#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "reliability_util.hpp"
#include "test_helpers.hpp"

namespace othrun::reliability {
namespace {

using testing::TempDir;
using testing::write_file;

// What a failed write must not do: crash at exit (139), or leave a .partial or .tmp behind.
void expect_clean_failure(const Result& result, const fs::path& dir, const std::string& error) {
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, error)) << error << "\n" << result.output;
  EXPECT_EQ(leftovers(dir), std::vector<std::string>{});
}

TEST(Faults, AFileSizeLimitFailsTheStepCleanlyAndARerunCompletesIt) {
  TempDir dir;
  // 'first' is a few KiB; 'second' (20000 chunks) is far beyond the 256 KiB limit.
  write_file(dir / "e.yaml", counter_experiment("out/c.h5", 20000));
  const Result full = run({(dir / "e.yaml").string()}, with_file_size_limit(256 * 1024));
  expect_clean_failure(full, dir.path(), "step 'second' (test_counter) failed: ");
  EXPECT_TRUE(contains(full.output, "File too large")) << full.output;
  EXPECT_EQ(index_links(dir / "out/c.h5"), std::vector<std::string>{"first"});

  const Result rerun = run({(dir / "e.yaml").string()});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_EQ(index_links(dir / "out/c.h5"), (std::vector<std::string>{"first", "second"}));
}

// A tmpfs mounted on a folder for the test's lifetime.
class SmallDisk {
 public:
  SmallDisk(const fs::path& where, const std::string& size) : where_(where) {
    fs::create_directories(where);
    mounted_ = mount("tmpfs", where.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) umount2(where_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  bool grow(const std::string& size) {
    return mount("tmpfs", where_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  fs::path where_;
  bool mounted_ = false;
};

TEST(Faults, AFullDiskFailsTheStepCleanlyAndARerunCompletesIt) {
  TempDir dir;
  SmallDisk disk(dir / "disk", "1500k");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  write_file(dir / "reference.yaml", real_experiment("reference/rel.h5"));
  ASSERT_EQ(run({(dir / "reference.yaml").string()}).exit_code, 0);
  // 'games' (about 1.3 MB) fits; 'dirs' (0.5 MB) does not.
  write_file(dir / "e.yaml", real_experiment("disk/rel.h5"));
  const Result full = run({(dir / "e.yaml").string()});
  expect_clean_failure(full, dir.path(), "step 'dirs' (random_directions) failed: ");
  EXPECT_TRUE(contains(full.output, "No space left on device")) << full.output;
  const auto links = index_links(dir / "disk/rel.h5");
  EXPECT_NE(std::find(links.begin(), links.end(), "games"), links.end());
  EXPECT_EQ(std::find(links.begin(), links.end(), "dirs"), links.end());

  ASSERT_TRUE(disk.grow("64m"));
  const Result rerun = run({(dir / "e.yaml").string()});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_EQ(snapshot(dir / "disk/rel.h5"), snapshot(dir / "reference/rel.h5"));
  EXPECT_EQ(leftovers(dir.path()), std::vector<std::string>{});
}

TEST(Faults, CtrlCWhileTheReportIsWrittenKeepsTheOldReportAndExits130) {
  TempDir dir;
  write_file(dir / "e.yaml", counter_experiment("out/c.h5"));
  ASSERT_EQ(run({(dir / "e.yaml").string()}).exit_code, 0);
  const fs::path report = dir / "out/c.report.html";
  const std::string old_report = read_file(report);
  ASSERT_FALSE(old_report.empty());

  // Ctrl-C arrives once the new report is written, before it replaces the old one.
  const Result during =
      run({"--force", (dir / "e.yaml").string()}, with_fault("report.written:int"));
  EXPECT_EQ(during.exit_code, 130) << during.output;
  EXPECT_TRUE(
      contains(during.output, "interrupted while writing the report; the previous report is kept"))
      << during.output;
  EXPECT_EQ(read_file(report), old_report);
  EXPECT_EQ(leftovers(dir.path()), std::vector<std::string>{});

  // Ctrl-C just as the last step is committed: that step is kept, the report is not rewritten.
  const std::string second_before = root_attribute(dir / "out/c.d/second.h5", "othrun.product_id");
  const Result after = run({"--force", (dir / "e.yaml").string()}, with_fault("commit.done#2:int"));
  EXPECT_EQ(after.exit_code, 130) << after.output;
  EXPECT_NE(root_attribute(dir / "out/c.d/second.h5", "othrun.product_id"), second_before);
  EXPECT_EQ(read_file(report), old_report);
  EXPECT_EQ(leftovers(dir.path()), std::vector<std::string>{});
}

// A store with the two counter products committed, and their product ids, for the tests of a
// --force run whose commit cannot complete.
struct CommittedStore {
  fs::path experiment, products;
  std::string first_id, second_id;
};

CommittedStore commit_two_products(const TempDir& dir) {
  CommittedStore store{dir / "e.yaml", dir / "out/c.d", "", ""};
  write_file(store.experiment, counter_experiment("out/c.h5"));
  EXPECT_EQ(run({store.experiment.string()}).exit_code, 0);
  store.first_id = root_attribute(store.products / "first.h5", "othrun.product_id");
  store.second_id = root_attribute(store.products / "second.h5", "othrun.product_id");
  return store;
}

// What a failed commit must leave: the store as before, every recorded input the product now in
// the store.
void expect_store_unchanged(const CommittedStore& store) {
  EXPECT_EQ(root_attribute(store.products / "first.h5", "othrun.product_id"), store.first_id);
  EXPECT_EQ(root_attribute(store.products / "second.h5", "othrun.product_id"), store.second_id);
}

TEST(Faults, AStepWhoseCommitFailsLeavesTheStoreAsBefore) {
  TempDir dir;
  const CommittedStore store = commit_two_products(dir);

  // Writing the new index fails, as in a read-only folder (root may write anywhere, hence the
  // injected failure; the next test uses real permissions where it can).
  const Result failed =
      run({"--force", store.experiment.string()}, with_fault("index.create:fail"));
  expect_clean_failure(failed, dir.path(),
                       "step 'first' (test_counter) failed: step 'first' could not be committed: "
                       "injected failure at 'index.create'");
  expect_store_unchanged(store);
  // The rename of the new index fails (its path is taken): the old product is put back.
  const Result rename_failed =
      run({"--force", store.experiment.string()}, with_fault("commit.renamed:fail"));
  expect_clean_failure(rename_failed, dir.path(), "step 'first' could not be committed");
  expect_store_unchanged(store);
}

// Makes `folder` read-only for the test's lifetime, its subfolder `writable` staying writable. Root
// writes into folders without write permission, so as root a read-only bind mount does it.
class ReadOnlyFolder {
 public:
  ReadOnlyFolder(const fs::path& folder, const fs::path& writable, const fs::path& scratch)
      : folder_(folder), writable_(writable), side_(scratch) {
    if (geteuid() != 0) {
      fs::permissions(folder_, fs::perms::owner_write, fs::perm_options::remove);
      ok_ = true;
      return;
    }
    fs::create_directories(side_);
    // The writable subfolder is reached through `side_`, then mounted back over itself.
    side_mounted_ = mount(writable_.c_str(), side_.c_str(), nullptr, MS_BIND, nullptr) == 0;
    folder_mounted_ =
        side_mounted_ && mount(folder_.c_str(), folder_.c_str(), nullptr, MS_BIND, nullptr) == 0;
    ok_ =
        folder_mounted_ &&
        mount(nullptr, folder_.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0 &&
        mount(side_.c_str(), writable_.c_str(), nullptr, MS_BIND, nullptr) == 0;
    writable_mounted_ = ok_;
  }
  ~ReadOnlyFolder() {
    if (geteuid() != 0) {
      fs::permissions(folder_, fs::perms::owner_write, fs::perm_options::add);
      return;
    }
    if (writable_mounted_) umount2(writable_.c_str(), MNT_DETACH);
    if (folder_mounted_) umount2(folder_.c_str(), MNT_DETACH);
    if (side_mounted_) umount2(side_.c_str(), MNT_DETACH);
  }
  ReadOnlyFolder(const ReadOnlyFolder&) = delete;
  ReadOnlyFolder& operator=(const ReadOnlyFolder&) = delete;
  bool ok() const { return ok_; }

 private:
  fs::path folder_, writable_, side_;
  bool ok_ = false, side_mounted_ = false, folder_mounted_ = false, writable_mounted_ = false;
};

TEST(Faults, AReadOnlyIndexFolderFailsTheStepAndLeavesTheStoreAsBefore) {
  TempDir dir;
  const CommittedStore store = commit_two_products(dir);
  Result failed{-1, ""};
  {
    const ReadOnlyFolder read_only(dir / "out", store.products, dir / "side");
    if (!read_only.ok()) GTEST_SKIP() << "cannot make a read-only folder here (root, no mount)";
    failed = run({"--force", store.experiment.string()});
  }
  fs::remove(dir / "side");
  expect_clean_failure(failed, dir.path(), "step 'first' could not be committed");
  expect_store_unchanged(store);
}

}  // namespace
}  // namespace othrun::reliability
