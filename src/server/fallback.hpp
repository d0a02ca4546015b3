#pragma once
// The upstream OpenAI-compatible endpoint (--fallback-url) that answers what cannot be
// served locally: the request body goes there unchanged and the answer comes back as
// it arrives (SSE streams included), marked with X-Lmx-Served-By: fallback.
#include <httplib.h>

#include <memory>
#include <string>

namespace lmx::server {

class Fallback {
public:
    // url: http(s)://host[:port][/base], e.g. https://api.openai.com/v1; key: its Bearer token ("" for none).
    // Throws lmx::Error for a URL of another shape.
    Fallback(const std::string& url, std::string key);

    // Forwards POST `req` (path /v1/... → base/...) and answers res with the upstream's
    // status, content type and body. Throws ApiError 502 when the upstream does not answer.
    // in_flight is held until the answer is complete.
    void forward(const httplib::Request& req, httplib::Response& res, std::shared_ptr<void> in_flight) const;
    const std::string& url() const { return url_; }

private:
    std::string url_, origin_, base_, key_;  // origin: scheme://host:port
};

}  // namespace lmx::server
