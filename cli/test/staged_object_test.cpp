// Objects that are written where nothing can be rolled back (DynamoDB) are staged first: the
// whole object is authenticated, bound to its place and hashed before any of it is used.
// Unfinished uploads older than a day are found and removed by prune.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <utime.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "backup/backup_catalog.hpp"
#include "backup/object_io.hpp"
#include "store/local_store.hpp"

namespace fs = std::filesystem;
using namespace pgmig;

namespace {

class StagedObjectTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() /
                ("pgmig-staged-test-" + std::to_string(std::random_device{}()));
        fs::create_directories(root_);
        store_ = std::make_unique<store::LocalStore>(root_.string(), "file://" + root_.string());
        key_.bytes.fill(9);
    }
    void TearDown() override { fs::remove_all(root_); }

    // One object of backup `id` at `path`, as a backup writes it, and its manifest entry.
    archive::ObjectEntry write(const std::string &id, const std::string &path,
                               const std::string &content) {
        backup::StoredObjectWriter out(*store_, id, path, key_, 3, 0);
        out.write(content.data(), content.size());
        return out.finish();
    }

    archive::Manifest manifest(const std::string &id) {
        archive::Manifest m;
        m.backup_id = id;
        return m;
    }

    fs::path root_;
    std::unique_ptr<store::LocalStore> store_;
    archive::BackupKey key_{};
};

const std::string kId = "20261122T035900Z-1a2b3c";
const std::string kOtherId = "20261115T035900Z-0f0f0f";

std::string lines(int n, const std::string &tag) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "{\"" + tag + "\":" + std::to_string(i) + "}\n";
    return s;
}

}  // namespace

TEST_F(StagedObjectTest, a_good_object_is_checked_once_and_read_again_from_the_stage) {
    const std::string content = lines(50000, "a");
    const archive::ObjectEntry e = write(kId, "ddb/0001.obj", content);
    std::string checked, read;
    backup::StagedObject staged(*store_, manifest(kId), e, key_,
                                [&](const unsigned char *d, size_t n) {
                                    checked.append(reinterpret_cast<const char *>(d), n);
                                });
    EXPECT_EQ(checked, content);
    EXPECT_EQ(staged.stored_bytes(), e.stored_bytes);
    // The staged copy lives on after the stored object is gone: the load reads only it.
    store_->remove({kId + "/ddb/0001.obj"});
    staged.read([&](const unsigned char *d, size_t n) {
        read.append(reinterpret_cast<const char *>(d), n);
    });
    EXPECT_EQ(read, content);
}

TEST_F(StagedObjectTest, another_backups_object_in_its_place_fails_before_anything_is_used) {
    const archive::ObjectEntry mine = write(kId, "ddb/0001.obj", lines(1000, "mine"));
    const archive::ObjectEntry theirs = write(kOtherId, "ddb/0001.obj", lines(1000, "theirs"));
    // Same key, same path, another backup: copied over ours.
    fs::copy_file(root_ / kOtherId / "ddb/0001.obj", root_ / kId / "ddb/0001.obj",
                  fs::copy_options::overwrite_existing);
    archive::ObjectEntry expected = mine;
    expected.stored_bytes = theirs.stored_bytes;  // even if the sizes agreed
    size_t used = 0;
    try {
        backup::StagedObject staged(*store_, manifest(kId), expected, key_,
                                    [&](const unsigned char *, size_t n) { used += n; });
        FAIL() << "a substituted object was staged";
    } catch (const archive::ArchiveError &e) {
        EXPECT_NE(std::string(e.what()).find("chunk 0 failed authentication"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(used, 0u);
}

TEST_F(StagedObjectTest, a_truncated_object_fails_while_staging) {
    const archive::ObjectEntry e = write(kId, "ddb/0001.obj", lines(200000, "a"));
    fs::resize_file(root_ / kId / "ddb/0001.obj", e.stored_bytes / 2);
    EXPECT_THROW(
        backup::StagedObject(*store_, manifest(kId), e, key_, [](const unsigned char *, size_t) {}),
        archive::ArchiveError);
}

TEST_F(StagedObjectTest, prune_removes_unfinished_uploads_older_than_a_day_and_only_those) {
    const auto folder = root_ / kId / "pg";
    fs::create_directories(folder);
    for (const char *name : {"0001.obj.123.partial", "0002.obj.456.partial"})
        std::ofstream(folder / name) << "half an object";
    std::ofstream(root_ / "not-a-backup.789.partial") << "someone else's";
    // The first was last written two days ago: its writer is gone.
    const time_t two_days_ago = time(nullptr) - 2 * 86400;
    const struct utimbuf old_times = {two_days_ago, two_days_ago};
    ASSERT_EQ(utime((folder / "0001.obj.123.partial").c_str(), &old_times), 0);
    utime((root_ / "not-a-backup.789.partial").c_str(), &old_times);

    const auto pending = store_->pending_uploads("");
    ASSERT_EQ(pending.size(), 3u);

    backup::PruneOptions opts;
    opts.dry_run = true;
    auto decided = backup::prune_abandoned_uploads(*store_, opts);
    ASSERT_EQ(decided.size(), 1u);
    EXPECT_EQ(decided[0].key, kId + "/pg/0001.obj");
    EXPECT_FALSE(decided[0].removed);
    EXPECT_TRUE(fs::exists(folder / "0001.obj.123.partial"));

    opts.dry_run = false;
    decided = backup::prune_abandoned_uploads(*store_, opts);
    ASSERT_EQ(decided.size(), 1u);
    EXPECT_TRUE(decided[0].removed);
    EXPECT_FALSE(fs::exists(folder / "0001.obj.123.partial"));
    EXPECT_TRUE(fs::exists(folder / "0002.obj.456.partial")) << "a young upload may be running";
    EXPECT_TRUE(fs::exists(root_ / "not-a-backup.789.partial")) << "not pgmig's";
}
