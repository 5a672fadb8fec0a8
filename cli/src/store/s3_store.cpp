#include "store/s3_store.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "aws/s3_config.hpp"
#include "aws/s3_documents.hpp"
#include "aws/s3_retry.hpp"
#include "aws/sigv4.hpp"
#include "store/s3_multipart_uploads.hpp"

namespace pgmig::store {

namespace {

using aws::HttpClient;
using aws::HttpResponse;

// One S3 call, described once and signed afresh for every attempt.
struct S3Request {
    std::string operation;  // the S3 API name, for messages: "PutObject"
    std::string subject;    // what it is about, for messages: "object base/x"
    std::string method;
    std::string object_key;  // the key in the bucket; empty for the bucket itself
    aws::QueryParams query;
    aws::HeaderList headers;  // beyond Host and the signing headers
    const unsigned char *body = nullptr;
    size_t body_size = 0;
    // CompleteMultipartUpload can fail after answering 200: the error is in the body.
    bool error_may_come_with_200 = false;
    // GetObject: a missing key is ObjectNotFound, which callers test for.
    bool missing_key_is_not_found = false;
};

bool is_success(long status) {
    return status >= 200 && status < 300;
}

// What to do about the S3 errors a user can fix.
std::string hint_for(const std::string &code) {
    if (code == "SignatureDoesNotMatch")
        return "Check the secret access key (AWS_SECRET_ACCESS_KEY, or aws_secret_access_key "
               "of the AWS profile)";
    if (code == "InvalidAccessKeyId")
        return "Check the access key id (AWS_ACCESS_KEY_ID, or the AWS profile)";
    if (code == "ExpiredToken" || code == "TokenRefreshRequired")
        return "The session token has expired: refresh the credentials";
    if (code == "RequestTimeTooSkewed")
        return "This machine's clock is off by more than 15 minutes: synchronize it";
    if (code == "NoSuchBucket") return "Create the bucket or correct the store URL";
    if (code == "AccessDenied")
        return "The credentials are not allowed this operation on the bucket or prefix";
    if (code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect")
        return "The bucket may be in another region: set AWS_REGION to the bucket's region";
    if (code == "EntityTooSmall")
        return "S3 needs parts of at least 5 MiB: raise PGMIG_S3_PART_SIZE";
    return {};
}

// "HTTP 403 SignatureDoesNotMatch: <S3's message> (request id ...). <Hint>." - only what the
// server said, never what we sent, so no credential can leak into a message.
std::string describe_response(const HttpResponse &response, std::string *code_out) {
    std::string text = "HTTP " + std::to_string(response.status);
    if (const auto error = aws::s3_error_document(response.body)) {
        if (code_out != nullptr) *code_out = error->code;
        if (!error->code.empty()) text += " " + error->code;
        if (!error->message.empty()) text += ": " + error->message;
        if (!error->request_id.empty()) text += " (request id " + error->request_id + ")";
        const std::string hint = hint_for(error->code);
        if (!hint.empty()) text += (text.back() == '.' ? " " : ". ") + hint + ".";
    } else if (!response.body.empty()) {
        // Not S3 speaking (a proxy, a load balancer): show the start of what it said.
        std::string snippet = response.body.substr(0, 200);
        for (char &c : snippet)
            if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        text += ": " + snippet;
    }
    return text;
}

// Idle HTTP clients, so that connections are reused across requests and threads while no
// client is ever used by two threads at once.
class HttpClientPool {
  public:
    class Lease {
      public:
        Lease(HttpClientPool &pool, std::unique_ptr<HttpClient> client)
            : pool_(pool), client_(std::move(client)) {}
        ~Lease() { pool_.give_back(std::move(client_)); }
        Lease(const Lease &) = delete;
        Lease &operator=(const Lease &) = delete;
        HttpClient &client() { return *client_; }

      private:
        HttpClientPool &pool_;
        std::unique_ptr<HttpClient> client_;
    };

    Lease lease() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (idle_.empty()) return Lease(*this, std::make_unique<HttpClient>());
        auto client = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(client));
    }

