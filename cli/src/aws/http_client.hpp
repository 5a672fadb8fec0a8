// A small HTTP/1.1 client over libcurl for the AWS stores. One client keeps one connection
// alive between requests; it is not thread-safe, so each thread uses its own client.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pgmig::aws {

struct HttpRequest {
    std::string method;  // GET, PUT, POST, DELETE, HEAD
    std::string url;     // already encoded, query included
    // Sent as given: whatever was signed must be sent byte for byte, Host included.
    std::vector<std::pair<std::string, std::string>> headers;
    // The body, not owned; it must outlive send().
    const unsigned char *body = nullptr;
    size_t body_size = 0;
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // names lowercased; a repeated name keeps the last
    std::string body;                            // empty when a 2xx body went to the caller's sink
};

// The request got no HTTP response: the connection failed, timed out or was cut. Carries the
// CURLcode so retry logic can tell a dropped connection from a mistake of ours.
class HttpTransportError : public std::runtime_error {
  public:
    HttpTransportError(int curl_code, const std::string &message)
        : std::runtime_error(message), curl_code_(curl_code) {}
    int curl_code() const { return curl_code_; }

  private:
    int curl_code_;
};

using HttpBodySink = std::function<void(const unsigned char *data, size_t size)>;

struct HttpTimeouts {
    long connect_ms = 10000;
    // A transfer slower than this many bytes per second for low_speed_seconds is cut off, so a
    // dead peer never hangs a backup forever while a slow but live one is left alone.
    long low_speed_bytes_per_second = 1;
    long low_speed_seconds = 60;
};

class HttpClient {
  public:
    explicit HttpClient(HttpTimeouts timeouts = {});
    ~HttpClient();
    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;

    // Sends the request and keeps the whole response body. Throws HttpTransportError when no
    // response arrives; any HTTP status is a response, not an error.
    HttpResponse send(const HttpRequest &request);

    // Like send(), but a 2xx response body is passed to `sink` piece by piece as it arrives
    // (so a large object never sits in memory); other bodies (error documents) are kept in the
    // response. An exception thrown by `sink` stops the transfer and is rethrown as is.
    HttpResponse send(const HttpRequest &request, const HttpBodySink &sink);

  private:
    HttpResponse perform(const HttpRequest &request, const HttpBodySink *sink);
    void *curl_;  // CURL*, kept out of this header
    HttpTimeouts timeouts_;
};

}  // namespace pgmig::aws
