// count_non_finite / warn_non_finite (othrun/finite.hpp), used by the model, probe and SAE loaders.
#include <gtest/gtest.h>

#include <othrun/finite.hpp>

#include <limits>

namespace othrun {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(NonFinite, CountsNanAndInfinityInEveryFloatingDtype) {
  const HostTensor f32 = HostTensor::from_values<float>({2, 3}, {1, kNan, -kInf, kInf, 0, kNan});
  for (DType dtype : {DType::Float32, DType::Float64, DType::Float16, DType::BFloat16}) {
    const NonFinite found = count_non_finite(f32.to(dtype));
    EXPECT_EQ(found.nan, 2) << to_string(dtype);
    EXPECT_EQ(found.inf, 2) << to_string(dtype);
  }
  EXPECT_EQ(count_non_finite(HostTensor::from_values<std::int64_t>({2}, {1, 2})).total(), 0);
  // The span overload: the first row only.
  EXPECT_EQ(count_non_finite(std::span<const float>(f32.data_as<float>(), 3)).total(), 2);
}

TEST(NonFinite, WarnsOnlyWhenThereAreAny) {
  ::testing::internal::CaptureStderr();
  const std::vector<float> finite = {1, 2, 3};
  EXPECT_EQ(warn_non_finite(finite, "w", "f.pth").total(), 0);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");

  ::testing::internal::CaptureStderr();
  const std::vector<float> bad = {1, kNan, kInf};
  warn_non_finite(bad, "blocks.0.attn.W_Q", "model.pth");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "[warn] model.pth: tensor 'blocks.0.attn.W_Q' holds 1 NaN and 1 infinite values (of "
            "3); results computed from it will not be finite\n");
}

}  // namespace
}  // namespace othrun
