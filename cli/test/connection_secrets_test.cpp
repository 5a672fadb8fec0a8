// A connection string libpq refuses is never printed, nor is a password: libpq quotes the
// token it cannot parse, and that token is often the password.
#include "db/connection.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using pgmig::db::Connection;
using pgmig::db::conninfo_problem;
using pgmig::db::DbError;
using pgmig::db::printable_connection_error;

namespace {

constexpr const char *kPassword = "Sup3r%zzSecret";

// What pgmig prints when it cannot connect with `conninfo` (no server is needed: these fail
// before any connection attempt, or at an address nothing listens on).
std::string connect_error(const std::string &conninfo) {
    try {
        Connection conn(conninfo);
    } catch (const DbError &e) {
        return e.describe();
    }
    return "(connected)";
}

}  // namespace

TEST(ConninfoProblem, a_bad_percent_escape_in_a_url_password_is_described_not_quoted) {
    const std::string url = std::string("postgresql://deploy:") + kPassword + "@db1:5432/app";
    auto problem = conninfo_problem(url);
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("invalid percent-encoding"), std::string::npos) << *problem;
    EXPECT_EQ(problem->find("Sup3r"), std::string::npos) << *problem;
    EXPECT_EQ(problem->find("zz"), std::string::npos) << *problem;
}

TEST(ConninfoProblem, every_parse_error_is_described_without_the_string) {
    const char *bad[] = {
        "postgresql://u:pw%00Secret@h/db",      // %00
        "postgresql://u:Secret@h/db?Secret=1",  // unknown query parameter
        "postgresql://u:Secret@h/db?sslmode",   // no "="
        "postgresql://u:Secret@[::1/db",        // IPv6 bracket
        "host=h Secret",                        // no "="
        "host=h password='Secret",              // unterminated quote
        "host=h password=a Secret=b",           // a piece of the password as a keyword
    };
    for (const char *conninfo : bad) {
        auto problem = conninfo_problem(conninfo);
        ASSERT_TRUE(problem) << conninfo;
        EXPECT_EQ(problem->find("Secret"), std::string::npos) << conninfo << ": " << *problem;
    }
}

TEST(ConninfoProblem, an_unencoded_at_or_slash_in_a_url_password_is_refused) {
    // libpq reads these as host "Se@h" / port "pa" and would quote them when connecting.
    for (const char *url : {"postgresql://u:p@Se@h/db", "postgresql://u:pa/Secret@h:5432/db",
                            "postgresql://u:pa/Secret", "postgresql://u:pa?x@Se@h/db"}) {
        auto problem = conninfo_problem(url);
        ASSERT_TRUE(problem) << url;
        EXPECT_NE(problem->find("outside the URL syntax"), std::string::npos) << *problem;
        EXPECT_EQ(problem->find("Se"), std::string::npos) << *problem;
    }
}

TEST(ConninfoProblem, accepts_what_libpq_accepts) {
    EXPECT_FALSE(conninfo_problem(""));
    EXPECT_FALSE(conninfo_problem("app"));  // a database name, not a conninfo string
    EXPECT_FALSE(conninfo_problem("host=db1 dbname=app user=deploy password='a b'"));
    EXPECT_FALSE(conninfo_problem("postgresql://deploy:p%40ss%2Fw%25rd@db1:5432/app"));
    EXPECT_FALSE(conninfo_problem("postgres://deploy@db1,db2:5432,5433/app?sslmode=require"));
    EXPECT_FALSE(conninfo_problem("postgresql:///app?host=/var/run/postgresql"));
    EXPECT_FALSE(conninfo_problem("postgresql://u:pa?ss@db1/app"));
    EXPECT_FALSE(conninfo_problem("postgresql://h/my%40db"));
}

TEST(ConnectionError, a_url_libpq_refuses_is_never_printed_and_its_source_is_named) {
    const std::string url = std::string("postgresql://deploy:") + kPassword + "@127.0.0.1:1/app";
    ::unsetenv("DATABASE_URL");
    std::string error = connect_error(url);
    EXPECT_EQ(error.find("Sup3r"), std::string::npos) << error;
    EXPECT_NE(error.find("the connection URL in --db has invalid percent-encoding"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("%25"), std::string::npos) << error;  // the hint says how to write %
    ::setenv("DATABASE_URL", url.c_str(), 1);
    error = connect_error(url);
    ::unsetenv("DATABASE_URL");
    EXPECT_NE(error.find("in DATABASE_URL"), std::string::npos) << error;
    EXPECT_EQ(error.find("Sup3r"), std::string::npos) << error;
}

TEST(ConnectionError, a_password_echoed_by_a_failed_connection_is_hidden) {
    // libpq checks sslmode before it connects and quotes the value.
    const std::string error =
        connect_error("host=127.0.0.1 port=1 password=Sup3rSecret sslmode=Sup3rSecret");
    EXPECT_EQ(error.find("Sup3rSecret"), std::string::npos) << error;
    EXPECT_NE(error.find("invalid sslmode value"), std::string::npos) << error;
}

TEST(ConnectionError, hides_every_password_and_escapes_control_characters) {
    EXPECT_EQ(printable_connection_error("role \"Sekr1t\" and Sekr1t\x1b[2J\n", {"Sekr1t", ""}),
              "role \"********\" and ********\\x1b[2J");
    EXPECT_EQ(printable_connection_error("user \"*\"", {"*"}), "user \"********\"");
    EXPECT_EQ(printable_connection_error("failed:\n\tIs the server running?\n", {}),
              "failed:\n\tIs the server running?");
}
