// CRC-32 (ISO-HDLC, the zip and zlib checksum).
#pragma once

#include <cstddef>
#include <cstdint>

namespace othrun::checkpoint {

// Continues a CRC over `n` more bytes; start with crc = 0. crc32_update(0, "123456789", 9) is
// 0xcbf43926.
// Uses carry-less multiplication where the CPU has it (x86-64 PCLMULQDQ), else tables.
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n);

// The table method alone (slicing-by-8), for tests and CPUs without PCLMULQDQ.
std::uint32_t crc32_update_portable(std::uint32_t crc, const void* data, std::size_t n);

}  // namespace othrun::checkpoint
