// The text `pgmig monitor` draws from one migrate_activity() report. Pure, so the layout is
// unit-tested with hand-written reports.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace pgmig::ui {

// Whether the report shows any migration, rollback or backfill still at work.
bool activity_has_work(const nlohmann::json &report);

// The view: running sessions (statement, elapsed time, what each waits on and who blocks
// it), backfills with a progress bar, rate and ETA, then the server figures.
std::string render_activity(const nlohmann::json &report);

}  // namespace pgmig::ui
