// Store round trips, provenance and the completeness protocol.
#include <gtest/gtest.h>

#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "test_helpers.hpp"

namespace othrun {
namespace {

using testing::TempDir;

Provenance provenance() {
  return Provenance{"p", "1.2.3", {"kind"}, "a: 1\n", "hash", {"in:1"}, "exp"};
}

template <class T>
void round_trip(Group& root, const std::string& name) {
  std::vector<T> values(24);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(i * 3 % 17);
  Dataset dataset = root.create_dataset<T>(name, {0, 2, 3});
  dataset.append_rows<T>(std::span<const T>(values).first(12));
  dataset.append_rows<T>(std::span<const T>(values).subspan(12));
  EXPECT_EQ(dataset.shape(), (std::vector<std::uint64_t>{4, 2, 3}));
  EXPECT_EQ(dataset.dtype(), dtype_of<T>());
  EXPECT_EQ(dataset.read_all<T>(), values) << name;
  EXPECT_EQ(dataset.read_rows<T>(1, 2), std::vector<T>(values.begin() + 6, values.begin() + 18));
}

TEST(Store, TypedRoundTripsAndRowRanges) {
  TempDir dir;
  Store store(dir / "s.h5");
  Product product = store.begin("step", provenance());
  round_trip<std::int8_t>(product.root(), "i8");
  round_trip<std::uint8_t>(product.root(), "u8");
  round_trip<std::int16_t>(product.root(), "i16");
  round_trip<std::int32_t>(product.root(), "i32");
  round_trip<std::int64_t>(product.root(), "i64");
  round_trip<std::uint64_t>(product.root(), "u64");
  round_trip<float>(product.root(), "f32");
  round_trip<double>(product.root(), "nested/group/f64");
  store.commit(std::move(product));

  Product read = store.open("step");
  EXPECT_EQ(read.root().dataset("nested/group/f64").read_rows<double>(3, 1),
            (std::vector<double>{3, 6, 9, 12, 15, 1}));
  // Reading converts: int16 data read as float.
  EXPECT_EQ(read.root().dataset("i16").read_rows<float>(0, 1),
            (std::vector<float>{0, 3, 6, 9, 12, 15}));
}

TEST(Store, Float16IsStoredHalfSizeAndReadBackRounded) {
  TempDir dir;
  Store store(dir / "s.h5");
  Product product = store.begin("half", provenance());
  // -1.9998 is just below a power of two: HDF5's own conversion rounds it to -1.
  std::vector<float> values = {0.0f, 1.0f, -2.5f, 65504.0f, 0.1f, -1.9998f};
  product.root().create_dataset<float>("h", {0}, {}, DType::Float16).append_rows<float>(values);
  store.commit(std::move(product));
  // Objects opened from a product are valid while the product is open.
  Product read = store.open("half");
  Dataset h = read.root().dataset("h");
  EXPECT_EQ(h.dtype(), DType::Float16);
  auto back = h.read_all<float>();
  EXPECT_EQ(back[3], 65504.0f);
  EXPECT_EQ(back[2], -2.5f);
  EXPECT_NEAR(back[4], 0.1f, 1e-4);
  EXPECT_NE(back[4], 0.1f);   // really half precision
  EXPECT_EQ(back[5], -2.0f);  // nearest half to -1.9998 (spacing 2^-10 below 2)
}

TEST(Store, AttributesAndProvenance) {
  TempDir dir;
  Store store(dir / "s.h5");
  Product product = store.begin("p1", provenance());
  Attributes attrs = product.root().create_group("g").attrs();
  attrs.set("text", "hello");
  attrs.set("int", std::int64_t{-7});
  attrs.set("float", 2.5);
  attrs.set("ints", std::vector<std::int64_t>{1, 2, 3});
  attrs.set("floats", std::vector<double>{0.5, 1.5});
  attrs.set("texts", std::vector<std::string>{"a", "bc"});
  attrs.set("no_texts", std::vector<std::string>{});
  attrs.set("no_ints", std::vector<std::int64_t>{});
  attrs.set("int", std::int64_t{8});  // overwrite
  store.commit(std::move(product));

  Product read = store.open("p1");
  Attributes back = read.root().group("g").attrs();
  EXPECT_EQ(back.get_string("text"), "hello");
  EXPECT_EQ(back.get_int("int"), 8);
  EXPECT_EQ(back.get_float("float"), 2.5);
  EXPECT_EQ(back.get_ints("ints"), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(back.get_floats("floats"), (std::vector<double>{0.5, 1.5}));
  EXPECT_EQ(back.get_strings("texts"), (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(back.get_strings("no_texts").empty());
  EXPECT_TRUE(back.get_ints("no_ints").empty());
  Attributes root = read.root().attrs();
  EXPECT_EQ(root.get_string("othrun.plugin"), "p");
  EXPECT_EQ(root.get_string("othrun.plugin_version"), "1.2.3");
  EXPECT_EQ(root.get_string("othrun.config"), "a: 1\n");
  EXPECT_EQ(root.get_strings("othrun.inputs"), std::vector<std::string>{"in:1"});
  EXPECT_EQ(root.get_int("othrun.complete"), 1);
  EXPECT_EQ(read.product_id().size(), 32u);
  EXPECT_FALSE(root.get_string("othrun.framework_revision").empty());
  EXPECT_EQ(Store::stored_kinds(dir / "s.h5", "p1"), std::vector<std::string>{"kind"});
  EXPECT_EQ(Store::stored_kinds(dir / "s.h5", "nope"), std::nullopt);
}

TEST(Store, UncommittedProductsAreInvisibleAndDiscardLeavesNothing) {
  TempDir dir;
  Store store(dir / "s.h5");
  Product product = store.begin("wip", provenance());
  product.root().create_dataset<float>("x", {3});
  EXPECT_FALSE(store.has("wip"));
  EXPECT_TRUE(store.labels().empty());
  store.discard(std::move(product));
  EXPECT_TRUE(std::filesystem::is_empty(store.product_dir()));
}

TEST(Store, ErrorsNameWhatExists) {
  TempDir dir;
  Store store(dir / "s.h5");
  Product product = store.begin("a", provenance());
  product.root().create_dataset<float>("x", {0, 2});
  store.commit(std::move(product));
  try {
    store.open("b");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "store '" + (dir / "s.h5").string() + "' has no product 'b' (products: a)");
  }
  Product read = store.open("a");
  EXPECT_THROW(
      {
        try {
          read.root().dataset("y");
        } catch (const Error& error) {
          EXPECT_STREQ(error.what(), "no dataset 'y' in '/' (members: x)");
          throw;
        }
      },
      Error);
  Dataset x = read.root().dataset("x");
  EXPECT_THROW(x.read_rows<float>(0, 1), Error);  // empty dataset
  EXPECT_THROW(store.begin("bad/label", provenance()), Error);
}

TEST(Store, WriteRejectsPartialRowsAndGaps) {
  TempDir dir;
  Store store(dir / "s.h5");
  Product product = store.begin("a", provenance());
  Dataset x = product.root().create_dataset<float>("x", {0, 3});
  std::vector<float> two = {1, 2};
  EXPECT_THROW(x.append_rows<float>(two), Error);
  std::vector<float> row = {1, 2, 3};
  EXPECT_THROW(x.write_rows<float>(5, row), Error);
  x.write_rows<float>(0, row);
  EXPECT_EQ(x.rows(), 1u);
}

// Commits product `label` holding `value`; returns its product id.
std::string put(Store& store, const std::string& label, std::int64_t value) {
  Product product = store.begin(label, provenance());
  product.root().create_dataset<std::int64_t>("v", {0}).append_rows<std::int64_t>(
      std::vector<std::int64_t>{value});
  const std::string id = product.product_id();
  store.commit(std::move(product));
  return id;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Store, RefusesAnExistingFileThatIsNotAStoreIndex) {
  TempDir dir;
  testing::write_file(dir / "notes.txt", "my notes\n");
  testing::write_file(dir / "model.pth", std::string("PK\x03\x04", 4) + "not really a zip");
  testing::write_file(dir / "empty.h5", "");
  std::filesystem::create_directories(dir / "folder.h5");
  Store other(dir / "other.h5");
  put(other, "a", 1);
  const auto product = other.product_dir() / "a.h5";  // an HDF5 file, but not an index
  const std::vector<std::pair<std::filesystem::path, std::string>> cases = {
      {dir / "notes.txt", "not an HDF5 file"},
      {dir / "model.pth", "not an HDF5 file"},
      {dir / "empty.h5", "an empty file"},
      {dir / "folder.h5", "a folder"},
      {product, "an HDF5 file without the othrun.store_format attribute of an othrun index"}};
  for (const auto& [path, why] : cases) {
    const std::string before = std::filesystem::is_directory(path) ? "" : slurp(path);
    const auto problem = Store::problem_with_path(path);
    ASSERT_TRUE(problem.has_value()) << path;
    EXPECT_EQ(*problem, "store '" + path.string() + "' exists and is not an othrun store index (" +
                            why +
                            "); othrun does not overwrite it: name a new file or an existing "
                            "store, or delete it");
    EXPECT_THROW(Store{path}, StoreError) << path;
    if (!std::filesystem::is_directory(path)) {
      EXPECT_EQ(slurp(path), before) << path;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "notes.d"));  // nothing was created for it
  EXPECT_EQ(Store::problem_with_path(dir / "new.h5"), std::nullopt);
  EXPECT_EQ(Store::problem_with_path(other.index_path()), std::nullopt);
}

TEST(Store, AJunkIndexIsRebuiltOnlyBesideCompleteProducts) {
  TempDir dir;
  {
    Store store(dir / "s.h5");
    put(store, "a", 1);
    put(store, "b", 2);
  }
  testing::write_file(dir / "s.h5", "junk");
  EXPECT_EQ(Store::problem_with_path(dir / "s.h5"), std::nullopt);
  Store store(dir / "s.h5");
  EXPECT_FALSE(store.index_is_current());
  const Recovery recovery = store.recover();
  EXPECT_TRUE(recovery.index_rebuilt);
  EXPECT_TRUE(store.index_is_current());
  EXPECT_EQ(store.labels(), (std::vector<std::string>{"a", "b"}));

  // The same junk beside a folder with no complete product is not taken for a damaged index.
  testing::write_file(dir / "t.h5", "junk");
  std::filesystem::create_directories(dir / "t.d");
  EXPECT_NE(Store::problem_with_path(dir / "t.h5"), std::nullopt);
  // Nor a file that does not end in .h5 (an experiment file sharing the folder's stem).
  testing::write_file(dir / "s.yaml", "name: x\n");
  EXPECT_NE(Store::problem_with_path(dir / "s.yaml"), std::nullopt);
}

TEST(Store, DamagedOrForeignFilesAreNotProducts) {
  TempDir dir;
  Store store(dir / "s.h5");
  for (const char* label : {"ok", "cut", "empty", "garbled", "moved"}) put(store, label, 7);
  const auto path = [&](const std::string& label) { return store.product_dir() / (label + ".h5"); };
  std::filesystem::resize_file(path("cut"), std::filesystem::file_size(path("cut")) / 2);
  std::filesystem::resize_file(path("empty"), 0);
  {
    std::fstream garble(path("garbled"), std::ios::in | std::ios::out | std::ios::binary);
    garble.write("this is not HDF5", 16);
  }
  std::filesystem::rename(path("moved"), path("renamed"));       // product of step 'moved'
  std::filesystem::copy_file(dir / "s.h5", path("index_copy"));  // HDF5, not written as a product

  EXPECT_EQ(store.labels(), std::vector<std::string>{"ok"});
  EXPECT_EQ(store.status("ok").state, ProductFileStatus::State::Complete);
  EXPECT_EQ(store.status("none").state, ProductFileStatus::State::Missing);
  const auto problem = [&](const std::string& label) {
    const ProductFileStatus status = store.status(label);
    EXPECT_EQ(status.state, ProductFileStatus::State::Damaged) << label;
    return status.problem;
  };
  EXPECT_NE(problem("cut").find("truncated file"), std::string::npos) << problem("cut");
  EXPECT_EQ(problem("empty"), "empty file");
  EXPECT_NE(problem("garbled").find("unreadable as HDF5"), std::string::npos);
  EXPECT_EQ(problem("renamed"), "it is the product of step 'moved'");
  EXPECT_EQ(problem("index_copy"), "not written by othrun: no othrun.label");
  try {
    store.open("cut");
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what())
                  .find(path("cut").string() + " is damaged (unreadable as HDF5: truncated file"),
              std::string::npos)
        << error.what();
  }

  const Recovery recovery = store.recover();
  EXPECT_EQ(recovery.ignored.size(), 5u);
  EXPECT_TRUE(store.index_is_current());  // links only 'ok'
  // A damaged product's step writes it anew.
  put(store, "cut", 8);
  EXPECT_EQ(store.open("cut").root().dataset("v").read_all<std::int64_t>(),
            std::vector<std::int64_t>{8});
}

TEST(Store, RecoverRemovesLeftoversAndFinishesInterruptedCommits) {
  TempDir dir;
  Store store(dir / "s.h5");
  put(store, "a", 1);
  put(store, "b", 2);
  const auto& folder = store.product_dir();
  testing::write_file(folder / "c.h5.partial", "half a product");
  testing::write_file(dir / "s.h5.tmp", "half an index");
  // Stopped after moving 'a' aside: 'a' is put back. Stopped after renaming the new 'b' into
  // place: the old one is dropped.
  std::filesystem::rename(folder / "a.h5", folder / "a.h5.replaced");
  std::filesystem::copy_file(folder / "b.h5", folder / "b.h5.replaced");
  EXPECT_EQ(store.labels(), std::vector<std::string>{"b"});

  const Recovery recovery = store.recover();
  EXPECT_EQ(recovery.restored, std::vector<std::filesystem::path>{folder / "a.h5"});
  EXPECT_EQ(recovery.removed.size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(folder / "c.h5.partial"));
  EXPECT_FALSE(std::filesystem::exists(folder / "b.h5.replaced"));
  EXPECT_FALSE(std::filesystem::exists(dir / "s.h5.tmp"));
  EXPECT_EQ(store.labels(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(store.index_is_current());
  EXPECT_FALSE(recovery.index_rebuilt);
}

TEST(Store, AFailedCommitLeavesTheStoreAsBefore) {
  TempDir dir;
  Store store(dir / "s.h5");
  const std::string old_id = put(store, "a", 1);
  const std::string index_before = slurp(dir / "s.h5");

  // The new index cannot be written (its temporary path is taken by a folder): nothing changes.
  std::filesystem::create_directories(dir / "s.h5.tmp" / "blocker");
  EXPECT_THROW(put(store, "a", 2), Error);
  EXPECT_THROW(put(store, "new", 3), Error);
  std::filesystem::remove_all(dir / "s.h5.tmp");
  EXPECT_EQ(store.open("a").product_id(), old_id);
  EXPECT_FALSE(store.has("new"));
  EXPECT_EQ(slurp(dir / "s.h5"), index_before);

  // The new index cannot be renamed into place: the old product is put back.
  std::filesystem::rename(dir / "s.h5", dir / "index");
  std::filesystem::create_directories(dir / "s.h5" / "blocker");
  EXPECT_THROW(put(store, "a", 2), Error);
  EXPECT_THROW(put(store, "new", 3), Error);
  std::filesystem::remove_all(dir / "s.h5");
  std::filesystem::rename(dir / "index", dir / "s.h5");
  EXPECT_EQ(store.open("a").product_id(), old_id);
  EXPECT_EQ(store.open("a").root().dataset("v").read_all<std::int64_t>(),
            std::vector<std::int64_t>{1});
  EXPECT_FALSE(store.has("new"));
  for (const auto& entry : std::filesystem::directory_iterator(store.product_dir())) {
    EXPECT_EQ(entry.path().filename(), "a.h5");
  }
}

TEST(Store, TheLockAdmitsOneRunAtATime) {
  TempDir dir;
  Store store(dir / "s.h5");
  {
    StoreLock held(store.index_path(), false);
    try {
      StoreLock second(store.index_path(), false);
      FAIL() << "a second lock was granted";
    } catch (const StoreBusy& busy) {
      EXPECT_EQ(busy.holder_pid(), getpid());
      EXPECT_EQ(std::string(busy.what()),
                "store " + store.index_path().string() + " is in use by another othrun run (pid " +
                    std::to_string(getpid()) + "); nothing was run. Use --wait to wait for it");
    }
  }
  StoreLock again(store.index_path(), false);  // released with the first
  EXPECT_EQ(StoreLock::lock_path_for(store.index_path()), store.product_dir() / "othrun.lock");
}

}  // namespace
}  // namespace othrun
