// store_probe: drives a Store (file:// or s3://) from the shell, for the integration tests.
//
//   store_probe URL put KEY FILE               upload FILE (a fifo works: it is streamed)
//   store_probe URL get KEY OUTFILE            download to OUTFILE
//   store_probe URL list [PREFIX]              print "key<TAB>size" lines
//   store_probe URL rm KEY...                  delete the keys
//   store_probe URL put-many PREFIX COUNT      COUNT small objects PREFIX000001, ... (each
//                                              holding its own key), for listing tests
//   store_probe URL put-fail-midway KEY FILE   upload half of FILE, then drop the upload as a
//                                              dying source would
//
// Exit status: 0 done, 1 the store failed (message on stderr), 2 usage, 3 object not found.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace {

using pgmig::store::ObjectNotFound;
using pgmig::store::Store;

// Not a multiple of any part size, so writes straddle part boundaries.
constexpr size_t kChunk = 300007;

int usage() {
    std::cerr << "usage: store_probe URL put KEY FILE | get KEY OUTFILE | list [PREFIX] | "
                 "rm KEY... | put-fail-midway KEY FILE | put-many PREFIX COUNT\n";
    return 2;
}

// Streams `path` into a new object; with `stop_after`, gives up once that many bytes went in.
int put(Store &store, const std::string &key, const std::string &path, long long stop_after) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::cerr << "store_probe: cannot open " << path << ": " << std::strerror(errno) << "\n";
        return 1;
    }
    auto upload = store.create(key);
    std::vector<char> buffer(kChunk);
    long long written = 0;
    while (in) {
        size_t want = buffer.size();
        if (stop_after >= 0 && written + static_cast<long long>(want) > stop_after)
            want = static_cast<size_t>(stop_after - written);
        in.read(buffer.data(), static_cast<std::streamsize>(want));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0 && want > 0) break;
        upload->write(reinterpret_cast<const unsigned char *>(buffer.data()), got);
        written += static_cast<long long>(got);
        if (stop_after >= 0 && written >= stop_after) {
            // The upload is destroyed uncommitted, as when the real source throws.
            std::cerr << "store_probe: the source failed after " << written
                      << " bytes (simulated); the upload is dropped\n";
            return 1;
        }
    }
    if (in.bad()) {
        std::cerr << "store_probe: cannot read " << path << "\n";
        return 1;
    }
    upload->commit();
    return 0;
}

int get(Store &store, const std::string &key, const std::string &path) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        std::cerr << "store_probe: cannot create " << path << "\n";
        return 1;
    }
    store.read(key, [&out](const unsigned char *data, size_t size) {
        out.write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(size));
    });
    out.close();
    if (!out) {
        std::cerr << "store_probe: cannot write " << path << "\n";
        return 1;
    }
    return 0;
}

int run(int argc, char **argv) {
    if (argc < 3) return usage();
    const std::string url = argv[1];
    const std::string command = argv[2];
    const std::vector<std::string> args(argv + 3, argv + argc);
    auto store = pgmig::store::open_store(url);
    if (command == "put" && args.size() == 2) return put(*store, args[0], args[1], -1);
    if (command == "put-fail-midway" && args.size() == 2) {
        const auto size = static_cast<long long>(std::filesystem::file_size(args[1]));
        return put(*store, args[0], args[1], size / 2);
    }
    if (command == "get" && args.size() == 2) return get(*store, args[0], args[1]);
    if (command == "list" && args.size() <= 1) {
        for (const auto &object : store->list(args.empty() ? "" : args[0]))
            std::cout << object.key << "\t" << object.size << "\n";
        return 0;
    }
    if (command == "put-many" && args.size() == 2) {
        const int count = std::stoi(args[1]);
        for (int i = 1; i <= count; ++i) {
            char key[512];
            std::snprintf(key, sizeof key, "%s%06d", args[0].c_str(), i);
            store->put(key, key);
        }
        return 0;
    }
    if (command == "rm" && !args.empty()) {
        store->remove(args);
        return 0;
    }
    return usage();
}

}  // namespace

int main(int argc, char **argv) {
    try {
        return run(argc, argv);
    } catch (const ObjectNotFound &error) {
        std::cerr << "store_probe: " << error.what() << "\n";
        return 3;
    } catch (const std::exception &error) {
        std::cerr << "store_probe: " << error.what() << "\n";
        return 1;
    }
}
