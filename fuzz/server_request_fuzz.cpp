// libFuzzer target for lmx serve's request parser: the input is a request body for
// one of the endpoints (chosen by its first byte). An ApiError (400) is the only
// acceptable failure; any other exception, a crash, a hang or UB is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    using namespace lmx::server;
    try {
        switch (data[0] % 5) {
            case 0: {
                const ChatRequest r = parse_chat_request(body);
                if (r.messages.empty()) __builtin_trap();  // the parser promises at least one
                break;
            }
            case 1: parse_completion_request(body); break;
            case 2: parse_tokenize_request(body); break;
            case 3: parse_detokenize_request(body); break;
            default: parse_embedding_request(body); break;
        }
    } catch (const ApiError& e) {
        if (e.status != 400) __builtin_trap();
        (void)dump(e.body());
    }
    return 0;
}
