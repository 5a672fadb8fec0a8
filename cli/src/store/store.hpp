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

// Thrown by read() when the object does not exist.
class ObjectNotFound : public StoreError {
  public:
    using StoreError::StoreError;
};

struct ObjectInfo {
    std::string key;  // relative to the store's root, '/'-separated
    uint64_t size = 0;
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
    // The store as the user named it (file:///dir, s3://bucket/prefix), for messages.
    virtual std::string url() const = 0;
};

// file:///absolute/dir (or file://relative/dir) and s3://bucket[/prefix]. Throws
// StoreError naming the URL and the accepted forms for anything else.
std::unique_ptr<Store> open_store(const std::string &url);

}  // namespace pgmig::store
