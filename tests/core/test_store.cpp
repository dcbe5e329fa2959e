// Store round trips, provenance and the completeness protocol.
#include <gtest/gtest.h>

#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include <cmath>

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
  EXPECT_NE(back[4], 0.1f);  // really half precision
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

}  // namespace
}  // namespace othrun
