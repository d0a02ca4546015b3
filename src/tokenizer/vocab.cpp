#include "tokenizer/vocab.hpp"

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "base/error.hpp"
#include "formats/gguf.hpp"

namespace lmx {

namespace {

// tokenizer.ggml.token_type values (llama_token_type) as attributes.
uint32_t attr_from_type(int64_t type) {
    switch (type) {
        case 1: return kAttrNormal;
        case 2: return kAttrUnknown;
        case 3: return kAttrControl;
        case 4: return kAttrUserDefined;
        case 5: return kAttrUnused;
        case 6: return kAttrByte;
        default: return 0;  // undefined
    }
}

// A special token id from the metadata: kept only when it names a token.
void read_id(const gguf::File& f, std::string_view key, int32_t n_vocab, int32_t& id) {
    const int64_t v = f.get_int(key, -1);
    if (v >= 0 && v < n_vocab) id = static_cast<int32_t>(v);
}

bool one_of(const std::string& s, std::initializer_list<std::string_view> list) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

Vocab load_vocab(const gguf::File& f, const VocabDefaults& defaults) {
    Vocab v;
    v.text = f.get_string_array("tokenizer.ggml.tokens");
    const auto n = static_cast<size_t>(v.size());
    if (n == 0) fail(f.path(), ": tokenizer.ggml.tokens is empty; the file has no vocabulary to tokenize with");

    v.attr.assign(n, kAttrNormal);
    if (f.has("tokenizer.ggml.token_type")) {
        const std::vector<int64_t> types = f.get_int_array("tokenizer.ggml.token_type");
        if (types.size() < n)
            fail(f.path(), ": tokenizer.ggml.token_type has ", types.size(), " entries for ", n,
                 " tokens; the file is damaged, re-convert the model");
        for (size_t i = 0; i < n; ++i) v.attr[i] = attr_from_type(types[i]);
    }

    v.ids.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        if (v.text[i].empty()) v.text[i] = "[EMPTY_" + std::to_string(i) + "]";  // as llama.cpp names them
        const auto [it, added] = v.ids.emplace(v.text[i], static_cast<int32_t>(i));
        if (!added)
            fail(f.path(), ": token '", v.text[i], "' appears twice in the vocabulary (ids ", it->second, " and ", i,
                 "); the file is damaged, re-convert the model");
    }

    const int32_t n_vocab = v.size();
    const auto in_range = [&](int32_t id) { return id >= 0 && id < n_vocab ? id : -1; };
    v.bos = in_range(defaults.bos);
    v.eos = in_range(defaults.eos);
    read_id(f, "tokenizer.ggml.bos_token_id", n_vocab, v.bos);
    read_id(f, "tokenizer.ggml.eos_token_id", n_vocab, v.eos);
    int32_t eot = -1, eom = -1, fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
    read_id(f, "tokenizer.ggml.eot_token_id", n_vocab, eot);
    read_id(f, "tokenizer.ggml.eom_token_id", n_vocab, eom);
    read_id(f, "tokenizer.ggml.fim_pre_token_id", n_vocab, fim_pre);
    read_id(f, "tokenizer.ggml.fim_suf_token_id", n_vocab, fim_suf);
    read_id(f, "tokenizer.ggml.fim_mid_token_id", n_vocab, fim_mid);
    read_id(f, "tokenizer.ggml.fim_pad_token_id", n_vocab, fim_pad);
    read_id(f, "tokenizer.ggml.fim_rep_token_id", n_vocab, fim_rep);
    read_id(f, "tokenizer.ggml.fim_sep_token_id", n_vocab, fim_sep);
    read_id(f, "tokenizer.ggml.prefix_token_id", n_vocab, fim_pre);  // deprecated names
    read_id(f, "tokenizer.ggml.suffix_token_id", n_vocab, fim_suf);
    read_id(f, "tokenizer.ggml.middle_token_id", n_vocab, fim_mid);

    v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token", defaults.add_bos);
    v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token", defaults.add_eos);
    if (v.add_bos && v.bos < 0)
        fail(f.path(), ": tokenizer.ggml.add_bos_token is true but there is no valid tokenizer.ggml.bos_token_id");
    if (v.add_eos && v.eos < 0)
        fail(f.path(), ": tokenizer.ggml.add_eos_token is true but there is no valid tokenizer.ggml.eos_token_id");

    // Converters do not always record these ids, so llama.cpp also recognizes them by
    // their text and makes them control tokens (which changes how text is split).
    // llama.cpp takes the first hit of an unordered_map walk; we take the lowest id.
    const auto detect = [&](int32_t& id, size_t i, std::initializer_list<std::string_view> names) {
        if (id < 0 && one_of(v.text[i], names)) {
            id = static_cast<int32_t>(i);
            v.attr[i] |= kAttrControl;
        }
    };
    for (size_t i = 0; i < n; ++i) {
        detect(eot, i, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                        "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"});
        detect(eom, i, {"<|eom_id|>"});
        detect(fim_pre, i, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
                            "<|code_prefix|>", "<|prefix|>"});
        detect(fim_suf, i, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
                            "<|code_suffix|>", "<|suffix|>"});
        detect(fim_mid, i, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
                            "<|code_middle|>", "<|middle|>"});
        detect(fim_pad, i, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
        detect(fim_rep, i, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
        detect(fim_sep, i, {"<|file_sep|>"});
    }

    std::set<int32_t> eog;
    for (int32_t id : {fim_pad, fim_rep, fim_sep, v.eos, eot, eom})
        if (id >= 0) eog.insert(id);
    finish_vocab(v, std::move(eog));
    if (f.has("tokenizer.ggml.scores")) {
        const std::vector<double> scores = f.get_float_array("tokenizer.ggml.scores");
        if (scores.size() < n)
            fail(f.path(), ": tokenizer.ggml.scores has ", scores.size(), " entries for ", n,
                 " tokens; the file is damaged, re-convert the model");
        v.score.assign(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return v;
}

void finish_vocab(Vocab& v, std::set<int32_t> eog) {
    const size_t n = v.text.size();
    const int32_t n_vocab = v.size();
    // End of generation: llama.cpp decides by token text, plus the ids given.
    for (size_t i = 0; i < n; ++i) {
        if (one_of(v.text[i], {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
                               "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>",
                               "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
                               "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["})) {
            eog.insert(static_cast<int32_t>(i));
            v.attr[i] |= kAttrControl;
        }
    }
    v.end_of_generation.assign(eog.begin(), eog.end());

    v.special.clear();
    for (int32_t id = 0; id < n_vocab; ++id)
        if (v.has_attr(id, kAttrControl | kAttrUserDefined | kAttrUnknown)) v.special.push_back(id);
    std::stable_sort(v.special.begin(), v.special.end(), [&](int32_t a, int32_t b) {
        return v.text[static_cast<size_t>(a)].size() > v.text[static_cast<size_t>(b)].size();
    });
}

}  // namespace lmx