  private:
    void give_back(std::unique_ptr<HttpClient> client) {
        std::lock_guard<std::mutex> lock(mutex_);
        idle_.push_back(std::move(client));
    }
    std::mutex mutex_;
    std::vector<std::unique_ptr<HttpClient>> idle_;
};

double unit_random() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

// The configuration, credentials and connections a store and its uploads share. Safe to use
// from several threads.
class S3Connection {
  public:
    S3Connection(aws::S3Config config, aws::Credentials credentials, std::string url)
        : config_(std::move(config)), credentials_(std::move(credentials)), url_(std::move(url)) {}

    const aws::S3Config &config() const { return config_; }
    const std::string &url() const { return url_; }

    // Sends the request, retrying what is worth retrying, and returns the 2xx response.
    // With a sink, a 2xx body streams to it and is retried only while none of it went there.
    // `cancelled` stops retrying (another part already failed). Throws StoreError.
    HttpResponse execute(const S3Request &request, const aws::HttpBodySink *sink = nullptr,
                         const std::atomic<bool> *cancelled = nullptr) {
        const aws::S3Address address = aws::s3_address(config_, request.object_key, request.query);
        const std::string payload_hash = aws::sha256_hex(
            std::string_view(reinterpret_cast<const char *>(request.body), request.body_size));
        auto lease = pool_.lease();
        uint64_t delivered = 0;
        aws::HttpBodySink counting_sink;
        if (sink != nullptr) {
            counting_sink = [&delivered, sink](const unsigned char *data, size_t size) {
                delivered += size;
                (*sink)(data, size);
            };
        }
        for (int attempt = 1;; ++attempt) {
            aws::HttpRequest http;
            http.method = request.method;
            http.url = address.url;
            http.headers = {{"Host", address.host}, {"x-amz-content-sha256", payload_hash}};
            http.headers.insert(http.headers.end(), request.headers.begin(), request.headers.end());
            http.body = request.body;
            http.body_size = request.body_size;
            sign(http, request, address, payload_hash);

            aws::AttemptOutcome outcome;
            std::string failure;
            try {
                HttpResponse response = sink != nullptr ? lease.client().send(http, counting_sink)
                                                        : lease.client().send(http);
                if (is_success(response.status) &&
                    (!request.error_may_come_with_200 || !aws::s3_error_document(response.body)))
                    return response;
                outcome.http_status = response.status;
                failure = describe_response(response, &outcome.s3_error_code);
                if (request.missing_key_is_not_found && response.status == 404 &&
                    (outcome.s3_error_code == "NoSuchKey" || outcome.s3_error_code.empty()))
                    throw ObjectNotFound(request.subject + " not found in " + url_);
            } catch (const aws::HttpTransportError &error) {
                outcome.curl_code = error.curl_code();
                failure = error.what();
            }
            const bool retryable = aws::may_retry(config_.retry, attempt, outcome);
            const bool stop = cancelled != nullptr && cancelled->load();
            if (!retryable || delivered > 0 || stop)
                throw StoreError(failure_message(request, failure, attempt, delivered,
                                                 aws::is_retryable(outcome) && !stop));
            std::this_thread::sleep_for(std::chrono::milliseconds(
                aws::retry_delay_ms(config_.retry, attempt, unit_random())));
        }
    }

  private:
    void sign(aws::HttpRequest &http, const S3Request &request, const aws::S3Address &address,
              const std::string &payload_hash) const {
        aws::SignableRequest signable;
        signable.method = request.method;
        signable.path = address.path;
        signable.query = request.query;
        signable.headers = http.headers;
        signable.payload_sha256_hex = payload_hash;
        const aws::SigningScope scope{aws::amz_date(std::chrono::system_clock::now()),
                                      config_.region, "s3"};
        const aws::HeaderList added =
            aws::signing_headers(signable, aws::PathStyle::s3, scope, credentials_);
        http.headers.insert(http.headers.end(), added.begin(), added.end());
    }

    std::string failure_message(const S3Request &request, const std::string &failure, int attempts,
                                uint64_t delivered, bool retries_ran_out) const {
        std::string text = "S3 " + request.operation;
        if (!request.subject.empty()) text += " of " + request.subject;
        text += " in " + url_ + " failed";
        if (delivered > 0)
            text += " after " + std::to_string(delivered) +
                    " bytes had been read (not retried: they were already passed on)";
        else if (retries_ran_out && attempts > 1)
            text += " after " + std::to_string(attempts) + " attempts";
        return text + ": " + failure;
    }

