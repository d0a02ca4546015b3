// The architecture table on small synthetic GGUF files: what each architecture reads
// from its metadata, that its builder accepts the tensors it names, and that what lmx
// cannot run yet is refused with a message naming the key. (The numerics of each
// architecture are checked against llama.cpp in tests/runtime/test_models_goldens.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "../formats/gguf_builder.hpp"
#include "base/error.hpp"
#include "models/decoder.hpp"

using namespace lmx;
using gguf_test::GgufBuilder;
using lmx::gguf::ValueType;

namespace {

constexpr uint32_t kLayers = 7, kEmbd = 64, kFf = 128, kHeads = 2, kKvHeads = 1, kHeadDim = 48, kVocab = 32;

// Metadata and tensors of a tiny model; `extra` adds keys before the tensors.
struct TinyModel {
    std::string arch;
    bool qkv_bias = false;
    std::function<void(GgufBuilder&)> extra = [](GgufBuilder&) {};

    std::vector<uint8_t> bytes() const {
        GgufBuilder b;
        b.kv_str("general.architecture", arch);
        auto key = [&](const char* k) { return std::string(arch).append(".").append(k); };
        auto u32 = [&](const char* k, uint32_t v) { b.kv(key(k), ValueType::UINT32, v); };
        u32("block_count", kLayers);
        u32("embedding_length", kEmbd);
        u32("feed_forward_length", kFf);
        u32("attention.head_count", kHeads);
        u32("attention.head_count_kv", kKvHeads);
        u32("context_length", 256);
        u32("attention.key_length", kHeadDim);
        b.kv(key("rope.freq_base"), ValueType::FLOAT32, 1e6f);
        if (arch == "gemma3") u32("attention.sliding_window", 16);
        extra(b);
        const uint64_t qd = kHeads * kHeadDim, kvd = kKvHeads * kHeadDim;
        b.tensor("token_embd.weight", {kEmbd, kVocab}, DType::F32);
        b.tensor("output_norm.weight", {kEmbd}, DType::F32);
        for (uint32_t il = 0; il < kLayers; il++) {
            auto t = [&](const char* name, std::vector<uint64_t> dims) {
                b.tensor(std::string("blk.").append(std::to_string(il)).append(".").append(name), dims, DType::F32);
            };
            t("attn_norm.weight", {kEmbd});
            t("attn_q.weight", {kEmbd, qd});
            t("attn_k.weight", {kEmbd, kvd});
            t("attn_v.weight", {kEmbd, kvd});
            if (qkv_bias) {
                t("attn_q.bias", {qd});
                t("attn_k.bias", {kvd});
                t("attn_v.bias", {kvd});
            }
            t("attn_output.weight", {qd, kEmbd});
            t("ffn_norm.weight", {kEmbd});
            t("ffn_gate.weight", {kEmbd, kFf});
            t("ffn_up.weight", {kEmbd, kFf});
            t("ffn_down.weight", {kFf, kEmbd});
            if (arch == "gemma3") {
                t("attn_q_norm.weight", {kHeadDim});
                t("attn_k_norm.weight", {kHeadDim});
                t("post_attention_norm.weight", {kEmbd});
                t("post_ffw_norm.weight", {kEmbd});
            }
        }
        return b.build();
    }
};

std::string build_error(const TinyModel& m) {
    const std::vector<uint8_t> bytes = m.bytes();
    try {
        models::build_decoder(gguf::File::parse(bytes.data(), bytes.size()));
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(DecoderConfig, Gemma3InterleavesLocalAndGlobalLayers) {
    const std::vector<uint8_t> bytes = TinyModel{"gemma3"}.bytes();
    const gguf::File f = gguf::File::parse(bytes.data(), bytes.size());
    const models::DecoderGraph d = models::build_decoder(f);
    const models::DecoderConfig& c = d.config;
    EXPECT_EQ(c.rope_layout, ops::RopeLayout::neox_halves);
    EXPECT_EQ(c.sliding_window, 16);
    EXPECT_EQ(c.rope_base, 1e6f);
    EXPECT_EQ(c.rope_base_local, 10000.0f);
    EXPECT_EQ(c.embd_scale, std::sqrt(float(kEmbd)));
    EXPECT_EQ(c.attn_scale, 1.0f / std::sqrt(float(kHeadDim)));
    EXPECT_TRUE(c.tied_output);
    for (int il = 0; il < int(kLayers); il++) EXPECT_EQ(c.is_local(il), il != 5) << "layer " << il;
}

TEST(DecoderConfig, Qwen2AddsQkvBiasesAndRotatesNeox) {
    const std::vector<uint8_t> bytes = TinyModel{"qwen2", true}.bytes();
    const models::DecoderGraph d = models::build_decoder(gguf::File::parse(bytes.data(), bytes.size()));
    EXPECT_TRUE(d.config.qkv_bias);
    EXPECT_EQ(d.config.rope_layout, ops::RopeLayout::neox_halves);
    EXPECT_FALSE(d.config.is_local(0));
    EXPECT_NE(build_error(TinyModel{"qwen2", false}).find("tensor 'blk.0.attn_q.bias' is missing"), std::string::npos);
}

TEST(DecoderConfig, LlamaKeepsAdjacentPairsAndNoBias) {
    const std::vector<uint8_t> bytes = TinyModel{"llama"}.bytes();
    const models::DecoderGraph d = models::build_decoder(gguf::File::parse(bytes.data(), bytes.size()));
    EXPECT_FALSE(d.config.qkv_bias);
    EXPECT_EQ(d.config.rope_layout, ops::RopeLayout::adjacent_pairs);
    EXPECT_EQ(d.config.embd_scale, 1.0f);
}

TEST(DecoderConfig, RefusesWhatItCannotRunNamingTheKey) {
    EXPECT_NE(build_error(TinyModel{"mamba"}).find("'mamba' is not supported yet (supported: llama, qwen2, gemma3)"), std::string::npos);
    TinyModel yarn{"qwen2", true, [](GgufBuilder& b) { b.kv_str("qwen2.rope.scaling.type", "yarn"); }};
    EXPECT_NE(build_error(yarn).find("qwen2.rope.scaling.type is set: RoPE scaling other than linear"), std::string::npos);
    TinyModel scaled{"llama", false, [](GgufBuilder& b) { b.kv("llama.rope.scaling.factor", ValueType::FLOAT32, 8.0f); }};
    EXPECT_NE(build_error(scaled).find("llama.rope.scaling.factor is set"), std::string::npos);
    TinyModel softcap{"gemma3", false, [](GgufBuilder& b) { b.kv("gemma3.final_logit_softcapping", ValueType::FLOAT32, 30.0f); }};
    EXPECT_NE(build_error(softcap).find("logit soft-capping"), std::string::npos);
    TinyModel values{"llama", false, [](GgufBuilder& b) { b.kv("llama.attention.value_length", ValueType::UINT32, 32u); }};
    EXPECT_NE(build_error(values).find("value head size"), std::string::npos);
    // linear scaling by 1 changes nothing and is accepted
    TinyModel identity{"llama", false, [](GgufBuilder& b) {
        b.kv_str("llama.rope.scaling.type", "linear");
        b.kv("llama.rope.scaling.factor", ValueType::FLOAT32, 1.0f);
    }};
    EXPECT_EQ(build_error(identity), "");
}
