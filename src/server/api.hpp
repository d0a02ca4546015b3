#pragma once
// The OpenAI-compatible request bodies: JSON text → validated requests, and the
// error shape every failure is reported in. No model or network here, so the
// parser can be fuzzed on its own (fuzz/server_request_fuzz.cpp).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lmx::server {

// A failure with its HTTP status, in OpenAI's shape:
// {"error": {"message", "type", "param", "code"}}.
class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string code = {},
             std::string param = {})
        : std::runtime_error(message), status(status), type(std::move(type)), code(std::move(code)), param(std::move(param)) {}
    int status;
    std::string type, code, param;
    nlohmann::json body() const;
};

// The sampling and length parameters shared by chat and text completions.
struct Generation {
    std::string model;                    // "" when absent: the server's default model
    std::optional<int> max_tokens;        // none: until the context is full
    float temperature = 1.0f, top_p = 1.0f;  // OpenAI's defaults
    std::vector<std::string> stop;
    std::optional<uint64_t> seed;
    float presence_penalty = 0, frequency_penalty = 0;
    int top_logprobs = -1;  // -1: logprobs off
    bool stream = false, include_usage = false;
};

struct ChatMessage {
    std::string role, content;
};

struct ChatRequest {
    Generation gen;
    std::vector<ChatMessage> messages;
};

struct CompletionRequest {
    Generation gen;
    std::string prompt;
};

struct TokenizeRequest {
    std::string model, content;
    bool add_special = true, with_pieces = false;
};

struct DetokenizeRequest {
    std::string model;
    std::vector<int32_t> tokens;
};

struct EmbeddingRequest {
    std::string model;
    std::vector<std::string> input;  // one text or several
    bool base64 = false;             // encoding_format "base64": little-endian float32 bytes
};

// Each throws ApiError (400) naming the field that is missing, has the wrong type or
// is out of range; unknown fields are ignored, as OpenAI's SDKs send extras.
ChatRequest parse_chat_request(std::string_view body);
CompletionRequest parse_completion_request(std::string_view body);
TokenizeRequest parse_tokenize_request(std::string_view body);
DetokenizeRequest parse_detokenize_request(std::string_view body);
EmbeddingRequest parse_embedding_request(std::string_view body);

// JSON text that never throws on invalid UTF-8 from the model (replaced by U+FFFD).
std::string dump(const nlohmann::json& j);

}  // namespace lmx::server
