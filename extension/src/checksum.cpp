#include "checksum.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "cpp_only.hpp"  // last: no PostgreSQL in this file

namespace pgm {

std::string normalize_script(std::string_view script) {
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (script.substr(0, kBom.size()) == kBom) script.remove_prefix(kBom.size());
    std::string out;
    out.reserve(script.size());
    for (size_t i = 0; i < script.size(); ++i) {
        char c = script[i];
        if (c == '\r') {
            out.push_back('\n');
            if (i + 1 < script.size() && script[i + 1] == '\n') ++i;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 computation failed in OpenSSL");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        hex.push_back(kHex[digest[i] >> 4]);
        hex.push_back(kHex[digest[i] & 0xF]);
    }
    return hex;
}

std::string script_checksum(std::string_view script) {
    return sha256_hex(normalize_script(script));
}

}  // namespace pgm
