#pragma once
// onnxruntime's com.microsoft GatherBlockQuantized: Gather from a blockwise-quantized
// table (a quantized embedding), dequantizing the gathered elements.
#include <cstdint>

#include "ops/ops.hpp"

namespace lmx::ops::nd {

struct GatherBlockQuantizedParams {
    int64_t gather_axis = 0;
    int64_t quantize_axis = 1;
    int64_t block_size = 128;
    int64_t bits = 4;  // 4: two values per byte, low nibble first; 8: one per byte
};
// gather_block_quantized(data u8 (last dim packed 8/bits values per byte), indices i32/i64,
//   scales float (data's unpacked dims with quantize_axis divided into blocks)
//   [, zero_points u8 packed like data, scales' dims]) -> scales' type, dims
//   data[:gather_axis] + indices + data[gather_axis + 1:] (unpacked);
//   value (q - zero_point) · scale, zero_point 2^(bits-1) when absent.
OpPtr gather_block_quantized(const GatherBlockQuantizedParams& p);

}  // namespace lmx::ops::nd
