#include <othrun/tensor.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace othrun {
namespace {

TEST(HostTensor, NewTensorIsZeroFilledAndContiguous) {
  HostTensor t(DType::Int32, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(t.strides(), (HostTensor::Shape{3, 1}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<std::int32_t>(), std::vector<std::int32_t>(6, 0));
}

TEST(HostTensor, DefaultIsEmpty) {
  HostTensor t;
  EXPECT_EQ(t.numel(), 0);
  EXPECT_EQ(t.data(), nullptr);
  EXPECT_TRUE(t.to_vector<float>().empty());
}

TEST(HostTensor, FromValuesAndAt) {
  auto t = HostTensor::from_values<float>({2, 2}, {1.5f, 2.5f, 3.5f, 4.5f});
  EXPECT_EQ(t.dtype(), DType::Float32);
  EXPECT_EQ(t.at({1, 0}), 3.5);
  EXPECT_EQ(t.data_as<float>()[3], 4.5f);
  EXPECT_THROW(t.data_as<double>(), std::invalid_argument);
  EXPECT_THROW(t.at({2, 0}), std::out_of_range);
  EXPECT_THROW(t.at({0}), std::out_of_range);
  EXPECT_THROW(HostTensor::from_values<float>({3}, {1.0f}), std::invalid_argument);
}

TEST(HostTensor, TransposedViewSharesStorageAndCopiesInOrder) {
  HostTensor base = HostTensor::arange(DType::Float32, {2, 3});
  HostTensor t(DType::Float32, {3, 2}, {1, 3}, 0, base.storage());
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.at({2, 1}), 5.0);
  HostTensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_NE(c.storage(), base.storage());
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(base.contiguous().storage(), base.storage());  // no copy when already contiguous
}

TEST(HostTensor, ViewWithOffset) {
  HostTensor base = HostTensor::arange(DType::Int64, {4, 6});
  HostTensor slice(DType::Int64, {2, 3}, {6, 1}, 8, base.storage());
  EXPECT_EQ(slice.to_vector<std::int64_t>(), (std::vector<std::int64_t>{8, 9, 10, 14, 15, 16}));
  EXPECT_EQ(*slice.data_as<std::int64_t>(), 8);
}

TEST(HostTensor, SizeOneAndEmptyDimensionsAreContiguous) {
  auto storage = Storage::allocate(16);
  EXPECT_TRUE(HostTensor(DType::Float32, {1, 4}, {99, 1}, 0, storage).is_contiguous());
  EXPECT_TRUE(HostTensor(DType::Float32, {0, 4}, {7, 3}, 0, storage).is_contiguous());
}

TEST(HostTensor, ViewOutsideStorageIsRejected) {
  auto storage = Storage::allocate(6 * 4);
  EXPECT_THROW(HostTensor(DType::Float32, {2, 3}, {3, 1}, 1, storage), std::invalid_argument);
  EXPECT_THROW(HostTensor(DType::Float32, {7}, {1}, 0, storage), std::invalid_argument);
  EXPECT_THROW(HostTensor(DType::Float32, {2}, {-1}, 1, storage), std::invalid_argument);
  EXPECT_THROW(HostTensor(DType::Float32, {2}, {1, 1}, 0, storage), std::invalid_argument);
  EXPECT_NO_THROW(HostTensor(DType::Float32, {0}, {1}, 6, storage));
}

TEST(HostTensor, ViewErrorCatchesOverflow) {
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  EXPECT_NE(HostTensor::view_error(DType::Float32, {big, big}, {1, 1}, 0, 100), "");
  EXPECT_NE(HostTensor::view_error(DType::Float32, {2}, {big}, 0, 100), "");
  EXPECT_NE(HostTensor::view_error(DType::Float32, {2}, {1}, big, 100), "");
  EXPECT_NE(HostTensor::view_error(DType::Float32, {-1}, {1}, 0, 100), "");
  EXPECT_EQ(HostTensor::view_error(DType::Float32, {5}, {1}, 20, 100), "");
  EXPECT_NE(HostTensor::view_error(DType::Float32, {5}, {1}, 21, 100), "");
  EXPECT_THROW(HostTensor(DType::Float32, {big, big}), std::invalid_argument);
}

TEST(HostTensor, ConvertsBetweenDTypes) {
  auto f = HostTensor::from_values<double>({5}, {-1.5, 0.0, 2.7, 1e30, std::nan("")});
  EXPECT_EQ(f.to(DType::Int8).to_vector<std::int8_t>(),
            (std::vector<std::int8_t>{-1, 0, 2, 127, 0}));
  EXPECT_EQ(f.to(DType::UInt8).to_vector<std::uint8_t>(),
            (std::vector<std::uint8_t>{0, 0, 2, 255, 0}));
  EXPECT_EQ(f.to(DType::Bool).to_vector<bool>(),
            (std::vector<bool>{true, false, true, true, true}));
  auto i =
      HostTensor::from_values<std::int64_t>({2}, {-1, std::numeric_limits<std::int64_t>::max()});
  EXPECT_EQ(i.to(DType::UInt64).to_vector<std::uint64_t>(),
            (std::vector<std::uint64_t>{0, 9223372036854775807ull}));
  EXPECT_EQ(i.to(DType::Int64).to_vector<std::int64_t>()[1],
            std::numeric_limits<std::int64_t>::max());
  auto h = HostTensor::arange(DType::Float16, {4}).to_float32();
  EXPECT_EQ(h.to_vector<float>(), (std::vector<float>{0, 1, 2, 3}));
  auto b = HostTensor::arange(DType::BFloat16, {3}).to_vector<double>();
  EXPECT_EQ(b, (std::vector<double>{0, 1, 2}));
}

TEST(HalfFloat, KnownValues) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);         // tie to even
  EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002);         // tie to even
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_half(std::nanf("")) & 0x7c00, 0x7c00);
  EXPECT_NE(float_to_half(std::nanf("")) & 0x03ff, 0);
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
}

TEST(HalfFloat, EveryHalfSurvivesARoundTrip) {
  for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const float f = half_to_float(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_half(f), h) << "half 0x" << std::hex << bits;
  }
}

TEST(BFloat16, RoundTripAndRounding) {
  for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
    const auto b = static_cast<std::uint16_t>(bits);
    const float f = bfloat16_to_float(b);
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_bfloat16(f), b) << "bfloat16 0x" << std::hex << bits;
  }
  EXPECT_EQ(float_to_bfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie to even: down
  EXPECT_EQ(float_to_bfloat16(1.0f + std::ldexp(3.0f, -8)), 0x3f82);  // tie to even: up
  EXPECT_TRUE(std::isnan(bfloat16_to_float(float_to_bfloat16(std::nanf("")))));
}

TEST(FindTensor, ByName) {
  std::vector<NamedTensor> tensors{{"a", HostTensor(DType::Float32, {1})},
                                   {"b", HostTensor(DType::Int8, {2})}};
  ASSERT_NE(find_tensor(tensors, "b"), nullptr);
  EXPECT_EQ(find_tensor(tensors, "b")->dtype(), DType::Int8);
  EXPECT_EQ(find_tensor(tensors, "c"), nullptr);
  EXPECT_EQ(shape_string({3, 512, 8}), "[3, 512, 8]");
}

}  // namespace
}  // namespace othrun
