#pragma once
// Before tokenizing, text equal to a special token's string is cut out and becomes
// that token, as llama.cpp's tokenizer_st_partition does: token by token, longest
// string first, every occurrence in every piece still left as text. User-defined
// tokens are always cut out; control and unknown ones only when parse_special is set.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.hpp"

namespace lmx {

struct Fragment {
    size_t offset = 0, length = 0;  // the text span, when token < 0
    int32_t token = -1;             // the special token this span was matched as
};

std::vector<Fragment> split_special_tokens(const Vocab& vocab, std::string_view text, bool parse_special);

}  // namespace lmx
