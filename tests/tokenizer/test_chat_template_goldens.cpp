// Every chat template in ../shared/testdata/chat-templates plus SmolLM2's renders
// byte-identically to Python jinja2 as HF transformers configures it, over the
// conversations in tests/goldens/chat_templates/conversations.json; where jinja2 fails
// (a template's raise_exception, a TypeError), lmx fails too.
// Goldens: tools/gen_chat_template_goldens.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.hpp"
#include "tokenizer/chat_template/chat_template.hpp"

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const fs::path kDir = fs::path(LMX_SOURCE_DIR) / "tests" / "goldens" / "chat_templates";

ojson read_json(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ojson::parse(ss.str());
}

std::vector<std::string> template_names() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(kDir))
        if (e.path().extension() == ".json" && e.path().stem() != "conversations" && e.path().stem() != "snippets")
            names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

lmx::ChatTemplateOptions pinned_now() {
    lmx::ChatTemplateOptions o;
    std::tm tm{};
    tm.tm_year = 2024 - 1900;  // the instant tools/gen_chat_template_goldens.py pins (FIXED_NOW)
    tm.tm_mon = 8;
    tm.tm_mday = 3;
    tm.tm_hour = 14;
    tm.tm_min = 5;
    tm.tm_sec = 9;
    tm.tm_wday = 2;
    tm.tm_yday = 246;
    o.now = tm;
    return o;
}

class ChatTemplateGolden : public testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateGolden, RendersLikeJinja2) {
    const ojson golden = read_json(kDir / (GetParam() + ".json"));
    const ojson convs = read_json(kDir / "conversations.json");
    const lmx::ChatTemplate tmpl(golden["source"].get<std::string>());
    int rendered = 0, failed_alike = 0;
    for (const auto& conv : convs) {
        const std::string name = conv["name"];
        const ojson& want = golden["results"][name];
        SCOPED_TRACE(GetParam() + " / " + name);
        if (want.contains("output")) {
            std::string got;
            try {
                got = tmpl.render(conv["context"], pinned_now());
            } catch (const lmx::Error& e) {
                ADD_FAILURE() << "jinja2 renders, lmx fails: " << e.what();
                continue;
            }
            const std::string expected = want["output"].get<std::string>();
            if (got == expected) {
                rendered++;
                continue;
            }
            size_t at = 0;  // report where the texts part, not two pages of prompt
            while (at < got.size() && at < expected.size() && got[at] == expected[at]) at++;
            const size_t from = at < 80 ? 0 : at - 80;
            ADD_FAILURE() << "output differs from jinja2 at byte " << at << "\n  jinja2: ..." << expected.substr(from, 200)
                          << "\n  lmx:    ..." << got.substr(from, 200);
        } else {
            try {
                const std::string got = tmpl.render(conv["context"], pinned_now());
                ADD_FAILURE() << "jinja2 fails with " << want["error"] << " " << want["message"] << ", lmx renders:\n" << got;
            } catch (const lmx::Error& e) {
                // A template's own raise_exception message must come through verbatim.
                if (want["error"] == "TemplateError") {
                    EXPECT_NE(std::string(e.what()).find(want["message"].get<std::string>()), std::string::npos) << e.what();
                }
                failed_alike++;
            }
        }
    }
    std::printf("[ %s ] %d/%zu rendered byte-identically, %d failed as jinja2 does\n", GetParam().c_str(), rendered,
                convs.size(), failed_alike);
}

INSTANTIATE_TEST_SUITE_P(Templates, ChatTemplateGolden, testing::ValuesIn(template_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                             std::string n = info.param;
                             for (char& c : n)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return n;
                         });

}  // namespace
