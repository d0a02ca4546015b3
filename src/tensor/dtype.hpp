#pragma once
// Element types of weights and activations. The numeric values are ggml's type ids,
// so a GGUF tensor's type maps to a DType without a table.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lmx {

enum class DType : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
    // Types ggml lacks, for ONNX graphs; numbered past ggml's range so no GGUF file maps to them.
    U8 = 256, U16 = 257, U32 = 258, U64 = 259, BOOL = 260,
};

struct DTypeInfo {
    DType type;
    std::string_view name;  // "q4_K" etc., as ggml spells it
    int64_t block_elems;    // elements per block (1 for plain types)
    size_t block_bytes;     // bytes per block
    bool quantized;
    bool in_ggml;           // a GGUF tensor may have this type
};

// nullptr for a ggml type id lmx does not know (or a type ggml lacks) (the caller names the tensor in its error).
const DTypeInfo* dtype_info(uint32_t ggml_type);
const DTypeInfo& dtype_info(DType t);
std::string_view dtype_name(DType t);

// Bytes of n elements (n must be a whole number of blocks; throws lmx::Error otherwise).
size_t dtype_row_bytes(DType t, int64_t n);

}  // namespace lmx
