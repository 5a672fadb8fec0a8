#include "store/local_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>

namespace fs = std::filesystem;

namespace pgmig::store {

namespace {

constexpr const char *kPartialSuffix = ".partial";

std::string errno_text() {
    return std::strerror(errno);
}

class LocalUpload : public ObjectUpload {
  public:
    LocalUpload(std::string final_path, std::string key)
        : final_path_(std::move(final_path)), key_(std::move(key)) {
        std::random_device rd;
        temp_path_ = final_path_ + "." + std::to_string(rd()) + kPartialSuffix;
        fs::create_directories(fs::path(final_path_).parent_path());
        fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd_ < 0)
            throw StoreError("cannot create " + temp_path_ + " for object " + key_ + ": " +
                             errno_text());
    }
    ~LocalUpload() override {
        if (fd_ >= 0) abort();
    }
    void write(const unsigned char *data, size_t size) override {
        while (size > 0) {
            const ssize_t n = ::write(fd_, data, size);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw StoreError("cannot write object " + key_ + " to " + temp_path_ + ": " +
                                 errno_text());
            }
            data += n;
            size -= static_cast<size_t>(n);
        }
    }
    void commit() override {
        if (::fsync(fd_) != 0)
            throw StoreError("cannot flush object " + key_ + ": " + errno_text());
        ::close(fd_);
        fd_ = -1;
        if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
            throw StoreError("cannot rename " + temp_path_ + " to " + final_path_ + ": " +
                             errno_text());
        // The rename is durable once the folder is flushed.
        const int dir = ::open(fs::path(final_path_).parent_path().c_str(), O_RDONLY | O_CLOEXEC);
        if (dir >= 0) {
            ::fsync(dir);
            ::close(dir);
        }
    }
    void abort() override {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        ::unlink(temp_path_.c_str());
    }

  private:
    std::string final_path_, temp_path_, key_;
    int fd_ = -1;
};

}  // namespace

LocalStore::LocalStore(std::string root, std::string url) : url_(std::move(url)) {
    // "/var/backups/app/" and "/var/backups/app" are one folder: compare paths normalized.
    fs::path p = fs::path(root).lexically_normal();
    if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
    root_ = p.string();
}

std::string LocalStore::path_of(const std::string &key) const {
    // Keys are made by pgmig, but a hostile manifest could name "../x": refuse it.
    if (key.empty() || key.front() == '/' || key.find("..") != std::string::npos ||
        key.find('\\') != std::string::npos)
        throw StoreError("invalid object key \"" + key + "\"");
    return (fs::path(root_) / key).string();
}

std::unique_ptr<ObjectUpload> LocalStore::create(const std::string &key) {
    return std::make_unique<LocalUpload>(path_of(key), key);
}

void LocalStore::read(const std::string &key, const ByteSink &sink) {
    const std::string path = path_of(key);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) throw ObjectNotFound("object " + key + " not found in " + url_);
        throw StoreError("cannot open object " + key + " (" + path + "): " + errno_text());
    }
    std::vector<unsigned char> buffer(1 << 20);
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            const std::string why = errno_text();
            ::close(fd);
            throw StoreError("cannot read object " + key + ": " + why);
        }
        if (n == 0) break;
        try {
            sink(buffer.data(), static_cast<size_t>(n));
        } catch (...) {
            ::close(fd);
            throw;
        }
    }
    ::close(fd);
}

std::vector<ObjectInfo> LocalStore::list(const std::string &prefix) {
    std::vector<ObjectInfo> out;
    if (!fs::is_directory(root_)) return out;
    // A backup running beside this listing renames and removes files under it: a file
    // gone between the directory read and its size is skipped, not an error.
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code fec;
        if (!it->is_regular_file(fec) || fec) continue;
        const uint64_t size = it->file_size(fec);
        if (fec) continue;
        const std::string key = it->path().lexically_relative(root_).generic_string();
        if (key.rfind(prefix, 0) != 0) continue;
        out.push_back({key, size});
    }
    if (ec) throw StoreError("cannot list " + root_ + ": " + ec.message());
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo &a, const ObjectInfo &b) { return a.key < b.key; });
    return out;
}

std::vector<PendingUpload> LocalStore::pending_uploads(const std::string &prefix) {
    std::vector<PendingUpload> out;
    const std::string suffix = kPartialSuffix;
    for (const auto &o : list(prefix)) {
        if (o.key.size() <= suffix.size() ||
            o.key.compare(o.key.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        // "<key>.<random digits>.partial"
        const std::string stem = o.key.substr(0, o.key.size() - suffix.size());
        const size_t dot = stem.rfind('.');
        if (dot == std::string::npos) continue;
        struct stat st {};
        if (::stat(path_of(o.key).c_str(), &st) != 0) continue;  // committed or gone meanwhile
        char when[32];
        std::tm tm{};
        gmtime_r(&st.st_mtime, &tm);
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        // Its age is that of its last write: a live writer keeps it young.
        out.push_back({stem.substr(0, dot), o.key, static_cast<int64_t>(st.st_mtime), when});
    }
    return out;
}

void LocalStore::abort_pending_upload(const PendingUpload &upload) {
    remove({upload.handle});
}

void LocalStore::remove(const std::vector<std::string> &keys) {
    for (const auto &key : keys) {
        const std::string path = path_of(key);
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw StoreError("cannot delete object " + key + ": " + errno_text());
        // Drop folders left empty, up to the root.
        std::error_code ec;
        for (fs::path dir = fs::path(path).parent_path();
             dir != fs::path(root_) && fs::is_empty(dir, ec) && !ec; dir = dir.parent_path())
            fs::remove(dir, ec);
    }
}

}  // namespace pgmig::store
