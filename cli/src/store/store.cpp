#include "store/store.hpp"

#include "store/local_store.hpp"
#include "store/s3_store.hpp"

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
    if (url.rfind("s3://", 0) == 0) return make_s3_store(url);
    throw StoreError("unsupported store URL \"" + url +
                     "\": use file:///path/to/dir or s3://bucket/prefix");
}

}  // namespace pgmig::store
