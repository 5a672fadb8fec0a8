// How pgmig testdata chooses a value for each column.
#include <gtest/gtest.h>

#include "testdata/value_expression.hpp"

using namespace pgmig::testdata;

namespace {

ColumnSpec column(const std::string &name, const std::string &type, char category,
                  bool not_null = true) {
    ColumnSpec c;
    c.name = name;
    c.quoted = name;
    c.type_sql = type;
    c.base_type = type;
    c.category = category;
    c.not_null = not_null;
    return c;
}

bool has(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST(TestDataValues, emails_look_like_emails_and_unique_ones_carry_row_and_batch) {
    auto c = column("email", "text", 'S');
    c.unique = true;
    const auto v = value_expression(c, "$3");
    EXPECT_TRUE(v.error.empty());
    EXPECT_TRUE(has(v.sql, "'user' || g::text || 'b' || $3 || '@example.com'")) << v.sql;
}

TEST(TestDataValues, varchar_is_cut_to_its_length_keeping_the_unique_row_number_first) {
    auto c = column("code", "varchar", 'S');
    c.type_sql = "character varying(8)";
    c.max_length = 8;
    c.unique = true;
    const auto v = value_expression(c, "$3");
    EXPECT_TRUE(has(v.sql, "left(g::text || 'b' || $3 || '-' ||")) << v.sql;
    EXPECT_TRUE(has(v.sql, ", 8))::character varying(8)")) << v.sql;
}

TEST(TestDataValues, nullable_columns_get_some_nulls_and_not_null_ones_never) {
    EXPECT_TRUE(has(value_expression(column("city", "text", 'S', false), "$3").sql,
                    "CASE WHEN random() < 0.1 THEN NULL"));
    EXPECT_FALSE(has(value_expression(column("city", "text", 'S', true), "$3").sql, "NULL"));
}

TEST(TestDataValues, unique_integers_count_up_from_the_current_maximum) {
    auto c = column("order_no", "int8", 'N');
    c.unique = true;
    c.unique_base_param = "$5";
    EXPECT_EQ(value_expression(c, "$3").sql, "(($5::bigint + g))::int8");
}

TEST(TestDataValues, numeric_respects_precision_and_scale) {
    auto c = column("price", "numeric", 'N');
    c.type_sql = "numeric(5,2)";
    c.precision = 5;
    c.scale = 2;
    EXPECT_EQ(value_expression(c, "$3").sql, "(round((random() * 999)::numeric, 2))::numeric(5,2)");
}

TEST(TestDataValues, a_check_in_list_supplies_the_values) {
    auto c = column("status", "text", 'S');
    c.allowed_values_param = "$4";
    EXPECT_EQ(value_expression(c, "$3").sql,
              "(($4::text[])[1 + floor(random() * cardinality($4::text[]))::int])::text");
}

TEST(TestDataValues, foreign_keys_use_the_sampled_parent) {
    auto c = column("customer_id", "int4", 'N');
    c.foreign_value = "fk1.\"id\"";
    EXPECT_EQ(value_expression(c, "$3").sql, "fk1.\"id\"");
}

TEST(TestDataValues, enums_pick_a_label_of_their_type) {
    auto c = column("mood", "mood", 'E');
    c.type_sql = "public.mood";
    EXPECT_TRUE(has(value_expression(c, "$3").sql, "enum_range(NULL::public.mood)"));
}

TEST(TestDataValues, types_it_cannot_make_are_null_when_allowed_and_an_error_otherwise) {
    EXPECT_EQ(value_expression(column("shape", "polygon", 'G', false), "$3").sql, "NULL");
    const auto v = value_expression(column("shape", "polygon", 'G', true), "$3");
    EXPECT_TRUE(v.sql.empty());
    EXPECT_TRUE(has(v.error, "cannot generate values of type polygon")) << v.error;
}

TEST(TestDataValues, a_unique_boolean_is_refused) {
    auto c = column("flag", "bool", 'B');
    c.unique = true;
    EXPECT_FALSE(value_expression(c, "$3").error.empty());
}

TEST(CheckAllowedValues, reads_in_lists_as_postgres_deparses_them) {
    EXPECT_EQ(check_allowed_values("(status = ANY (ARRAY['active'::text, 'banned'::text]))"),
              (std::vector<std::string>{"active", "banned"}));
    EXPECT_EQ(check_allowed_values("((kind)::text = ANY ((ARRAY['a b'::character varying, "
                                   "'it''s'::character varying])::text[]))"),
              (std::vector<std::string>{"a b", "it's"}));
    EXPECT_EQ(check_allowed_values("(level = ANY (ARRAY[1, 2, 3]))"),
              (std::vector<std::string>{"1", "2", "3"}));
    EXPECT_EQ(check_allowed_values("(status = 'x]'::text)"), (std::vector<std::string>{"x]"}));
}

TEST(CheckAllowedValues, ignores_anything_else) {
    EXPECT_FALSE(check_allowed_values("(age >= 21)"));
    EXPECT_FALSE(check_allowed_values("((a = 'x'::text) OR (b = 'y'::text))"));
    EXPECT_FALSE(check_allowed_values("(char_length(name) < 50)"));
}
