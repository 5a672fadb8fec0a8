// Where backups live. The backup logic talks only to this interface, so it never knows
// whether it writes to a local folder or to S3 (open_store picks the driver from the URL).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgmig::store {

// A store operation that failed: what, on which object, and why.
class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Thrown when the store's server does not implement an operation (an S3-compatible server
// without ListMultipartUploads, say).
class OperationNotSupported : public StoreError {
  public:
    using StoreError::StoreError;
};

// Thrown by read() when the object does not exist.
class ObjectNotFound : public StoreError {
  public:
    using StoreError::StoreError;
};

struct ObjectInfo {
    std::string key;  // relative to the store's root, '/'-separated
    uint64_t size = 0;
};

// An upload that was started and neither committed nor aborted: its writer died (killed,
// out of power). Its bytes take space (an S3 multipart upload's parts are billed) until
// they are removed.
struct PendingUpload {
    std::string key;         // the object it was meant to become, relative to the store's root
    std::string handle;      // the store's own name for it: an S3 upload id, a temporary file
    int64_t started = 0;     // seconds since the epoch
    std::string started_at;  // as the store reported it, for messages
};

using ByteSink = std::function<void(const unsigned char *data, size_t size)>;

// An object being written. Nothing is visible under its key until commit() returns; an
// upload that is destroyed without commit() is aborted (parts and temporary files removed).
class ObjectUpload {
  public:
    virtual ~ObjectUpload() = default;
    virtual void write(const unsigned char *data, size_t size) = 0;
    virtual void commit() = 0;
    virtual void abort() = 0;
};

class Store {
  public:
    virtual ~Store() = default;
    virtual std::unique_ptr<ObjectUpload> create(const std::string &key) = 0;
    // Small objects (manifests) in one call.
    virtual void put(const std::string &key, const std::string &content);
    // Streams the object's bytes to `sink`, in pieces of any size.
    virtual void read(const std::string &key, const ByteSink &sink) = 0;
    virtual std::string get(const std::string &key);
    // Every object whose key starts with `prefix`, sorted by key.
    virtual std::vector<ObjectInfo> list(const std::string &prefix) = 0;
    // Deletes the objects; keys that do not exist are ignored.
    virtual void remove(const std::vector<std::string> &keys) = 0;
    // Unfinished uploads whose key starts with `prefix`, including those of running
    // writers: callers decide by age. Throws OperationNotSupported when the server cannot
    // list them.
    virtual std::vector<PendingUpload> pending_uploads(const std::string &prefix) = 0;
    // Removes an unfinished upload and what it stored; one already gone is not an error.
    virtual void abort_pending_upload(const PendingUpload &upload) = 0;
    // The store as the user named it (file:///dir, s3://bucket/prefix), for messages.
    virtual std::string url() const = 0;
};

// file:///absolute/dir (or file://relative/dir) and s3://bucket[/prefix]. Throws
// StoreError naming the URL and the accepted forms for anything else.
std::unique_ptr<Store> open_store(const std::string &url);

}  // namespace pgmig::store