    aws::S3Config config_;
    aws::Credentials credentials_;
    std::string url_;
    HttpClientPool pool_;
};

std::vector<std::pair<std::string, std::string>> new_object_headers(const aws::S3Config &config) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!config.storage_class.empty())
        headers.emplace_back("x-amz-storage-class", config.storage_class);
    if (!config.sse.empty()) headers.emplace_back("x-amz-server-side-encryption", config.sse);
    if (!config.sse_kms_key_id.empty())
        headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", config.sse_kms_key_id);
    return headers;
}

// An object on its way up: buffered up to one part, then either one PutObject at commit or a
// multipart upload whose parts go up on worker threads while the next part fills.
class S3Upload : public ObjectUpload {
  public:
    S3Upload(std::shared_ptr<S3Connection> connection, std::string key)
        : connection_(std::move(connection)),
          key_(std::move(key)),
          bucket_key_(aws::bucket_key(connection_->config(), key_)) {}

    ~S3Upload() override {
        if (state_ == State::open) abort();
    }

    void write(const unsigned char *data, size_t size) override {
        require_open("write to");
        if (failed_.load()) fail(first_error());
        while (size > 0) {
            // A full buffer is sent only once more data arrives, so that an object of exactly
            // one part is still a single PutObject.
            if (buffer_.size() == current_part_size()) send_buffer_as_part(/*last=*/false);
            const size_t take = std::min(size, current_part_size() - buffer_.size());
            grow_buffer_for(take);
            buffer_.insert(buffer_.end(), data, data + take);
            data += take;
            size -= take;
        }
    }

    void commit() override {
        require_open("commit");
        if (upload_id_.empty()) {
            S3Request put = object_request("PutObject", "PUT");
            put.headers = new_object_headers(connection_->config());
            put.body = buffer_.data();
            put.body_size = buffer_.size();
            try {
                connection_->execute(put);
            } catch (...) {
                state_ = State::aborted;  // nothing was created
                throw;
            }
            state_ = State::committed;
            release_buffer();
            return;
        }
        if (!buffer_.empty()) send_buffer_as_part(/*last=*/true);
        release_buffer();
        stop_workers(/*drain=*/true);
        if (failed_.load()) fail(first_error());
        std::vector<std::string> etags;
        for (int n = 1; n < next_part_number_; ++n) etags.push_back(etags_.at(n));
        const std::string body = aws::complete_upload_body(etags);
        S3Request complete = object_request("CompleteMultipartUpload", "POST");
        complete.query = {{"uploadId", upload_id_}};
        complete.headers = {{"Content-Type", "application/xml"}};
        complete.body = reinterpret_cast<const unsigned char *>(body.data());
        complete.body_size = body.size();
        complete.error_may_come_with_200 = true;
        try {
            connection_->execute(complete);
        } catch (...) {
            fail(std::current_exception());
        }
        state_ = State::committed;
    }

    void abort() override {
        if (state_ != State::open) return;
        state_ = State::aborted;
        stop_workers(/*drain=*/false);
        release_buffer();
        const std::string why = abort_multipart_upload();
        // abort() cannot throw (it runs from destructors), so this is the only place to say it.
        if (!why.empty()) std::fprintf(stderr, "pgmig: warning: %s\n", why.c_str());
    }

  private:
    enum class State { open, committed, aborted };

    struct Part {
        int number = 0;
        std::vector<unsigned char> data;
    };

    size_t current_part_size() const {
        return aws::part_size_for(connection_->config().part_size, next_part_number_);
    }

    S3Request object_request(const char *operation, const char *method) const {
        S3Request request;
        request.operation = operation;
        request.subject = "object " + key_;
        request.method = method;
        request.object_key = bucket_key_;
        return request;
    }

    void require_open(const char *what) const {
        if (state_ != State::open)
            throw StoreError(std::string("cannot ") + what + " object " + key_ + " in " +
                             connection_->url() + ": its upload was already " +
                             (state_ == State::committed ? "committed" : "aborted"));
    }

    void release_buffer() { std::vector<unsigned char>().swap(buffer_); }

    std::exception_ptr first_error() {
        std::lock_guard<std::mutex> lock(mutex_);
        return error_;
    }

