// Progress bars on stderr, drawn only when stderr is a terminal and the work has already
// taken more than a second (short commands stay quiet, and logs and pipes never see escape
// codes). The text helpers are pure so their output is unit-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace pgmig::ui {

// "[#########-----------]" of `width` cells for a fraction in [0, 1] (clamped).
std::string render_bar(double fraction, int width);

// "1,234,567"
std::string group_thousands(uint64_t n);

// "812 B", "1.5 KiB", "12.0 MiB", "3.25 GiB"
std::string format_bytes(uint64_t bytes);

// "45s", "3m05s", "2h01m"
std::string format_seconds(double seconds);

// One progress line: label, bar (when the total is known), done/total with the unit, rate
// and ETA. E.g. "generating public.users [####------] 40.0%  40,000/100,000 rows  80,000
// rows/s  ETA 1s". `bytes` formats the counts as sizes.
std::string progress_line(const std::string &label, uint64_t done, uint64_t total,
                          const std::string &unit, bool bytes, double elapsed_seconds);

class ProgressBar {
  public:
    // total 0 means unknown: the line shows the count and rate without a bar.
    ProgressBar(std::string label, uint64_t total, std::string unit, bool bytes = false);
    ~ProgressBar();
    ProgressBar(const ProgressBar &) = delete;
    ProgressBar &operator=(const ProgressBar &) = delete;

    void update(uint64_t done);
    void set_total(uint64_t total) { total_ = total; }
    void set_label(std::string label) { label_ = std::move(label); }
    // Erases the line (the command prints its own result afterwards).
    void finish();

    // Whether bars are drawn at all: stderr is a terminal and PGMIG_NO_PROGRESS is unset.
    static bool enabled();

  private:
    std::string label_;
    uint64_t total_;
    std::string unit_;
    bool bytes_;
    uint64_t done_ = 0;
    bool drawn_ = false;
    bool finished_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace pgmig::ui
