#pragma once
// Splits a document into chunks for embedding with the semantics of LangChain's
// RecursiveCharacterTextSplitter (keep_separator="start", strip_whitespace): split on
// the first separator the text contains (paragraph, line, sentence, word, character),
// recurse into pieces still too long, then merge neighbouring pieces up to chunk_size
// with chunk_overlap carried over. Sizes are measured by `length`, e.g. tokens of the
// embedding model's tokenizer. Every chunk keeps its byte range in the source.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lmx {

struct ChunkerOptions {
    size_t chunk_size = 200;
    size_t chunk_overlap = 30;
    // Literal separators, tried in order; "" splits into characters (UTF-8 code points).
    std::vector<std::string> separators = {"\n\n", "\n", ". ", " ", ""};
};

struct Chunk {
    size_t begin = 0, end = 0;  // bytes of the source; text == source.substr(begin, end - begin)
    std::string text;
};

using LengthFn = std::function<size_t(std::string_view)>;

// Throws lmx::Error when chunk_overlap > chunk_size.
std::vector<Chunk> split_text(std::string_view text, const ChunkerOptions& opts, const LengthFn& length);

}  // namespace lmx