    void start_multipart_upload() {
        S3Request create = object_request("CreateMultipartUpload", "POST");
        create.query = {{"uploads", ""}};
        create.headers = new_object_headers(connection_->config());
        std::string upload_id;
        try {
            upload_id = aws::parse_upload_id(connection_->execute(create).body);
        } catch (...) {
            state_ = State::aborted;  // nothing was created
            throw;
        }
        if (upload_id.empty()) {
            state_ = State::aborted;
            throw StoreError("S3 CreateMultipartUpload of object " + key_ + " in " +
                             connection_->url() + " returned no UploadId");
        }
        upload_id_ = upload_id;
        for (int i = 0; i < aws::kParallelParts; ++i) workers_.emplace_back([this] { work(); });
    }

    // Hands the full buffer to the workers, waiting while kParallelParts parts are in flight:
    // memory stays at most (kParallelParts + 1) parts.
    void send_buffer_as_part(bool last) {
        if (next_part_number_ > aws::kMaxParts)
            fail(std::make_exception_ptr(
                StoreError("object " + key_ + " in " + connection_->url() + " needs more than " +
                           std::to_string(aws::kMaxParts) +
                           " parts, the most S3 accepts: raise PGMIG_S3_PART_SIZE")));
        if (upload_id_.empty()) start_multipart_upload();
        {
            std::unique_lock<std::mutex> lock(mutex_);
            space_.wait(lock, [this] { return in_flight_ < aws::kParallelParts || error_; });
            if (!error_) {
                queue_.push_back({next_part_number_, std::move(buffer_)});
                ++in_flight_;
            }
        }
        if (failed_.load()) fail(first_error());
        work_.notify_one();
        ++next_part_number_;
        buffer_ = std::vector<unsigned char>();
        // The object is known to be large now: take the whole part at once, not by doubling.
        if (!last) buffer_.reserve(current_part_size());
    }

    // Small objects (manifests) must not cost a whole part of memory, and a growing buffer
    // must never hold more than one part.
    void grow_buffer_for(size_t more) {
        const size_t needed = buffer_.size() + more;
        if (needed <= buffer_.capacity()) return;
        const size_t doubled = std::max({needed, 2 * buffer_.capacity(), size_t{64} << 10});
        buffer_.reserve(std::min(current_part_size(), doubled));
    }

    void work() {
        for (;;) {
            Part part;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                work_.wait(lock, [this] { return !queue_.empty() || stopping_; });
                if (queue_.empty()) return;
                part = std::move(queue_.front());
                queue_.pop_front();
            }
            std::string etag;
            std::exception_ptr error;
            if (!failed_.load()) {
                try {
                    etag = upload_part(part);
                } catch (...) {
                    error = std::current_exception();
                }
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (error && !error_) error_ = error;
                if (error) failed_.store(true);
                if (!error && !etag.empty()) etags_[part.number] = etag;
                --in_flight_;
            }
            space_.notify_all();
        }
    }

    std::string upload_part(const Part &part) {
        S3Request request = object_request("UploadPart", "PUT");
        request.operation += " " + std::to_string(part.number);
        request.query = {{"partNumber", std::to_string(part.number)}, {"uploadId", upload_id_}};
        request.body = part.data.data();
        request.body_size = part.data.size();
        const HttpResponse response = connection_->execute(request, nullptr, &failed_);
        const auto etag = response.headers.find("etag");
        if (etag == response.headers.end() || etag->second.empty())
            throw StoreError("S3 UploadPart " + std::to_string(part.number) + " of object " + key_ +
                             " in " + connection_->url() + " returned no ETag");
        return etag->second;
    }

    // Waits for the queued parts (drain) or drops them, then ends the worker threads.
    void stop_workers(bool drain) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (!drain) {
                failed_.store(true);  // parts still retrying give up
                in_flight_ -= static_cast<int>(queue_.size());
                queue_.clear();
            }
            stopping_ = true;
        }
        work_.notify_all();
        for (auto &worker : workers_) worker.join();
        workers_.clear();
    }

    // Best effort: an empty string when the upload is gone (or never existed), else why not.
    std::string abort_multipart_upload() {
        if (upload_id_.empty()) return {};
        S3Request request = object_request("AbortMultipartUpload", "DELETE");
        request.query = {{"uploadId", upload_id_}};
        try {
            connection_->execute(request);
            return {};
        } catch (const std::exception &error) {
            return std::string(error.what()) + "; the parts already uploaded (upload id " +
                   upload_id_ +
                   ") stay in the bucket until they are aborted or a lifecycle rule "
                   "removes them";
        }
    }

    // Aborts the upload after `error`, then throws it, extended with the abort's failure if
    // that failed too; the first error is never replaced.
    [[noreturn]] void fail(std::exception_ptr error) {
        state_ = State::aborted;
        stop_workers(/*drain=*/false);
        release_buffer();
        const std::string abort_failure = abort_multipart_upload();
        if (abort_failure.empty()) std::rethrow_exception(error);
        try {
            std::rethrow_exception(error);
        } catch (const StoreError &first) {
            throw StoreError(std::string(first.what()) +
                             " (aborting the upload failed too: " + abort_failure + ")");
        }
    }

    std::shared_ptr<S3Connection> connection_;
    std::string key_;
    std::string bucket_key_;
    State state_ = State::open;
    std::vector<unsigned char> buffer_;
    int next_part_number_ = 1;
    std::string upload_id_;

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_;   // a part was queued, or the workers must stop
    std::condition_variable space_;  // a part finished
    std::deque<Part> queue_;
    int in_flight_ = 0;  // queued or being uploaded
    bool stopping_ = false;
    std::map<int, std::string> etags_;
    std::exception_ptr error_;         // the first part failure
    std::atomic<bool> failed_{false};  // error_ is set, or the upload is being aborted
};

