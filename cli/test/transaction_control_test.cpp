// A seed file runs inside pgmig's transaction: transaction control in it is refused.
#include "migrations/transaction_control.hpp"

#include <gtest/gtest.h>

using pgmig::migrations::first_transaction_control;
using pgmig::migrations::is_transaction_control;

TEST(TransactionControl, knows_every_tag_of_a_transaction_statement) {
    for (const char *tag :
         {"BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE",
          "PREPARE TRANSACTION", "COMMIT PREPARED", "ROLLBACK PREPARED"})
        EXPECT_TRUE(is_transaction_control(tag)) << tag;
    for (const char *tag : {"SET", "PREPARE", "INSERT", "CREATE TABLE", "DO", "CALL", ""})
        EXPECT_FALSE(is_transaction_control(tag)) << tag;
}

TEST(TransactionControl, names_the_first_such_statement_and_its_line) {
    const std::string sql = "CREATE TABLE s (a int);\r\n-- then\r\nCOMMIT;\nSELECT 1/0;\nEND;";
    auto found = first_transaction_control(
        sql, {{1, 1, "CREATE TABLE"}, {2, 35, "COMMIT"}, {3, 43, "SELECT"}, {4, 55, "COMMIT"}});
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, "statement 2 (line 3) is COMMIT");
    EXPECT_FALSE(first_transaction_control("SELECT 1;", {{1, 1, "SELECT"}}));
    EXPECT_FALSE(first_transaction_control("", {}));
}
