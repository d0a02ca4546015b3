#include "base/log.hpp"

#include <atomic>
#include <cstdio>

namespace lmx {

static std::atomic<LogLevel> g_level{LogLevel::info};

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

void log(LogLevel level, std::string_view message) {
    if (level < g_level.load()) return;
    static const char* names[] = {"debug", "info", "warn", "error", ""};
    std::fprintf(stderr, "lmx %s: %.*s\n", names[static_cast<int>(level)],
                 static_cast<int>(message.size()), message.data());
}

}  // namespace lmx
