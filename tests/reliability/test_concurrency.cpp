// Two runs on one store: the second fails at once naming the holder's pid, or waits with --wait.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "reliability_util.hpp"
#include "test_helpers.hpp"

namespace othrun::reliability {
namespace {

using testing::TempDir;
using testing::write_file;

// A run that holds the store for several seconds: 'second' writes 150 rows, 20 ms each.
struct Holder {
  explicit Holder(const TempDir& dir)
      : yaml(write(dir)), process({yaml.string()}, dir / "holder.log") {
    // Once 'second' is being written the holder has long taken the lock.
    EXPECT_TRUE(wait_for_file(dir / "out/c.d/second.h5.partial"));
  }
  static fs::path write(const TempDir& dir) {
    write_file(dir / "e.yaml", counter_experiment("out/c.h5", 250, 20));
    return dir / "e.yaml";
  }
  fs::path yaml;
  Process process;
};

TEST(Concurrency, ASecondRunFailsAtOnceNamingTheHolder) {
  TempDir dir;
  Holder holder(dir);
  const Result second = run({holder.yaml.string()});
  ASSERT_TRUE(holder.process.running()) << "the holder ended before the second run was tried";
  EXPECT_EQ(second.exit_code, 3) << second.output;
  EXPECT_TRUE(contains(second.output, "store " + (dir / "out/c.h5").string() +
                                          " is in use by another othrun run (pid " +
                                          std::to_string(holder.process.pid()) + ")"))
      << second.output;
  // Checking an experiment needs no lock.
  const Result check = run({"--check", holder.yaml.string()});
  EXPECT_EQ(check.exit_code, 0) << check.output;

  EXPECT_EQ(holder.process.wait(), 0) << holder.process.output();
  EXPECT_EQ(index_links(dir / "out/c.h5"), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(leftovers(dir.path()), std::vector<std::string>{});
}

TEST(Concurrency, WithWaitTheSecondRunWaitsForTheFirst) {
  TempDir dir;
  Holder holder(dir);
  Process waiter({"--wait", holder.yaml.string()}, dir / "waiter.log");
  EXPECT_EQ(waiter.wait(), 0) << waiter.output();
  EXPECT_FALSE(holder.process.running()) << "the waiter ran while the holder held the store";
  EXPECT_EQ(holder.process.wait(), 0) << holder.process.output();
  EXPECT_TRUE(contains(waiter.output(), "is in use by another othrun run (pid " +
                                            std::to_string(holder.process.pid()) +
                                            "): waiting for it"))
      << waiter.output();
  // It found the holder's products complete and up to date.
  EXPECT_FALSE(contains(waiter.output(), "running")) << waiter.output();
  EXPECT_EQ(index_links(dir / "out/c.h5"), (std::vector<std::string>{"first", "second"}));
}

TEST(Concurrency, CtrlCWhileWaitingExits130) {
  TempDir dir;
  Holder holder(dir);
  Process waiter({"--wait", holder.yaml.string()}, dir / "waiter.log");
  for (int i = 0; i < 600 && !contains(waiter.output(), "waiting for it"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  waiter.signal(SIGINT);
  EXPECT_EQ(waiter.wait(), 130) << waiter.output();
  EXPECT_TRUE(contains(waiter.output(), "interrupted while waiting for the store's lock"))
      << waiter.output();
  EXPECT_EQ(holder.process.wait(), 0) << holder.process.output();
}

}  // namespace
}  // namespace othrun::reliability