class S3Store : public Store {
  public:
    explicit S3Store(std::shared_ptr<S3Connection> connection)
        : connection_(std::move(connection)) {}

    std::unique_ptr<ObjectUpload> create(const std::string &key) override {
        check_key(key);
        return std::make_unique<S3Upload>(connection_, key);
    }

    void read(const std::string &key, const ByteSink &sink) override {
        check_key(key);
        S3Request request;
        request.operation = "GetObject";
        request.subject = "object " + key;
        request.method = "GET";
        request.object_key = aws::bucket_key(connection_->config(), key);
        request.missing_key_is_not_found = true;
        connection_->execute(request, &sink);
    }

    std::vector<ObjectInfo> list(const std::string &prefix) override {
        const aws::S3Config &config = connection_->config();
        const std::string store_root = config.prefix.empty() ? "" : config.prefix + "/";
        std::vector<ObjectInfo> out;
        std::string token;
        do {
            S3Request request;
            request.operation = "ListObjectsV2";
            request.subject = "prefix \"" + prefix + "\"";
            request.method = "GET";
            request.query = {{"list-type", "2"}, {"prefix", store_root + prefix}};
            if (!token.empty()) request.query.emplace_back("continuation-token", token);
            if (config.list_page_size > 0)
                request.query.emplace_back("max-keys", std::to_string(config.list_page_size));
            aws::ListPage page;
            try {
                page = aws::parse_list_page(connection_->execute(request).body);
            } catch (const StoreError &) {
                throw;
            } catch (const std::exception &error) {
                throw StoreError("S3 ListObjectsV2 of prefix \"" + prefix + "\" in " +
                                 connection_->url() + " failed: " + error.what());
            }
            for (auto &object : page.objects) {
                // The server honours the prefix; a key outside it would be a server bug.
                if (object.key.compare(0, store_root.size(), store_root) != 0) continue;
                out.push_back({object.key.substr(store_root.size()), object.size});
            }
            token = page.truncated ? page.next_continuation_token : "";
        } while (!token.empty());
        std::sort(out.begin(), out.end(),
                  [](const ObjectInfo &a, const ObjectInfo &b) { return a.key < b.key; });
        return out;
    }

