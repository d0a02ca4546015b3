#include "tensor/dtype.hpp"

#include "base/error.hpp"

namespace lmx {

static constexpr DTypeInfo kTypes[] = {
    {DType::F32, "f32", 1, 4, false, true},      {DType::F16, "f16", 1, 2, false, true},
    {DType::Q4_0, "q4_0", 32, 18, true, true},   {DType::Q4_1, "q4_1", 32, 20, true, true},
    {DType::Q5_0, "q5_0", 32, 22, true, true},   {DType::Q5_1, "q5_1", 32, 24, true, true},
    {DType::Q8_0, "q8_0", 32, 34, true, true},   {DType::Q8_1, "q8_1", 32, 36, true, true},
    {DType::Q2_K, "q2_K", 256, 84, true, true},  {DType::Q3_K, "q3_K", 256, 110, true, true},
    {DType::Q4_K, "q4_K", 256, 144, true, true}, {DType::Q5_K, "q5_K", 256, 176, true, true},
    {DType::Q6_K, "q6_K", 256, 210, true, true}, {DType::Q8_K, "q8_K", 256, 292, true, true},
    {DType::I8, "i8", 1, 1, false, true},        {DType::I16, "i16", 1, 2, false, true},
    {DType::I32, "i32", 1, 4, false, true},      {DType::I64, "i64", 1, 8, false, true},
    {DType::F64, "f64", 1, 8, false, true},      {DType::BF16, "bf16", 1, 2, false, true},
    {DType::U8, "u8", 1, 1, false, false},          {DType::U16, "u16", 1, 2, false, false},
    {DType::U32, "u32", 1, 4, false, false},        {DType::U64, "u64", 1, 8, false, false},
    {DType::BOOL, "bool", 1, 1, false, false},
};

static const DTypeInfo* find(uint32_t id) {
    for (const DTypeInfo& t : kTypes)
        if (static_cast<uint32_t>(t.type) == id) return &t;
    return nullptr;
}

const DTypeInfo* dtype_info(uint32_t ggml_type) {
    const DTypeInfo* info = find(ggml_type);
    return info && info->in_ggml ? info : nullptr;
}

const DTypeInfo& dtype_info(DType t) {
    const DTypeInfo* info = find(static_cast<uint32_t>(t));
    LMX_ASSERT(info != nullptr);
    return *info;
}

std::string_view dtype_name(DType t) { return dtype_info(t).name; }

size_t dtype_row_bytes(DType t, int64_t n) {
    const DTypeInfo& info = dtype_info(t);
    if (n < 0 || n % info.block_elems != 0)
        fail("a row of ", n, " elements is not a whole number of ", info.name, " blocks of ",
             info.block_elems);
    return static_cast<size_t>(n / info.block_elems) * info.block_bytes;
}

}  // namespace lmx
