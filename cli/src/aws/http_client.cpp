#include "aws/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>

namespace pgmig::aws {

namespace {

// An error document larger than this is not an S3 error document; keep its start only.
constexpr size_t kMaxErrorBody = 1 << 20;

struct Transfer {
    CURL *curl = nullptr;
    HttpResponse *response = nullptr;
    const HttpBodySink *sink = nullptr;
    const unsigned char *body = nullptr;
    size_t body_size = 0;
    size_t body_offset = 0;
    std::exception_ptr sink_error;
};

std::string lowercase(std::string s) {
    for (char &c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string trim(const std::string &s) {
    const char *blanks = " \t\r\n";
    const size_t first = s.find_first_not_of(blanks);
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

size_t on_header(char *data, size_t size, size_t count, void *user) {
    auto *t = static_cast<Transfer *>(user);
    const std::string line(data, size * count);
    // Every status line starts a new response (a "100 Continue" comes before the real one).
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();
    } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
        t->response->headers[lowercase(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
    return size * count;
}

size_t on_body(char *data, size_t size, size_t count, void *user) {
    auto *t = static_cast<Transfer *>(user);
    const size_t n = size * count;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (t->sink != nullptr && status >= 200 && status < 300) {
        try {
            (*t->sink)(reinterpret_cast<const unsigned char *>(data), n);
        } catch (...) {
            t->sink_error = std::current_exception();
            return 0;  // any count but n makes curl stop with CURLE_WRITE_ERROR
        }
        return n;
    }
    std::string &body = t->response->body;
    if (t->sink != nullptr && body.size() >= kMaxErrorBody) return n;
    body.append(data, n);
    return n;
}

size_t on_read(char *buffer, size_t size, size_t count, void *user) {
    auto *t = static_cast<Transfer *>(user);
    const size_t n = std::min(size * count, t->body_size - t->body_offset);
    if (n > 0) std::memcpy(buffer, t->body + t->body_offset, n);
    t->body_offset += n;
    return n;
}

// curl rewinds the body when it has to send it again on a fresh connection.
int on_seek(void *user, curl_off_t offset, int origin) {
    auto *t = static_cast<Transfer *>(user);
    if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->body_size)
        return CURL_SEEKFUNC_CANTSEEK;
    t->body_offset = static_cast<size_t>(offset);
    return CURL_SEEKFUNC_OK;
}

bool has_header(const HttpRequest &request, const char *lowercase_name) {
    return std::any_of(request.headers.begin(), request.headers.end(),
                       [&](const auto &h) { return lowercase(h.first) == lowercase_name; });
}

}  // namespace

HttpClient::HttpClient(HttpTimeouts timeouts) : curl_(nullptr), timeouts_(timeouts) {
    static std::once_flag global_init;
    static CURLcode global_result = CURLE_OK;
    std::call_once(global_init, [] { global_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (global_result != CURLE_OK)
        throw std::runtime_error(std::string("cannot initialize libcurl: ") +
                                 curl_easy_strerror(global_result));
    curl_ = curl_easy_init();
    if (curl_ == nullptr) throw std::runtime_error("cannot create a libcurl handle");
}

HttpClient::~HttpClient() {
    curl_easy_cleanup(static_cast<CURL *>(curl_));
}

HttpResponse HttpClient::send(const HttpRequest &request) {
    return perform(request, nullptr);
}

HttpResponse HttpClient::send(const HttpRequest &request, const HttpBodySink &sink) {
    return perform(request, &sink);
}

HttpResponse HttpClient::perform(const HttpRequest &request, const HttpBodySink *sink) {
    CURL *curl = static_cast<CURL *>(curl_);
    // Reset clears the previous request's options but keeps the open connection.
    curl_easy_reset(curl);

    HttpResponse response;
    Transfer t;
    t.curl = curl;
    t.response = &response;
    t.sink = sink;
    t.body = request.body;
    t.body_size = request.body != nullptr ? request.body_size : 0;

    char error_text[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // signals and worker threads do not mix
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeouts_.connect_ms);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, timeouts_.low_speed_bytes_per_second);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, timeouts_.low_speed_seconds);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);

    const bool has_body = t.body_size > 0 || request.method == "PUT" || request.method == "POST";
    if (request.method == "GET") {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        // An upload with a known size; POST and others only change the verb on the wire.
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, &t);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(curl, CURLOPT_SEEKDATA, &t);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.body_size));
        if (request.method != "PUT")
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    curl_slist *headers = nullptr;
    for (const auto &[name, value] : request.headers)
        headers = curl_slist_append(headers, (name + ": " + value).c_str());
    // Waiting for "100 Continue" costs a round trip (or a second, with servers that never
    // send it) on every part; a rejected request only wastes one part's bytes.
    headers = curl_slist_append(headers, "Expect:");
    if (has_body && !has_header(request, "content-type"))
        headers = curl_slist_append(headers, "Content-Type:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    const CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // error_text goes out of scope

    if (t.sink_error) std::rethrow_exception(t.sink_error);
    if (code != CURLE_OK) {
        const std::string detail = error_text[0] != 0 ? error_text : curl_easy_strerror(code);
        throw HttpTransportError(static_cast<int>(code),
                                 request.method + " " + request.url + ": " + detail +
                                     " (curl error " + std::to_string(static_cast<int>(code)) +
                                     ")");
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

}  // namespace pgmig::aws
