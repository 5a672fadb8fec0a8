// What pg_stat_activity shows for this backend while a migration runs. A migration runs
// inside one `SELECT migrate_execute()`, so without this another session (pgmig monitor,
// migrate_activity()) could only see that call, not which migration and statement it is on.
#pragma once

#include <string>

namespace pgm::pg {

// Shows `text` as this backend's query in pg_stat_activity (truncated by the server to
// track_activity_query_size). Does nothing when track_activities is off.
void report_activity(const std::string &text);

// Shows the client's own query text again.
void restore_activity();

}  // namespace pgm::pg
