// The C ABI over the runtime: translates exceptions into status codes and a
// per-thread error message.
#include "lmx/lmx.h"

#include <cstring>
#include <string>

#include "base/error.hpp"
#include "runtime/generator.hpp"

struct lmx_model {
    std::shared_ptr<const lmx::Model> model;
};
struct lmx_session {
    lmx::Session session;
};

namespace {

thread_local std::string g_last_error;

template <class F>
lmx_status guarded(F&& f) {
    try {
        g_last_error.clear();
        return f();
    } catch (const std::exception& e) {
        g_last_error = e.what();
    } catch (...) {
        g_last_error = "unknown error";
    }
    return LMX_ERR_FAILED;
}

lmx_status invalid(const char* what) {
    g_last_error = what;
    return LMX_ERR_INVALID_ARGUMENT;
}

}  // namespace

extern "C" {

const char* lmx_last_error(void) { return g_last_error.c_str(); }

const char* lmx_default_model_path(void) {
    thread_local std::string path;
    path = lmx::default_model_path();
    return path.c_str();
}

lmx_status lmx_model_load(const char* path, lmx_model** out) {
    if (!path || !out) return invalid("lmx_model_load: path and out must not be null");
    return guarded([&] {
        *out = new lmx_model{lmx::Model::load(path)};
        return LMX_OK;
    });
}

void lmx_model_free(lmx_model* model) { delete model; }

int32_t lmx_model_n_vocab(const lmx_model* model) { return model ? model->model->config().n_vocab : 0; }

lmx_status lmx_tokenize(const lmx_model* model, const char* text, size_t len, int add_special, int parse_special,
                        int32_t* ids, size_t cap, size_t* n_ids) {
    if (!model || (!text && len) || !n_ids || (!ids && cap)) return invalid("lmx_tokenize: null argument");
    return guarded([&] {
        std::vector<int32_t> v = model->model->tokenizer().encode(std::string_view(text ? text : "", len), add_special != 0, parse_special != 0);
        *n_ids = v.size();
        if (v.size() > cap) return LMX_ERR_BUFFER_TOO_SMALL;
        if (!v.empty()) std::memcpy(ids, v.data(), v.size() * sizeof(int32_t));
        return LMX_OK;
    });
}

lmx_status lmx_detokenize(const lmx_model* model, const int32_t* ids, size_t n_ids, char* buf, size_t cap, size_t* len) {
    if (!model || (!ids && n_ids) || !len || (!buf && cap)) return invalid("lmx_detokenize: null argument");
    return guarded([&] {
        const int32_t n_vocab = model->model->config().n_vocab;
        for (size_t i = 0; i < n_ids; i++)
            if (ids[i] < 0 || ids[i] >= n_vocab) lmx::fail("token id ", ids[i], " is outside the vocabulary (", n_vocab, " tokens)");
        std::string s = model->model->tokenizer().decode(std::vector<int32_t>(ids, ids + n_ids));
        *len = s.size();
        if (s.size() > cap) return LMX_ERR_BUFFER_TOO_SMALL;
        if (!s.empty()) std::memcpy(buf, s.data(), s.size());
        return LMX_OK;
    });
}

lmx_status lmx_session_create(const lmx_model* model, int32_t n_threads, int64_t n_ctx, lmx_session** out) {
    if (!model || !out) return invalid("lmx_session_create: model and out must not be null");
    if (n_threads < 0 || n_ctx <= 0) return invalid("lmx_session_create: need n_threads >= 0 and n_ctx > 0");
    return guarded([&] {
        *out = new lmx_session{lmx::Session(model->model, {n_threads, n_ctx, 1})};
        return LMX_OK;
    });
}

void lmx_session_free(lmx_session* session) { delete session; }

lmx_generate_params lmx_generate_default_params(void) {
    lmx::SamplingParams s;
    return {128, s.temperature, s.top_k, s.top_p, s.min_p, s.repeat_penalty, s.seed};
}

lmx_status lmx_generate(lmx_session* session, const char* prompt, size_t prompt_len, const lmx_generate_params* params,
                        lmx_text_callback callback, void* user) {
    if (!session || (!prompt && prompt_len) || !params) return invalid("lmx_generate: null argument");
    return guarded([&] {
        lmx::GenerateOptions o;
        o.max_tokens = params->max_tokens;
        o.sampling.temperature = params->temperature;
        o.sampling.top_k = params->top_k;
        o.sampling.top_p = params->top_p;
        o.sampling.min_p = params->min_p;
        o.sampling.repeat_penalty = params->repeat_penalty;
        o.sampling.seed = params->seed;
        lmx::TextCallback cb;
        if (callback) cb = [&](std::string_view s) { return callback(s.data(), s.size(), user) != 0; };
        lmx::generate(session->session, std::string_view(prompt ? prompt : "", prompt_len), o, cb);
        return LMX_OK;
    });
}

}  // extern "C"
