#pragma once
// Minimal leveled logging to stderr. The core must build for WASM, so no
// external logging library here; surfaces may route messages elsewhere.
#include <string_view>

namespace lmx {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, quiet = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log(LogLevel level, std::string_view message);

}  // namespace lmx
