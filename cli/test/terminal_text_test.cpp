// Names and messages from outside reach the terminal with control characters escaped.
#include "migrations/terminal_text.hpp"

#include <gtest/gtest.h>

using pgmig::migrations::escape_for_terminal;
using pgmig::migrations::first_unsafe_character;
using pgmig::migrations::utf8_char_length;

TEST(Utf8CharLength, measures_well_formed_characters) {
    EXPECT_EQ(utf8_char_length("a", 0), 1u);
    EXPECT_EQ(utf8_char_length("\xc3\xa9", 0), 2u);
    EXPECT_EQ(utf8_char_length("\xe2\x82\xac", 0), 3u);
    EXPECT_EQ(utf8_char_length("\xf0\x9f\x90\x98", 0), 4u);
    EXPECT_EQ(utf8_char_length("\xf4\x8f\xbf\xbf", 0), 4u);  // U+10FFFF
}

TEST(Utf8CharLength, refuses_what_postgresql_refuses) {
    EXPECT_EQ(utf8_char_length("\xe9", 0), 0u);
    EXPECT_EQ(utf8_char_length("\xc1\xbf", 0), 0u);
    EXPECT_EQ(utf8_char_length("\xe0\x80\xaf", 0), 0u);
    EXPECT_EQ(utf8_char_length("\xed\xbf\xbf", 0), 0u);
    EXPECT_EQ(utf8_char_length("\xf4\x90\x80\x80", 0), 0u);
    EXPECT_EQ(utf8_char_length("\xf8\x88\x80\x80\x80", 0), 0u);
    EXPECT_EQ(utf8_char_length("\xe2\x82", 0), 0u);
    EXPECT_EQ(utf8_char_length("\xe2\x28\xa1", 0), 0u);
}

TEST(EscapeForTerminal, escapes_c0_del_c1_bidi_and_stray_bytes_only) {
    EXPECT_EQ(escape_for_terminal("plain caf\xc3\xa9 \\ name.sql"),
              "plain caf\xc3\xa9 \\ name.sql");
    EXPECT_EQ(escape_for_terminal("a\x1b[31mb\x07"), "a\\x1b[31mb\\x07");
    EXPECT_EQ(escape_for_terminal("a\x7f"), "a\\x7f");
    EXPECT_EQ(escape_for_terminal("a\xc2\x9b"
                                  "1m"),
              "a\\u009b1m");
    EXPECT_EQ(escape_for_terminal("a\xe2\x80\xae"
                                  "b"),
              "a\\u202eb");
    EXPECT_EQ(escape_for_terminal("caf\xe9"), "caf\\xe9");
    EXPECT_EQ(escape_for_terminal(std::string("a\0b", 3)), "a\\x00b");
}

TEST(EscapeForTerminal, keeps_line_breaks_in_messages_but_not_in_names) {
    EXPECT_EQ(escape_for_terminal("one\n\ttwo\r", true), "one\n\ttwo\\x0d");
    EXPECT_EQ(escape_for_terminal("one\n\ttwo"), "one\\x0a\\x09two");
}

TEST(FirstUnsafeCharacter, finds_the_first_or_nothing) {
    EXPECT_EQ(first_unsafe_character("fine.sql"), "");
    EXPECT_EQ(first_unsafe_character("a\x1b\x07"), "\\x1b");
    EXPECT_EQ(first_unsafe_character("a\xff\x1b"), "\\xff");
}
