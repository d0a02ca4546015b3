#include <gtest/gtest.h>

#include <string>

#include "../runtime/model_fixture.hpp"
#include "lmx/lmx.h"

extern "C" int lmx_header_is_c(void);

TEST(CApi, HeaderCompilesAsC) { EXPECT_EQ(lmx_header_is_c(), 1); }

TEST(CApi, ErrorsBecomeStatusAndMessage) {
    lmx_model* m = nullptr;
    EXPECT_EQ(lmx_model_load(nullptr, &m), LMX_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(lmx_model_load("/nonexistent/model.gguf", &m), LMX_ERR_FAILED);
    EXPECT_NE(std::string(lmx_last_error()).find("/nonexistent/model.gguf"), std::string::npos);
    EXPECT_EQ(m, nullptr);
}

TEST(CApi, TokenizeGenerateRoundTrip) {
    REQUIRE_DEFAULT_MODEL();
    lmx_model* m = nullptr;
    ASSERT_EQ(lmx_model_load(lmx_default_model_path(), &m), LMX_OK) << lmx_last_error();
    const std::string text = "Hello, world!";
    size_t n = 0;
    EXPECT_EQ(lmx_tokenize(m, text.data(), text.size(), 0, 0, nullptr, 0, &n), LMX_ERR_BUFFER_TOO_SMALL);
    std::vector<int32_t> ids(n);
    ASSERT_EQ(lmx_tokenize(m, text.data(), text.size(), 0, 0, ids.data(), ids.size(), &n), LMX_OK);
    char buf[64];
    size_t len = 0;
    ASSERT_EQ(lmx_detokenize(m, ids.data(), n, buf, sizeof buf, &len), LMX_OK);
    EXPECT_EQ(std::string(buf, len), text);
    int32_t bad = -5;
    EXPECT_EQ(lmx_detokenize(m, &bad, 1, buf, sizeof buf, &len), LMX_ERR_FAILED);

    lmx_session* s = nullptr;
    ASSERT_EQ(lmx_session_create(m, 1, 128, &s), LMX_OK) << lmx_last_error();
    lmx_generate_params p = lmx_generate_default_params();
    p.max_tokens = 8;
    p.temperature = 0;
    std::string out;
    auto cb = [](const char* t, size_t l, void* user) { static_cast<std::string*>(user)->append(t, l); return 1; };
    ASSERT_EQ(lmx_generate(s, "The sky is", 10, &p, cb, &out), LMX_OK) << lmx_last_error();
    EXPECT_FALSE(out.empty());
    lmx_session_free(s);
    lmx_model_free(m);
}
