#include "checkpoint/crc32.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace othrun::checkpoint {

namespace {

// Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes.
using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[0][b] = c;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::uint32_t b = 0; b < 256; ++b) {
      t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xffu];
    }
  }
  return t;
}

constexpr Tables kTables = make_tables();

// The CRC register (not inverted) after `n` more bytes, eight per step.
std::uint32_t table_update(std::uint32_t c, const unsigned char* p, std::size_t n) {
  for (; n >= 8; n -= 8, p += 8) {
    std::uint32_t lo;
    std::uint32_t hi;
    std::memcpy(&lo, p, 4);  // the tables assume a little-endian host, as torch files do
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = kTables[7][lo & 0xffu] ^ kTables[6][(lo >> 8) & 0xffu] ^ kTables[5][(lo >> 16) & 0xffu] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xffu] ^ kTables[2][(hi >> 8) & 0xffu] ^
        kTables[1][(hi >> 16) & 0xffu] ^ kTables[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) c = kTables[0][(c ^ *p) & 0xffu] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)

// Folding with carry-less multiplication (Gopal et al., "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ", Intel 2009): four 128-bit accumulators absorb 64 bytes per step;
// multiplying a lane by x^d mod P moves it d bits forward, so the accumulators stay congruent to
// the message read so far. The 16 bytes left in the end are congruent to the whole prefix, so the
// table method finishes on them. The constants are x^d mod P, bit-reflected, for the fold
// distances 4*128 +/- 32 and 128 +/- 32 bits.
__attribute__((target("pclmul,sse2"))) __m128i fold(__m128i x, __m128i k, __m128i next) {
  const __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
  const __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

// `n` is a multiple of 16, at least 64.
__attribute__((target("pclmul,sse2"))) std::uint32_t clmul_update(std::uint32_t c,
                                                                  const unsigned char* p,
                                                                  std::size_t n) {
  auto load = [](const unsigned char* at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
  };
  __m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(c)));
  __m128i x1 = load(p + 16);
  __m128i x2 = load(p + 32);
  __m128i x3 = load(p + 48);
  p += 64;
  n -= 64;
  const __m128i k4x128 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
  for (; n >= 64; n -= 64, p += 64) {
    x0 = fold(x0, k4x128, load(p));
    x1 = fold(x1, k4x128, load(p + 16));
    x2 = fold(x2, k4x128, load(p + 32));
    x3 = fold(x3, k4x128, load(p + 48));
  }
  const __m128i k128 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
  __m128i x = fold(fold(fold(x0, k128, x1), k128, x2), k128, x3);
  for (; n >= 16; n -= 16, p += 16) x = fold(x, k128, load(p));
  alignas(16) unsigned char rest[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(rest), x);
  return table_update(0, rest, sizeof rest);
}

bool has_clmul() {
  static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
  return has;
}

#endif

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t c = ~crc;
#if defined(__x86_64__)
  if (n >= 64 && has_clmul()) {
    const std::size_t blocks = n & ~std::size_t{15};
    c = clmul_update(c, p, blocks);
    p += blocks;
    n -= blocks;
  }
#endif
  return ~table_update(c, p, n);
}

std::uint32_t crc32_update_portable(std::uint32_t crc, const void* data, std::size_t n) {
  return ~table_update(~crc, static_cast<const unsigned char*>(data), n);
}

}  // namespace othrun::checkpoint
