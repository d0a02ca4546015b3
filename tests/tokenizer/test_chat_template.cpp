// The chat-template language feature by feature, against jinja2's own output for
// small templates (tests/goldens/chat_templates/snippets.json, made by
// tools/gen_chat_template_goldens.py), plus lmx's error reporting and limits.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.hpp"
#include "tokenizer/chat_template/chat_template.hpp"

namespace {

using ojson = nlohmann::ordered_json;

lmx::ChatTemplateOptions pinned_now() {
    lmx::ChatTemplateOptions o;
    std::tm tm{};
    tm.tm_year = 2024 - 1900;  // FIXED_NOW in the generator: Tuesday 2024-09-03 14:05:09
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

std::string render(const std::string& source, const ojson& ctx = ojson::object(), const lmx::ChatTemplateOptions& o = {}) {
    return lmx::ChatTemplate(source).render(ctx, o);
}

std::string error_of(const std::string& source, const ojson& ctx = ojson::object(), const lmx::ChatTemplateOptions& o = {}) {
    try {
        render(source, ctx, o);
    } catch (const lmx::Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(ChatTemplate, SnippetsRenderLikeJinja2) {
    std::ifstream f(std::string(LMX_SOURCE_DIR) + "/tests/goldens/chat_templates/snippets.json", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    const ojson golden = ojson::parse(ss.str());
    ASSERT_GE(golden["snippets"].size(), 40u);
    for (const auto& s : golden["snippets"]) {
        const std::string source = s["source"];
        SCOPED_TRACE(source);
        if (s.contains("output")) {
            std::string got;
            try {
                got = render(source, golden["context"], pinned_now());
            } catch (const lmx::Error& e) {
                ADD_FAILURE() << "jinja2 renders " << s["output"] << ", lmx fails: " << e.what();
                continue;
            }
            EXPECT_EQ(got, s["output"].get<std::string>());
        } else {
            const std::string err = error_of(source, golden["context"], pinned_now());
            EXPECT_NE(err, "(no error)") << "jinja2 fails with " << s["error"] << ": " << s["message"];
            if (s["error"] == "TemplateError") {
                EXPECT_NE(err.find(s["message"].get<std::string>()), std::string::npos) << err;
            }
        }
    }
}

TEST(ChatTemplate, SyntaxErrorsNameLineAndColumn) {
    EXPECT_NE(error_of("ok\n{% if x %}\nno end").find("line 3, column 7: missing '{% endif %}'"), std::string::npos)
        << error_of("ok\n{% if x %}\nno end");
    EXPECT_NE(error_of("a\n  {{ 1 + }}").find("line 2, column 10: expected an expression"), std::string::npos)
        << error_of("a\n  {{ 1 + }}");
    EXPECT_NE(error_of("{{ 'open }}").find("line 1, column 4: string literal is not closed"), std::string::npos);
    EXPECT_NE(error_of("{% frobnicate %}").find("unknown tag 'frobnicate'"), std::string::npos);
    EXPECT_NE(error_of("{{ x|nosuchfilter }}").find("line 1, column 6: no filter named 'nosuchfilter'"), std::string::npos)
        << error_of("{{ x|nosuchfilter }}");
    EXPECT_NE(error_of("{% if x is nosuchtest %}{% endif %}").find("no test named 'nosuchtest'"), std::string::npos);
    EXPECT_NE(error_of("{# never closed").find("comment is not closed"), std::string::npos);
    EXPECT_NE(error_of("{% break %}").find("'break' outside a for loop"), std::string::npos);
}

TEST(ChatTemplate, RuntimeErrorsNameLineAndColumn) {
    const std::string e = error_of("line one\n{{ raise_exception('Only user and assistant roles are supported') }}");
    EXPECT_NE(e.find("line 2, column 4: Only user and assistant roles are supported"), std::string::npos) << e;
    const std::string u = error_of("{% for m in messages %}\n  {{ m.content + 1 }}{% endfor %}", {{"messages", {{{"content", "hi"}}}}});
    EXPECT_NE(u.find("line 2, column "), std::string::npos) << u;
    EXPECT_NE(u.find("can only concatenate str"), std::string::npos) << u;
}

TEST(ChatTemplate, RunawayTemplatesStopInsteadOfHanging) {
    lmx::ChatTemplateOptions o;
    o.max_steps = 100000;
    const std::string loops = error_of("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", ojson::object(), o);
    EXPECT_NE(loops.find("steps"), std::string::npos) << loops;
    EXPECT_NE(error_of("{{ range(1000000)|list }}").find("range too big"), std::string::npos);
    o.max_output = 1000;
    const std::string big = error_of("{{ 'x' * 5000 }}", ojson::object(), o);
    EXPECT_NE(big.find("more than the limit"), std::string::npos) << big;
    EXPECT_NE(error_of("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}").find("recursed deeper"), std::string::npos);
    EXPECT_NE(error_of("{{ 9223372036854775807 + 1 }}").find("integer overflow"), std::string::npos);
    const std::string nested = error_of(
        "{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}");
    EXPECT_NE(nested.find("nested deeper"), std::string::npos) << nested;
    std::string deep;
    for (int k = 0; k < 5000; k++) deep += "not ";
    EXPECT_NE(error_of("{{ " + deep + "1 }}").find("nesting deeper"), std::string::npos);
}

TEST(ChatTemplate, ContextKeepsKeyOrderAndJsonTypes) {
    const ojson ctx = ojson::parse(R"({"tool": {"z": 1, "a": 2.0, "m": [true, null, "é\n"]}})");
    EXPECT_EQ(render("{{ tool|tojson }}", ctx), R"({"z": 1, "a": 2.0, "m": [true, null, "é\n"]})");
    EXPECT_EQ(render("{{ tool }}", ctx), "{'z': 1, 'a': 2.0, 'm': [True, None, 'é\\n']}");
}

}  // namespace
