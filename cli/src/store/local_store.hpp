// A store in a local folder: one file per object, written to a temporary name and renamed
// into place (after fsync) on commit, so a crash never leaves a half-written object under
// its real name.
#pragma once

#include "store/store.hpp"

namespace pgmig::store {

class LocalStore : public Store {
  public:
    LocalStore(std::string root, std::string url);
    std::unique_ptr<ObjectUpload> create(const std::string &key) override;
    void read(const std::string &key, const ByteSink &sink) override;
    std::vector<ObjectInfo> list(const std::string &prefix) override;
    void remove(const std::vector<std::string> &keys) override;
    // The temporary files ("<key>.<random>.partial") of writers that never committed.
    std::vector<PendingUpload> pending_uploads(const std::string &prefix) override;
    void abort_pending_upload(const PendingUpload &upload) override;
    std::string url() const override { return url_; }

  private:
    std::string path_of(const std::string &key) const;
    std::string root_;
    std::string url_;
};

}  // namespace pgmig::store
