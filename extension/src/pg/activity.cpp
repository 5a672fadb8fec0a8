#include "pg/activity.hpp"

#include "pg/error.hpp"

extern "C" {
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
}

namespace pgm::pg {

void report_activity(const std::string &text) {
    const char *activity = text.c_str();
    guarded([activity] { pgstat_report_activity(STATE_RUNNING, activity); });
}

void restore_activity() {
    guarded([] {
        if (debug_query_string != nullptr)
            pgstat_report_activity(STATE_RUNNING, debug_query_string);
    });
}

}  // namespace pgm::pg
