// A migration that loses a lock race (lock timeout or deadlock) is retried a bounded number
// of times, waiting longer each time, with jitter so that many deployers do not collide again.
#include <gtest/gtest.h>

#include <climits>
#include <limits>

#include "retry_policy.hpp"

namespace {

pgm::RetryPolicy policy(int max_retries, int base_delay_ms, int max_delay_ms) {
    pgm::RetryPolicy p;
    p.max_retries = max_retries;
    p.base_delay_ms = base_delay_ms;
    p.max_delay_ms = max_delay_ms;
    return p;
}

// Just below 1, the top of the [0, 1) range a random source produces.
constexpr double kAlmostOne = 1.0 - 1e-9;

TEST(RetryableSqlstate, is_lock_not_available_or_deadlock_detected) {
    EXPECT_TRUE(pgm::is_retryable_sqlstate("55P03"));
    EXPECT_TRUE(pgm::is_retryable_sqlstate("40P01"));
}

TEST(RetryableSqlstate, is_nothing_else) {
    for (const char *state :
         {"", "00000", "23505", "42P01", "40001", "57014", "55P0", "55p03", "55P03 ", "40P01x"})
        EXPECT_FALSE(pgm::is_retryable_sqlstate(state)) << "SQLSTATE \"" << state << "\"";
}

TEST(MayRetry, allows_a_retry_after_each_attempt_up_to_max_retries) {
    const auto p = policy(3, 100, 10000);
    for (int attempts_done = 1; attempts_done <= 3; ++attempts_done)
        EXPECT_TRUE(pgm::may_retry(p, attempts_done, "55P03")) << "after attempt " << attempts_done;
    EXPECT_FALSE(pgm::may_retry(p, 4, "55P03"));
    EXPECT_FALSE(pgm::may_retry(p, 5, "40P01"));
}

TEST(MayRetry, never_retries_when_max_retries_is_zero) {
    const auto p = policy(0, 100, 10000);
    EXPECT_FALSE(pgm::may_retry(p, 1, "55P03"));
    EXPECT_FALSE(pgm::may_retry(p, 1, "40P01"));
}

TEST(MayRetry, never_retries_a_non_retryable_error) {
    const auto p = policy(5, 100, 10000);
    EXPECT_FALSE(pgm::may_retry(p, 1, "23505"));
    EXPECT_FALSE(pgm::may_retry(p, 1, "42P01"));
}

TEST(MayRetry, does_not_count_before_the_first_attempt) {
    EXPECT_FALSE(pgm::may_retry(policy(5, 100, 10000), 0, "55P03"));
}

TEST(BackoffDelay, with_no_jitter_is_half_the_exponentially_grown_delay) {
    const auto p = policy(10, 100, 100000);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 1, 0.0), 50);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 2, 0.0), 100);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 3, 0.0), 200);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 4, 0.0), 400);
}

TEST(BackoffDelay, with_full_jitter_approaches_the_grown_delay) {
    const auto p = policy(10, 100, 100000);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 1, kAlmostOne), 99);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 3, kAlmostOne), 399);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 3, 0.5), 300);
}

TEST(BackoffDelay, grows_with_each_retry) {
    const auto p = policy(10, 100, 100000);
    for (int retry = 1; retry < 10; ++retry)
        EXPECT_LT(pgm::backoff_delay_ms(p, retry, 0.0), pgm::backoff_delay_ms(p, retry + 1, 0.0))
            << "retry " << retry;
}

TEST(BackoffDelay, is_capped_at_max_delay) {
    const auto p = policy(30, 100, 10000);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 20, 0.0), 5000);
    EXPECT_LE(pgm::backoff_delay_ms(p, 20, kAlmostOne), 10000);
    EXPECT_GE(pgm::backoff_delay_ms(p, 20, kAlmostOne), 9999);
    for (int retry = 1; retry <= 30; ++retry)
        EXPECT_LE(pgm::backoff_delay_ms(p, retry, kAlmostOne), 10000) << "retry " << retry;
}

TEST(BackoffDelay, survives_huge_retry_numbers_without_overflow) {
    const auto p = policy(INT_MAX, 100, 10000);
    for (int retry : {31, 64, 1000, INT_MAX - 1, INT_MAX}) {
        const int delay = pgm::backoff_delay_ms(p, retry, 0.0);
        EXPECT_EQ(delay, 5000) << "retry " << retry;
    }
    const auto unbounded = policy(INT_MAX, INT_MAX, INT_MAX);
    const int delay = pgm::backoff_delay_ms(unbounded, INT_MAX, kAlmostOne);
    EXPECT_GT(delay, 0);
    EXPECT_GE(delay, INT_MAX / 2);
}

TEST(BackoffDelay, is_never_negative) {
    EXPECT_GE(pgm::backoff_delay_ms(policy(5, -100, 10000), 3, 0.5), 0);
    EXPECT_GE(pgm::backoff_delay_ms(policy(5, 100, -1), 3, 0.5), 0);
    EXPECT_GE(pgm::backoff_delay_ms(policy(5, 100, 10000), 0, 0.5), 0);
    EXPECT_GE(pgm::backoff_delay_ms(policy(5, 100, 10000), -7, 0.5), 0);
    EXPECT_GE(pgm::backoff_delay_ms(policy(5, 100, 10000), 3, -2.0), 0);
}

TEST(BackoffDelay, treats_a_retry_number_below_one_as_the_first_retry) {
    const auto p = policy(5, 100, 10000);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 0, 0.0), pgm::backoff_delay_ms(p, 1, 0.0));
    EXPECT_EQ(pgm::backoff_delay_ms(p, INT_MIN, 0.0), pgm::backoff_delay_ms(p, 1, 0.0));
}

TEST(BackoffDelay, clamps_a_random_value_outside_the_unit_range) {
    const auto p = policy(5, 100, 10000);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 3, -0.5), 200);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 3, 7.0), 400);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 3, std::numeric_limits<double>::infinity()), 400);
    EXPECT_EQ(pgm::backoff_delay_ms(p, 3, -std::numeric_limits<double>::infinity()), 200);
}

}  // namespace
