#include "server/api.hpp"

#include <cmath>
#include <limits>

namespace lmx::server {

using nlohmann::json;

json ApiError::body() const {
    return {{"error",
             {{"message", what()},
              {"type", type},
              {"param", param.empty() ? json(nullptr) : json(param)},
              {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

namespace {

constexpr int kMaxDepth = 64;  // request bodies are shallow; deeper nesting is refused, not walked

[[noreturn]] void bad(const std::string& param, const std::string& message) { throw ApiError(400, message, "invalid_request_error", {}, param); }

json parse_object(std::string_view body) {
    json j;
    try {
        j = json::parse(body, [](int depth, json::parse_event_t, json&) {
            if (depth > kMaxDepth) throw ApiError(400, "the request body nests deeper than 64 levels");
            return true;
        });
    } catch (const json::exception& e) {  // syntax errors, and numbers too large for a double
        throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
    return j;
}

// A field that is present and not null, or nullptr.
const json* field(const json& o, const char* key) {
    auto it = o.find(key);
    return it == o.end() || it->is_null() ? nullptr : &*it;
}

std::string short_dump(const json& v) {
    std::string s = dump(v);
    return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

double number(const json& o, const char* key, double lo, double hi, double def) {
    const json* v = field(o, key);
    if (!v) return def;
    if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < lo || v->get<double>() > hi)
        bad(key, std::string("'") + key + "' must be a number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + short_dump(*v));
    return v->get<double>();
}

std::optional<int64_t> integer(const json& o, const char* key, int64_t lo, int64_t hi) {
    const json* v = field(o, key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer())
        bad(key, std::string("'") + key + "' must be an integer, got " + short_dump(*v));
    const bool is_unsigned = v->is_number_unsigned();
    const uint64_t u = is_unsigned ? v->get<uint64_t>() : 0;
    const int64_t x = is_unsigned ? (u > static_cast<uint64_t>(hi) ? hi + 1 : static_cast<int64_t>(u)) : v->get<int64_t>();
    if (x < lo || x > hi)
        bad(key, std::string("'") + key + "' must be from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + short_dump(*v));
    return x;
}

bool boolean(const json& o, const char* key, bool def) {
    const json* v = field(o, key);
    if (!v) return def;
    if (!v->is_boolean()) bad(key, std::string("'") + key + "' must be true or false, got " + short_dump(*v));
    return v->get<bool>();
}

std::string string(const json& o, const char* key) {
    const json* v = field(o, key);
    if (!v) return {};
    if (!v->is_string()) bad(key, std::string("'") + key + "' must be a string, got " + short_dump(*v));
    return v->get<std::string>();
}

std::vector<std::string> stop_strings(const json& o) {
    const json* v = field(o, "stop");
    if (!v) return {};
    if (v->is_string()) return {v->get<std::string>()};
    if (!v->is_array() || v->size() > 16) bad("stop", "'stop' must be a string or an array of up to 16 strings");
    std::vector<std::string> out;
    for (const json& s : *v) {
        if (!s.is_string()) bad("stop", "'stop' must be a string or an array of up to 16 strings, got " + short_dump(s));
        if (!s.get<std::string>().empty()) out.push_back(s.get<std::string>());
    }
    return out;
}

Generation generation(const json& o) {
    Generation g;
    g.model = string(o, "model");
    const auto max_tokens = integer(o, "max_tokens", 1, 1 << 24);
    const auto max_completion = integer(o, "max_completion_tokens", 1, 1 << 24);
    if (max_completion) g.max_tokens = static_cast<int>(*max_completion);
    else if (max_tokens) g.max_tokens = static_cast<int>(*max_tokens);
    g.temperature = static_cast<float>(number(o, "temperature", 0, 2, 1));
    g.top_p = static_cast<float>(number(o, "top_p", 0, 1, 1));
    g.stop = stop_strings(o);
    if (auto seed = integer(o, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
        g.seed = static_cast<uint64_t>(*seed);
    g.presence_penalty = static_cast<float>(number(o, "presence_penalty", -2, 2, 0));
    g.frequency_penalty = static_cast<float>(number(o, "frequency_penalty", -2, 2, 0));
    if (integer(o, "n", 1, 1).value_or(1) != 1) bad("n", "'n' must be 1");
    g.stream = boolean(o, "stream", false);
    if (const json* so = field(o, "stream_options")) {
        if (!so->is_object()) bad("stream_options", "'stream_options' must be an object");
        if (!g.stream) bad("stream_options", "'stream_options' is only allowed with \"stream\": true");
        g.include_usage = boolean(*so, "include_usage", false);
    }
    return g;
}

// Message content: a string, or an array of {"type": "text", "text": ...} parts.
std::string content_text(const json& m) {
    const json* c = field(m, "content");
    if (!c) return {};
    if (c->is_string()) return c->get<std::string>();
    if (!c->is_array()) bad("messages", "a message's 'content' must be a string or an array of text parts");
    std::string out;
    for (const json& part : *c) {
        if (!part.is_object() || string(part, "type") != "text")
            bad("messages", "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
        out += string(part, "text");
    }
    return out;
}

}  // namespace

ChatRequest parse_chat_request(std::string_view body) {
    const json o = parse_object(body);
    ChatRequest r;
    r.gen = generation(o);
    const json* msgs = field(o, "messages");
    if (!msgs || !msgs->is_array() || msgs->empty()) bad("messages", "'messages' must be a non-empty array of {\"role\", \"content\"}");
    for (const json& m : *msgs) {
        if (!m.is_object()) bad("messages", "each message must be an object with 'role' and 'content'");
        std::string role = string(m, "role");
        if (role == "developer") role = "system";  // OpenAI's newer name for it
        if (role != "system" && role != "user" && role != "assistant" && role != "tool")
            bad("messages", "a message's 'role' must be system, developer, user, assistant or tool, got " + short_dump(role));
        r.messages.push_back({role, content_text(m)});
    }
    const bool logprobs = boolean(o, "logprobs", false);
    const auto top = integer(o, "top_logprobs", 0, 20);
    if (top && !logprobs) bad("top_logprobs", "'top_logprobs' needs \"logprobs\": true");
    if (logprobs) r.gen.top_logprobs = static_cast<int>(top.value_or(0));
    return r;
}

CompletionRequest parse_completion_request(std::string_view body) {
    const json o = parse_object(body);
    CompletionRequest r;
    r.gen = generation(o);
    const json* p = field(o, "prompt");
    if (p && p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];
    if (!p || !p->is_string()) bad("prompt", "'prompt' must be a string (or an array holding one string)");
    r.prompt = p->get<std::string>();
    if (auto lp = integer(o, "logprobs", 0, 5)) r.gen.top_logprobs = static_cast<int>(*lp);
    if (boolean(o, "echo", false)) bad("echo", "'echo' is not supported");
    if (!string(o, "suffix").empty()) bad("suffix", "'suffix' is not supported");
    if (integer(o, "best_of", 1, 1).value_or(1) != 1) bad("best_of", "'best_of' must be 1");
    return r;
}

TokenizeRequest parse_tokenize_request(std::string_view body) {
    const json o = parse_object(body);
    TokenizeRequest r;
    r.model = string(o, "model");
    const json* c = field(o, "content");
    if (!c || !c->is_string()) bad("content", "'content' must be a string");
    r.content = c->get<std::string>();
    r.add_special = boolean(o, "add_special", true);
    r.with_pieces = boolean(o, "with_pieces", false);
    return r;
}

DetokenizeRequest parse_detokenize_request(std::string_view body) {
    const json o = parse_object(body);
    DetokenizeRequest r;
    r.model = string(o, "model");
    const json* t = field(o, "tokens");
    if (!t || !t->is_array()) bad("tokens", "'tokens' must be an array of token ids");
    for (const json& id : *t) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > std::numeric_limits<int32_t>::max())
            bad("tokens", "'tokens' must hold non-negative integer token ids, got " + short_dump(id));
        r.tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
    return r;
}

EmbeddingRequest parse_embedding_request(std::string_view body) {
    const json o = parse_object(body);
    EmbeddingRequest r;
    r.model = string(o, "model");
    const json* in = field(o, "input");
    if (in && in->is_string()) {
        r.input.push_back(in->get<std::string>());
    } else if (in && in->is_array() && !in->empty() && in->size() <= 2048) {
        for (const json& t : *in) {
            if (!t.is_string()) bad("input", "'input' must be a string or an array of strings (token arrays are not supported), got " + short_dump(t));
            r.input.push_back(t.get<std::string>());
        }
    } else {
        bad("input", "'input' must be a string or an array of 1 to 2048 strings");
    }
    const std::string format = string(o, "encoding_format");
    if (!format.empty() && format != "float" && format != "base64") bad("encoding_format", "'encoding_format' must be \"float\" or \"base64\"");
    r.base64 = format == "base64";
    if (field(o, "dimensions")) bad("dimensions", "'dimensions' is not supported: the model's vectors have a fixed size");
    return r;
}

}  // namespace lmx::server
