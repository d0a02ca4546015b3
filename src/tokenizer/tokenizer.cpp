#include "tokenizer/tokenizer.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "formats/gguf.hpp"
#include "tokenizer/engine.hpp"
#include "tokenizer/vocab.hpp"

namespace lmx {

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::File& f) {
    const std::string model = f.get_string("tokenizer.ggml.model", "");
    auto tok = std::unique_ptr<Tokenizer>(new Tokenizer());
    tok->vocab_ = std::make_unique<Vocab>();
    if (model == "gpt2")
        tok->engine_ = gguf_bpe_engine(f, *tok->vocab_);
    else if (model == "llama")
        tok->engine_ = gguf_spm_engine(f, *tok->vocab_);
    else if (model == "bert")
        tok->engine_ = gguf_wpm_engine(f, *tok->vocab_);
    else
        fail(f.path(), ": tokenizer.ggml.model '", model,
             "' is not supported; lmx tokenizes 'gpt2' (byte-level BPE), 'llama' (SentencePiece BPE) and 'bert' "
             "(WordPiece) GGUF vocabularies, and HF tokenizer.json files");
    tok->chat_template_ = f.get_string("tokenizer.chat_template", "");
    return tok;
}

namespace {
std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, ": cannot be read; give the path of a tokenizer.json (or a folder holding one)");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_hf_json(const std::string& tokenizer_json_path) {
    const std::filesystem::path config = std::filesystem::path(tokenizer_json_path).parent_path() / "tokenizer_config.json";
    const std::string config_text = std::filesystem::exists(config) ? read_text(config.string()) : std::string();
    try {
        return from_hf_json_text(read_text(tokenizer_json_path), config_text, tokenizer_json_path);
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.compare(0, tokenizer_json_path.size(), tokenizer_json_path) == 0) throw;
        fail(tokenizer_json_path, ": ", what);
    }
}

std::unique_ptr<Tokenizer> Tokenizer::from_hf_json_text(std::string_view tokenizer_json, std::string_view config_json,
                                                        const std::string& name) {
    auto tok = std::unique_ptr<Tokenizer>(new Tokenizer());
    tok->vocab_ = std::make_unique<Vocab>();
    HfConfig config;
    try {
        tok->engine_ = hf_engine(tokenizer_json, config_json, *tok->vocab_, config);
    } catch (const Error& e) {
        fail(name, ": ", e.what());
    }
    if (tok->vocab_->size() == 0) fail(name, ": the tokenizer has no vocabulary");
    tok->chat_template_ = std::move(config.chat_template);
    return tok;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    std::vector<int32_t> out;
    engine_->encode(text, add_special, parse_special, out);
    return out;
}

void Tokenizer::check_id(int32_t id) const {
    if (id < 0 || id >= vocab_->size())
        fail("token id ", id, " is outside the vocabulary [0, ", vocab_->size(), ")");
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
    for (int32_t id : ids) check_id(id);
    return engine_->decode(ids, skip_special);
}

std::string Tokenizer::token_bytes(int32_t id) const {
    check_id(id);
    return engine_->piece(id);
}

std::string_view Tokenizer::token_text(int32_t id) const {
    check_id(id);
    return vocab_->text[static_cast<size_t>(id)];
}

int32_t Tokenizer::n_vocab() const { return vocab_->size(); }
int32_t Tokenizer::bos_id() const { return vocab_->bos; }
int32_t Tokenizer::eos_id() const { return vocab_->eos; }
bool Tokenizer::adds_bos() const { return vocab_->add_bos; }

bool Tokenizer::is_end_of_generation(int32_t id) const {
    const std::vector<int32_t>& eog = vocab_->end_of_generation;
    return std::binary_search(eog.begin(), eog.end(), id);
}

}  // namespace lmx
