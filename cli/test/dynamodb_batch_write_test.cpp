// A restore writes every item of a DynamoDB backup or says how many it could not: items that
// BatchWriteItem leaves unprocessed, and whole batches that are throttled, go back into the
// queue and are sent again with growing backoff - none is ever dropped.
#include "backup/dynamodb_backup.hpp"

#include "exit_code.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace pgmig::backup;
using nlohmann::json;

namespace {

std::string item(int n) {
    return R"({"pk":{"S":"item-)" + std::to_string(n) + R"("},"n":{"N":")" + std::to_string(n) +
           R"("}})";
}

pgm::RetryPolicy policy(int max_retries) {
    pgm::RetryPolicy p;
    p.max_retries = max_retries;
    p.base_delay_ms = 50;
    p.max_delay_ms = 5000;
    return p;
}

// A fake DynamoDB: writes what `decide` lets through and reports the rest as unprocessed, or
// fails the whole attempt with `error`.
struct FakeTable {
    std::multiset<std::string> stored;
    std::vector<size_t> batch_sizes;
    std::vector<int> sleeps;
    // Given the attempt number (1-based) and the batch: how many items to write (from the
    // front), or -1 to answer with a throttling error.
    std::function<int(int, const std::vector<std::string> &)> decide;
    pgmig::aws::DynamoErrorInfo error{400, 0, "ProvisionedThroughputExceededException",
                                      "The level of configured provisioned throughput for the "
                                      "table was exceeded"};
    int attempts = 0;

    BatchWriteQueue queue(int max_retries) {
        return BatchWriteQueue(
            "orders", policy(max_retries),
            [this](const std::vector<std::string> &items) {
                ++attempts;
                batch_sizes.push_back(items.size());
                BatchAttempt a;
                const int n = decide(attempts, items);
                if (n < 0) {
                    a.failed = true;
                    a.error = error;
                    return a;
                }
                for (size_t i = 0; i < items.size(); ++i) {
                    if (static_cast<int>(i) < n)
                        stored.insert(items[i]);
                    else
                        a.unprocessed.push_back(items[i]);
                }
                return a;
            },
            [this](int ms) { sleeps.push_back(ms); }, [] { return 0.5; });
    }
};

}  // namespace

TEST(DynamoBatchWrite, sends_items_in_groups_of_25_and_flushes_the_rest) {
    FakeTable table;
    table.decide = [](int, const std::vector<std::string> &b) { return int(b.size()); };
    auto queue = table.queue(10);
    for (int i = 0; i < 60; ++i) queue.add(item(i));
    EXPECT_EQ(table.batch_sizes, (std::vector<size_t>{25, 25}));
    queue.flush();
    EXPECT_EQ(table.batch_sizes, (std::vector<size_t>{25, 25, 10}));
    EXPECT_EQ(queue.written(), 60u);
    EXPECT_EQ(queue.pending(), 0u);
    EXPECT_TRUE(table.sleeps.empty());
}

TEST(DynamoBatchWrite, sends_unprocessed_items_again_until_every_one_is_written) {
    FakeTable table;
    // Every other attempt writes only 7 of its items.
    table.decide = [](int attempt, const std::vector<std::string> &b) {
        return attempt % 2 == 1 ? std::min<int>(7, int(b.size())) : int(b.size());
    };
    auto queue = table.queue(10);
    std::multiset<std::string> all;
    for (int i = 0; i < 1000; ++i) {
        all.insert(item(i));
        queue.add(item(i));
    }
    queue.flush();
    EXPECT_EQ(table.stored, all);  // each item exactly once, none lost
    EXPECT_EQ(queue.written(), 1000u);
    EXPECT_FALSE(table.sleeps.empty());
    // A partial batch backs off before the next attempt: half of 50 ms plus half the jitter.
    EXPECT_EQ(table.sleeps.front(), pgm::backoff_delay_ms(policy(10), 1, 0.5));
}

TEST(DynamoBatchWrite, backs_off_longer_with_each_throttled_attempt_in_a_row) {
    FakeTable table;
    table.decide = [](int attempt, const std::vector<std::string> &b) {
        return attempt <= 4 ? -1 : int(b.size());
    };
    auto queue = table.queue(10);
    for (int i = 0; i < 25; ++i) queue.add(item(i));
    EXPECT_EQ(queue.written(), 25u);
    EXPECT_EQ(table.sleeps, (std::vector<int>{pgm::backoff_delay_ms(policy(10), 1, 0.5),
                                              pgm::backoff_delay_ms(policy(10), 2, 0.5),
                                              pgm::backoff_delay_ms(policy(10), 3, 0.5),
                                              pgm::backoff_delay_ms(policy(10), 4, 0.5)}));
    EXPECT_EQ(table.stored.size(), 25u);
}

