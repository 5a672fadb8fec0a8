// A store in an S3 bucket (or any S3-compatible server). Every request is signed with SigV4
// and retried with backoff when S3 throttles or the connection fails. Objects larger than
// one part (8 MiB by default) are sent as multipart uploads, four parts at a time, so memory
// stays bounded at five parts whatever the object's size. Configuration: aws/s3_config.hpp.
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace pgmig::store {

// The store at s3://bucket[/prefix], with credentials and region found as the AWS CLI finds
// them. Throws StoreError when the URL, the environment or the credentials are unusable.
std::unique_ptr<Store> make_s3_store(const std::string &url);

}  // namespace pgmig::store
