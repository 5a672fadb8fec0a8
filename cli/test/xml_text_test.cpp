// S3 answers in XML and pgmig reads it with a tiny extractor: it must find the right elements
// in real responses and never crash or invent data on broken, truncated or tricky input.
#include "aws/xml_text.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace pgmig::aws;

TEST(XmlText, finds_the_text_of_an_element) {
    EXPECT_EQ(xml::first_text("<R><Code>NoSuchKey</Code></R>", "Code"), "NoSuchKey");
}

TEST(XmlText, reports_a_missing_element_as_absent_not_empty) {
    EXPECT_FALSE(xml::first_text("<R><Code>x</Code></R>", "Message").has_value());
    EXPECT_FALSE(xml::first_text("", "Code").has_value());
    EXPECT_FALSE(xml::first_text("no markup at all", "Code").has_value());
}

TEST(XmlText, matches_whole_element_names_only) {
    const std::string doc = "<R><KeyCount>2</KeyCount><MaxKeys>9</MaxKeys><Key>a</Key></R>";
    EXPECT_EQ(xml::first_text(doc, "Key"), "a");
    EXPECT_EQ(xml::first_text(doc, "KeyCount"), "2");
    EXPECT_FALSE(xml::first_text(doc, "Ke").has_value());
}

TEST(XmlText, decodes_entities_in_keys) {
    EXPECT_EQ(xml::first_text("<Key>a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;</Key>", "Key"),
              "a&b <c> \"d\" 'e'");
    EXPECT_EQ(xml::first_text("<Key>&amp;amp;</Key>", "Key"), "&amp;");  // decoded once only
}

TEST(XmlText, decodes_numeric_character_references_to_utf8) {
    EXPECT_EQ(xml::decode_entities("&#38;&#x26;&#X41;"), "&&A");
    EXPECT_EQ(xml::decode_entities("&#xE9;"), "\xC3\xA9");
    EXPECT_EQ(xml::decode_entities("&#x20AC;"), "\xE2\x82\xAC");
    EXPECT_EQ(xml::decode_entities("&#x1F600;"), "\xF0\x9F\x98\x80");
}

TEST(XmlText, keeps_broken_references_as_written) {
    for (const char *text : {"&", "a & b", "&amp", "&unknown;", "&#;", "&#x;", "&#xZZ;", "&#0;",
                             "&#xD800;", "&#x110000;", "&#99999999999999999999;", "&;", "& amp;"})
        EXPECT_EQ(xml::decode_entities(text), text) << text;
}

TEST(XmlText, lists_every_element_in_order) {
    const auto found =
        xml::elements("<L><C><K>1</K></C><C><K>2</K></C><X/><C><K>3</K></C></L>", "C");
    ASSERT_EQ(found.size(), 3u);
    EXPECT_EQ(found[0], "<K>1</K>");
    EXPECT_EQ(found[2], "<K>3</K>");
}

TEST(XmlText, reads_self_closing_and_attributed_elements) {
    EXPECT_EQ(xml::first_text("<R><Prefix/></R>", "Prefix"), "");
    EXPECT_EQ(xml::first_text("<R><Prefix /></R>", "Prefix"), "");
    EXPECT_EQ(
        xml::first_text("<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><A>1</A></R>", "A"),
        "1");
    EXPECT_EQ(xml::first_text("<R><A id=\"x>y\" b='</A>'>v</A></R>", "A"), "v");
}

TEST(XmlText, closes_nested_elements_of_the_same_name_at_the_right_tag) {
    const auto found = xml::elements("<A>x<A>y</A>z</A><A>w</A>", "A");
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0], "x<A>y</A>z");
    EXPECT_EQ(found[1], "w");
}

TEST(XmlText, ignores_tags_inside_comments_declarations_and_cdata) {
    const std::string doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!DOCTYPE R>"
        "<R><!-- <Key>fake</Key> --><![CDATA[<Key>fake2</Key>]]><Key>real</Key></R>";
    EXPECT_EQ(xml::first_text(doc, "Key"), "real");
    EXPECT_EQ(xml::elements(doc, "Key").size(), 1u);
}

TEST(XmlText, treats_truncated_documents_as_missing_what_is_cut_off) {
    const std::string doc = "<R><Key>a</Key><Key>b</Ke";
    const auto found = xml::elements(doc, "Key");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0], "a");
    EXPECT_FALSE(xml::first_text("<R><Key>never closed", "Key").has_value());
    EXPECT_FALSE(xml::first_text("<R><Key", "Key").has_value());
    EXPECT_FALSE(xml::first_text("<!-- <Key>x</Key>", "Key").has_value());
    EXPECT_FALSE(xml::first_text("<R><A b=\"unterminated><Key>x</Key></R>", "Key").has_value());
}

TEST(XmlText, survives_stray_angle_brackets_and_empty_tags) {
    EXPECT_EQ(xml::first_text("<<><>></><Key>k</Key>", "Key"), "k");
    EXPECT_EQ(xml::first_text("</Key><Key>k</Key>", "Key"), "k");  // a stray close first
}

TEST(XmlText, names_the_root_element) {
    EXPECT_EQ(xml::root_name("<?xml version=\"1.0\"?>\n<Error><Code>x</Code></Error>"), "Error");
    EXPECT_EQ(xml::root_name("<DeleteResult><Error/></DeleteResult>"), "DeleteResult");
    EXPECT_EQ(xml::root_name("not xml"), "");
    EXPECT_EQ(xml::root_name("</Error>"), "");
}

TEST(XmlText, escapes_text_so_that_it_reads_back_unchanged) {
    const std::string key = "a&b<c>\"d\"'e' f/g";
    EXPECT_EQ(xml::escape(key), "a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos; f/g");
    EXPECT_EQ(xml::first_text("<Key>" + xml::escape(key) + "</Key>", "Key"), key);
}