TEST(DynamoBatchWrite, gives_up_after_max_retries_attempts_without_progress_and_keeps_the_count) {
    FakeTable table;
    // The first batch goes through; then the table is throttled for good.
    table.decide = [](int attempt, const std::vector<std::string> &b) {
        return attempt == 1 ? int(b.size()) : -1;
    };
    auto queue = table.queue(3);
    for (int i = 0; i < 25; ++i) queue.add(item(i));
    for (int i = 25; i < 40; ++i) queue.add(item(i));
    try {
        queue.flush();
        FAIL() << "expected the queue to give up";
    } catch (const pgmig::aws::DynamoError &e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("BatchWriteItem on table orders wrote nothing in 4 attempts"),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("ProvisionedThroughputExceededException"), std::string::npos) << what;
        EXPECT_TRUE(e.retryable());
    }
    EXPECT_EQ(table.attempts, 1 + 4);  // the first try and max_retries retries
    EXPECT_EQ(queue.written(), 25u);
    EXPECT_EQ(queue.pending(), 15u);  // not dropped: still waiting, counted as not written
    EXPECT_EQ(table.sleeps.size(), 3u);
}

TEST(DynamoBatchWrite, keeps_going_while_throttled_batches_still_write_something) {
    FakeTable table;
    // Heavy throttling: each attempt writes just one item. Slow, but never a reason to stop.
    table.decide = [](int, const std::vector<std::string> &b) { return b.empty() ? 0 : 1; };
    auto queue = table.queue(2);
    for (int i = 0; i < 30; ++i) queue.add(item(i));
    queue.flush();
    EXPECT_EQ(queue.written(), 30u);
    EXPECT_EQ(table.stored.size(), 30u);
    // The backoff grows while attempts stay incomplete, up to the cap.
    EXPECT_EQ(table.sleeps.back(), pgm::backoff_delay_ms(policy(2), 29, 0.5));
}

TEST(DynamoBatchWrite, stops_at_once_on_an_error_that_retrying_cannot_fix) {
    FakeTable table;
    table.error = {400, 0, "ValidationException",
                   "Item size has exceeded the maximum allowed size"};
    table.decide = [](int, const std::vector<std::string> &) { return -1; };
    auto queue = table.queue(10);
    for (int i = 0; i < 24; ++i) queue.add(item(i));
    try {
        queue.flush();
        FAIL() << "expected an error";
    } catch (const pgmig::aws::DynamoError &e) {
        EXPECT_NE(std::string(e.what()).find("ValidationException: Item size has exceeded"),
                  std::string::npos)
            << e.what();
        EXPECT_FALSE(e.retryable());
    }
    EXPECT_EQ(table.attempts, 1);
    EXPECT_EQ(queue.written(), 0u);
    EXPECT_EQ(queue.pending(), 24u);
}

TEST(DynamoBatchWrite, puts_a_responses_unprocessed_items_back_in_the_retry_queue) {
    const std::string response = R"({"UnprocessedItems": {"orders": [
        {"PutRequest": {"Item": {"pk": {"S": "b"}, "list": {"L": [{"N": "1"}, {"NULL": true}]}}}},
        {"PutRequest": {"Item": {"pk": {"S": "a"}, "bin": {"B": "AAEC"}}}}]}})";
    EXPECT_EQ(
        unprocessed_put_items(response, "orders"),
        (std::vector<std::string>{R"({"pk":{"S":"b"},"list":{"L":[{"N":"1"},{"NULL":true}]}})",
                                  R"({"pk":{"S":"a"},"bin":{"B":"AAEC"}})"}));
    EXPECT_TRUE(unprocessed_put_items(R"({"UnprocessedItems": {}})", "orders").empty());
    EXPECT_TRUE(unprocessed_put_items(R"({})", "orders").empty());
}

TEST(DynamoBatchWrite, refuses_unprocessed_items_it_did_not_send) {
    EXPECT_THROW(
        unprocessed_put_items(R"({"UnprocessedItems": {"other": [{"PutRequest": {"Item": {}}}]}})",
                              "orders"),
        std::runtime_error);
    EXPECT_THROW(
        unprocessed_put_items(
            R"({"UnprocessedItems": {"orders": [{"DeleteRequest": {"Key": {}}}]}})", "orders"),
        std::runtime_error);
    EXPECT_THROW(unprocessed_put_items("<html>busy</html>", "orders"), std::runtime_error);
}

TEST(DynamoBatchWrite, request_puts_each_item_as_it_was_backed_up) {
    const std::vector<std::string> items = {item(1), item(2)};
    const json request = json::parse(batch_write_request("my.table-1", items));
    ASSERT_EQ(request["RequestItems"]["my.table-1"].size(), 2u);
    EXPECT_EQ(request["RequestItems"]["my.table-1"][1]["PutRequest"]["Item"], json::parse(item(2)));
}

TEST(DynamoRename, maps_old_names_to_new_ones) {
    const auto renames = parse_dynamodb_renames({"orders=orders_copy", "events=events.v2"});
    EXPECT_EQ(renames.at("orders"), "orders_copy");
    EXPECT_EQ(renames.at("events"), "events.v2");
}

TEST(DynamoRename, rejects_malformed_or_invalid_names_and_twice_renamed_tables) {
    EXPECT_THROW(parse_dynamodb_renames({"orders"}), pgmig::UsageError);
    EXPECT_THROW(parse_dynamodb_renames({"orders=a=b"}), pgmig::UsageError);
    EXPECT_THROW(parse_dynamodb_renames({"orders=x"}), pgmig::UsageError);  // too short
    EXPECT_THROW(parse_dynamodb_renames({"orders=bad name"}), pgmig::UsageError);
    EXPECT_THROW(parse_dynamodb_renames({"orders=one", "orders=two"}), pgmig::UsageError);
}