    void remove(const std::vector<std::string> &keys) override {
        constexpr size_t kBatch = 1000;  // DeleteObjects' limit
        for (size_t start = 0; start < keys.size(); start += kBatch) {
            const size_t end = std::min(keys.size(), start + kBatch);
            std::vector<std::string> batch;
            for (size_t i = start; i < end; ++i) {
                check_key(keys[i]);
                batch.push_back(aws::bucket_key(connection_->config(), keys[i]));
            }
            const std::string body = aws::delete_request_body(batch);
            S3Request request;
            request.operation = "DeleteObjects";
            request.subject = batch.size() == 1 ? "object " + keys[start]
                                                : std::to_string(batch.size()) + " objects (" +
                                                      keys[start] + " to " + keys[end - 1] + ")";
            request.method = "POST";
            request.query = {{"delete", ""}};
            request.headers = {{"Content-Type", "application/xml"},
                               {"Content-MD5", aws::content_md5(body)}};
            request.body = reinterpret_cast<const unsigned char *>(body.data());
            request.body_size = body.size();
            const auto failures = aws::parse_delete_failures(connection_->execute(request).body);
            if (failures.empty()) continue;
            std::string text = "S3 DeleteObjects in " + connection_->url() + " could not delete " +
                               std::to_string(failures.size()) + " object(s):";
            for (size_t i = 0; i < failures.size() && i < 5; ++i)
                text += " " + failures[i].key + " (" + failures[i].code + ": " +
                        failures[i].message + ")";
            if (failures.size() > 5) text += " ...";
            throw StoreError(text);
        }
    }

    std::vector<PendingUpload> pending_uploads(const std::string &prefix) override {
        const aws::S3Config &config = connection_->config();
        const std::string store_root = config.prefix.empty() ? "" : config.prefix + "/";
        std::vector<PendingUpload> out;
        std::string key_marker, upload_id_marker;
        for (;;) {
            S3Request request;
            request.operation = "ListMultipartUploads";
            request.subject = "prefix \"" + prefix + "\"";
            request.method = "GET";
            request.query = list_uploads_query(store_root + prefix, key_marker, upload_id_marker);
            UploadListingPage page;
            try {
                page = parse_upload_listing(connection_->execute(request).body);
            } catch (const StoreError &error) {
                // s3rver, for one, answers 501 NotImplemented.
                if (std::string(error.what()).find("HTTP 501") != std::string::npos)
                    throw OperationNotSupported(error.what());
                throw;
            } catch (const std::exception &error) {
                throw StoreError("S3 ListMultipartUploads of prefix \"" + prefix + "\" in " +
                                 connection_->url() + " failed: " + error.what());
            }
            for (auto &u : page.uploads) {
                if (u.key.compare(0, store_root.size(), store_root) != 0) continue;
                out.push_back(
                    {u.key.substr(store_root.size()), u.upload_id, u.initiated_epoch, u.initiated});
            }
            if (!page.truncated) break;
            if (page.next_key_marker == key_marker &&
                page.next_upload_id_marker == upload_id_marker)
                throw StoreError("S3 ListMultipartUploads of prefix \"" + prefix + "\" in " +
                                 connection_->url() + " returned the same page twice");
            key_marker = page.next_key_marker;
            upload_id_marker = page.next_upload_id_marker;
        }
        return out;
    }

    void abort_pending_upload(const PendingUpload &upload) override {
        check_key(upload.key);
        S3Request request;
        request.operation = "AbortMultipartUpload";
        request.subject = "object " + upload.key + " (upload id " + upload.handle + ")";
        request.method = "DELETE";
        request.object_key = aws::bucket_key(connection_->config(), upload.key);
        request.query = {{"uploadId", upload.handle}};
        try {
            connection_->execute(request);
        } catch (const StoreError &error) {
            // Aborted meanwhile (by a lifecycle rule, another prune): gone is what we wanted.
            if (std::string(error.what()).find("NoSuchUpload") == std::string::npos) throw;
        }
    }

    std::string url() const override { return connection_->url(); }

  private:
    void check_key(const std::string &key) const {
        if (key.empty() || key.front() == '/')
            throw StoreError("invalid object key \"" + key + "\" for " + connection_->url());
    }

    std::shared_ptr<S3Connection> connection_;
};

}  // namespace

std::unique_ptr<Store> make_s3_store(const std::string &url) {
    try {
        const aws::CredentialSources sources = aws::process_credential_sources();
        aws::S3Config config = aws::s3_config(url, aws::resolve_region(sources), sources.env);
        aws::Credentials credentials = aws::resolve_credentials(sources);
        return std::make_unique<S3Store>(
            std::make_shared<S3Connection>(std::move(config), std::move(credentials), url));
    } catch (const StoreError &) {
        throw;
    } catch (const std::exception &error) {
        throw StoreError("cannot open store " + url + ": " + error.what());
    }
}

}  // namespace pgmig::store
