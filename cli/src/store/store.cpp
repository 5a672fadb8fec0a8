#include "store/store.hpp"

#include "store/local_store.hpp"
#if __has_include("store/s3_store.hpp")  // TEMPORARY until the S3 store lands
#include "store/s3_store.hpp"
#define PGMIG_HAVE_S3 1
#endif

namespace pgmig::store {

void Store::put(const std::string &key, const std::string &content) {
    auto upload = create(key);
    upload->write(reinterpret_cast<const unsigned char *>(content.data()), content.size());
    upload->commit();
}

std::string Store::get(const std::string &key) {
    std::string out;
    read(key, [&out](const unsigned char *data, size_t size) {
        out.append(reinterpret_cast<const char *>(data), size);
    });
    return out;
}

std::unique_ptr<Store> open_store(const std::string &url) {
    if (url.rfind("file://", 0) == 0) {
        const std::string path = url.substr(7);
        if (path.empty()) throw StoreError("store URL " + url + " has no folder: use file:///dir");
        return std::make_unique<LocalStore>(path, url);
    }
#ifdef PGMIG_HAVE_S3
    if (url.rfind("s3://", 0) == 0) return make_s3_store(url);
#else
    if (url.rfind("s3://", 0) == 0) throw StoreError("s3:// stores are not in this build yet");
#endif
    throw StoreError("unsupported store URL \"" + url +
                     "\": use file:///path/to/dir or s3://bucket/prefix");
}

}  // namespace pgmig::store
