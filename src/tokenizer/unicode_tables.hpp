#pragma once
// The generated Unicode tables (unicode_tables.cpp, from tools/gen_unicode_tables.py).
// Use them through unicode.hpp; this header only declares their layout.
#include <cstddef>
#include <cstdint>

namespace lmx::unicode {

// The Unicode general categories, in the generator's order.
enum class GeneralCategory : uint8_t {
    Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi,
    Pf, Po, Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co, Cn
};

struct CategoryRange {
    uint32_t first;
    GeneralCategory category;
};
struct Mapping {  // a code point and the code points kMappingPool[offset, offset + length) it maps to
    uint32_t cp;
    uint32_t offset;
    uint8_t length;
};
struct CccRange {
    uint32_t first, last;
    uint8_t ccc;
};
struct Composition {
    uint32_t first, second, composite;
};

extern const char* const kUnicodeVersion;
extern const CategoryRange kCategoryRanges[];
extern const size_t kCategoryRangeCount;
extern const uint32_t kWhitespace[];
extern const size_t kWhitespaceCount;
extern const Mapping kLowercase[];
extern const size_t kLowercaseCount;
extern const Mapping kNfd[];
extern const size_t kNfdCount;
extern const Mapping kNfkd[];
extern const size_t kNfkdCount;
extern const uint32_t kMappingPool[];
extern const CccRange kCcc[];
extern const size_t kCccCount;
extern const Composition kCompositions[];
extern const size_t kCompositionCount;

}  // namespace lmx::unicode
