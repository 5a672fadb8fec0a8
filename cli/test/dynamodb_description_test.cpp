// A DynamoDB table's shape travels in the manifest: what a restore needs to rebuild it (keys,
// indexes, billing), nothing that changes by itself, and no floating-point number, since the
// manifest's MAC needs one serialization.
#include "backup/dynamodb_backup.hpp"

#include "archive/object_codec.hpp"

#include <gtest/gtest.h>

using namespace pgmig::backup;
using nlohmann::json;

namespace {

// A DescribeTable "Table" of a provisioned table as AWS returns it: timestamps as floating
// point seconds, sizes, counters, ARNs and statuses everywhere.
json provisioned_orders_table() {
    return json::parse(R"({
      "TableName": "orders", "TableStatus": "ACTIVE", "TableSizeBytes": 123456, "ItemCount": 42,
      "TableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
      "TableId": "8f7e6d5c-1234", "CreationDateTime": 1.700000000123E9,
      "AttributeDefinitions": [
        {"AttributeName": "customer", "AttributeType": "S"},
        {"AttributeName": "placed_at", "AttributeType": "N"},
        {"AttributeName": "status", "AttributeType": "S"}],
      "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                    {"AttributeName": "placed_at", "KeyType": "RANGE"}],
      "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7,
        "NumberOfDecreasesToday": 1, "LastIncreaseDateTime": 1.7000001E9,
        "LastDecreaseDateTime": 1.7000002E9},
      "GlobalSecondaryIndexes": [{
        "IndexName": "by_status", "IndexStatus": "ACTIVE", "IndexSizeBytes": 99, "ItemCount": 3,
        "IndexArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by_status",
        "Backfilling": false,
        "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                      {"AttributeName": "placed_at", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3,
          "LastIncreaseDateTime": 1.7000003E9, "NumberOfDecreasesToday": 0}}],
      "LocalSecondaryIndexes": [{
        "IndexName": "by_status_local", "IndexSizeBytes": 10, "ItemCount": 1,
        "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                      {"AttributeName": "status", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"}}],
      "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"},
      "LatestStreamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/x",
      "SSEDescription": {"Status": "ENABLED", "InaccessibleEncryptionDateTime": 1.7E9}
    })");
}

json on_demand_events_table() {
    return json::parse(R"({
      "TableName": "events", "TableStatus": "ACTIVE", "CreationDateTime": 1.6E9,
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "B"},
                               {"AttributeName": "kind", "AttributeType": "S"}],
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST",
                             "LastUpdateToPayPerRequestDateTime": 1.6000001E9},
      "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0,
                                "NumberOfDecreasesToday": 0},
      "GlobalSecondaryIndexes": [{
        "IndexName": "by_kind", "IndexStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}}]
    })");
}

bool holds_a_float(const json &j) {
    if (j.is_number_float()) return true;
    if (j.is_structured())
        for (const auto &child : j)
            if (holds_a_float(child)) return true;
    return false;
}

}  // namespace

