#pragma once
// The chat page served at `/`: one static HTML file with its script, streaming
// replies from /v1/chat/completions, a model picker (/v1/models) and a stop button.
#include <string_view>

namespace lmx::server {

std::string_view chat_page_html();

}  // namespace lmx::server
