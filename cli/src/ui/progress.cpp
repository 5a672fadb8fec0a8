#include "ui/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace pgmig::ui {

std::string render_bar(double fraction, int width) {
    if (!(fraction >= 0)) fraction = 0;  // also NaN
    fraction = std::min(fraction, 1.0);
    const int filled = static_cast<int>(std::floor(fraction * width));
    return "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]";
}

std::string group_thousands(uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string format_bytes(uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes) / 1024;
    int u = 0;
    while (value >= 1024 && u < 3) {
        value /= 1024;
        ++u;
    }
    char text[32];
    std::snprintf(text, sizeof text, value < 10 && u >= 2 ? "%.2f %s" : "%.1f %s", value, units[u]);
    return text;
}

std::string format_seconds(double seconds) {
    if (!(seconds >= 0)) seconds = 0;
    const long s = std::lround(seconds);
    char text[32];
    if (s < 60)
        std::snprintf(text, sizeof text, "%lds", s);
    else if (s < 3600)
        std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    return text;
}

std::string progress_line(const std::string &label, uint64_t done, uint64_t total,
                          const std::string &unit, bool bytes, double elapsed_seconds) {
    auto count = [bytes](uint64_t n) { return bytes ? format_bytes(n) : group_thousands(n); };
    std::string line = label;
    if (total > 0) {
        const double fraction = static_cast<double>(done) / static_cast<double>(total);
        char percent[16];
        std::snprintf(percent, sizeof percent, "%5.1f%%", std::min(fraction, 1.0) * 100);
        line += " " + render_bar(fraction, 24) + " " + percent + "  " + count(done) + "/" +
                count(total);
    } else {
        line += "  " + count(done);
    }
    if (!unit.empty()) line += " " + unit;
    if (elapsed_seconds > 0 && done > 0) {
        const double rate = static_cast<double>(done) / elapsed_seconds;
        line += "  " + (bytes ? format_bytes(static_cast<uint64_t>(rate)) + "/s"
                              : group_thousands(static_cast<uint64_t>(rate)) + " " +
                                    (unit.empty() ? std::string("per") : unit) + "/s");
        if (total > done) line += "  ETA " + format_seconds((total - done) / rate);
    }
    return line;
}

bool ProgressBar::enabled() {
    static const bool on = isatty(STDERR_FILENO) && std::getenv("PGMIG_NO_PROGRESS") == nullptr;
    return on;
}

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit, bool bytes)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      bytes_(bytes),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
    finish();
}

void ProgressBar::update(uint64_t done) {
    done_ = done;
    if (finished_ || !enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    // Quiet for the first second, then at most ten redraws a second.
    if (now - start_ < std::chrono::seconds(1)) return;
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    drawn_ = true;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    std::cerr << "\r\x1b[2K" << progress_line(label_, done_, total_, unit_, bytes_, elapsed)
              << std::flush;
}

void ProgressBar::finish() {
    if (finished_) return;
    finished_ = true;
    if (drawn_) std::cerr << "\r\x1b[2K" << std::flush;
}

}  // namespace pgmig::ui