TEST(DynamoDescription, keeps_keys_indexes_and_units_and_drops_timestamps_counters_and_floats) {
    const json sanitized = sanitize_table_description("orders", provisioned_orders_table());
    const json expected = json::parse(R"({
      "AttributeDefinitions": [
        {"AttributeName": "customer", "AttributeType": "S"},
        {"AttributeName": "placed_at", "AttributeType": "N"},
        {"AttributeName": "status", "AttributeType": "S"}],
      "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                    {"AttributeName": "placed_at", "KeyType": "RANGE"}],
      "BillingMode": "PROVISIONED",
      "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
      "GlobalSecondaryIndexes": [{
        "IndexName": "by_status",
        "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                      {"AttributeName": "placed_at", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}}],
      "LocalSecondaryIndexes": [{
        "IndexName": "by_status_local",
        "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                      {"AttributeName": "status", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    })");
    EXPECT_EQ(sanitized, expected) << sanitized.dump(2);
    EXPECT_FALSE(holds_a_float(sanitized));
}

TEST(DynamoDescription, of_an_on_demand_table_records_the_billing_mode_and_no_units) {
    const json sanitized = sanitize_table_description("events", on_demand_events_table());
    EXPECT_EQ(sanitized["BillingMode"], "PAY_PER_REQUEST");
    EXPECT_FALSE(sanitized.contains("ProvisionedThroughput"));
    ASSERT_EQ(sanitized["GlobalSecondaryIndexes"].size(), 1u);
    EXPECT_FALSE(sanitized["GlobalSecondaryIndexes"][0].contains("ProvisionedThroughput"));
    EXPECT_FALSE(sanitized.contains("LocalSecondaryIndexes"));
    EXPECT_FALSE(holds_a_float(sanitized));
}

TEST(DynamoDescription, treats_a_table_without_billing_summary_and_zero_units_as_on_demand) {
    json table = on_demand_events_table();
    table.erase("BillingModeSummary");
    EXPECT_EQ(sanitize_table_description("events", table)["BillingMode"], "PAY_PER_REQUEST");
    table["ProvisionedThroughput"]["ReadCapacityUnits"] = 1;
    table["ProvisionedThroughput"]["WriteCapacityUnits"] = 1;
    EXPECT_EQ(sanitize_table_description("events", table)["BillingMode"], "PROVISIONED");
}

TEST(DynamoDescription, is_the_same_bytes_whenever_the_table_is_described_again) {
    // Another DescribeTable minutes later: new counters, sizes and timestamps. The manifest
    // body (and so its MAC) must not depend on them.
    json later = provisioned_orders_table();
    later["ItemCount"] = 4242;
    later["TableSizeBytes"] = 999999;
    later["ProvisionedThroughput"]["LastIncreaseDateTime"] = 1.8E9;
    later["GlobalSecondaryIndexes"][0]["IndexStatus"] = "UPDATING";
    EXPECT_EQ(sanitize_table_description("orders", provisioned_orders_table()).dump(),
              sanitize_table_description("orders", later).dump());
}

TEST(DynamoDescription, refuses_a_table_without_a_key_schema) {
    json table = on_demand_events_table();
    table.erase("KeySchema");
    try {
        sanitize_table_description("events", table);
        FAIL() << "expected an error";
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("events"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("KeySchema"), std::string::npos) << e.what();
    }
}

TEST(DynamoCreateTable, rebuilds_a_provisioned_table_with_its_indexes_under_the_new_name) {
    const json description = sanitize_table_description("orders", provisioned_orders_table());
    const json request = create_table_request(description, "orders", "orders_copy");
    EXPECT_EQ(request["TableName"], "orders_copy");
    EXPECT_EQ(request["BillingMode"], "PROVISIONED");
    EXPECT_EQ(request["ProvisionedThroughput"],
              json::parse(R"({"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})"));
    EXPECT_EQ(request["KeySchema"], description["KeySchema"]);
    EXPECT_EQ(request["AttributeDefinitions"], description["AttributeDefinitions"]);
    EXPECT_EQ(request["GlobalSecondaryIndexes"], description["GlobalSecondaryIndexes"]);
    EXPECT_EQ(request["LocalSecondaryIndexes"], description["LocalSecondaryIndexes"]);
}

TEST(DynamoCreateTable, rebuilds_an_on_demand_table_without_any_units) {
    const json description = sanitize_table_description("events", on_demand_events_table());
    const json request = create_table_request(description, "events", "events");
    EXPECT_EQ(request["BillingMode"], "PAY_PER_REQUEST");
    EXPECT_FALSE(request.contains("ProvisionedThroughput"));
    ASSERT_EQ(request["GlobalSecondaryIndexes"].size(), 1u);
    EXPECT_EQ(request["GlobalSecondaryIndexes"][0], json::parse(R"({"IndexName": "by_kind",
                              "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                              "Projection": {"ProjectionType": "ALL"}})"));
}

TEST(DynamoCreateTable, gives_a_provisioned_index_without_units_the_tables_units) {
    json description = sanitize_table_description("orders", provisioned_orders_table());
    description["GlobalSecondaryIndexes"][0].erase("ProvisionedThroughput");
    const json request = create_table_request(description, "orders", "orders");
    EXPECT_EQ(request["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"],
              request["ProvisionedThroughput"]);
}

TEST(DynamoCreateTable, names_the_field_of_a_description_it_cannot_use) {
    const json good = sanitize_table_description("orders", provisioned_orders_table());
    auto error_of = [](const json &description) -> std::string {
        try {
            create_table_request(description, "orders", "orders");
        } catch (const pgmig::archive::ArchiveError &e) {
            return e.what();
        }
        return "no error";
    };
    json bad = good;
    bad["BillingMode"] = "FREE";
    EXPECT_NE(error_of(bad).find("orders: description.BillingMode must be one of"),
              std::string::npos)
        << error_of(bad);
    bad = good;
    bad["ProvisionedThroughput"]["ReadCapacityUnits"] = 2.5;
    EXPECT_NE(error_of(bad).find("description.ProvisionedThroughput.ReadCapacityUnits"),
              std::string::npos)
        << error_of(bad);
    bad = good;
    bad["KeySchema"][0]["KeyType"] = "RANGE";
    EXPECT_NE(error_of(bad).find("description.KeySchema[0].KeyType"), std::string::npos)
        << error_of(bad);
    bad = good;
    bad["AttributeDefinitions"].erase(2);  // "status", a key of both indexes
    EXPECT_NE(error_of(bad).find("has no type for the key attribute status"), std::string::npos)
        << error_of(bad);
    bad = good;
    bad["GlobalSecondaryIndexes"][0]["Projection"]["ProjectionType"] = "SOME";
    EXPECT_NE(error_of(bad).find("description.GlobalSecondaryIndexes[0].Projection.ProjectionType"),
              std::string::npos)
        << error_of(bad);
}

TEST(DynamoKeySchema, of_the_same_keys_listed_in_another_order_is_no_difference) {
    const json backup = sanitize_table_description("orders", provisioned_orders_table());
    json live = provisioned_orders_table();
    std::swap(live["KeySchema"][0], live["KeySchema"][1]);
    EXPECT_EQ(key_schema_difference(backup, live), "");
}

TEST(DynamoKeySchema, names_another_key_attribute_or_type) {
    const json backup = sanitize_table_description("orders", provisioned_orders_table());
    json live = provisioned_orders_table();
    live["AttributeDefinitions"][1]["AttributeType"] = "S";
    EXPECT_EQ(key_schema_difference(backup, live),
              "its key is HASH customer (S), RANGE placed_at (S), the backup's is HASH "
              "customer (S), RANGE placed_at (N)");
    const json events = on_demand_events_table();
    EXPECT_EQ(key_schema_difference(backup, events),
              "its key is HASH id (B), the backup's is HASH customer (S), RANGE placed_at (N)");
}
