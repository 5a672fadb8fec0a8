#include "pg/row_trigger.hpp"

extern "C" {
#include "commands/trigger.h"
}

namespace pgm::pg {

std::optional<RowEvent> row_trigger_event(FunctionCallInfo fcinfo) {
    if (!CALLED_AS_TRIGGER(fcinfo)) return std::nullopt;
    const TriggerData *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (!TRIGGER_FIRED_FOR_ROW(td->tg_event)) return std::nullopt;
    if (TRIGGER_FIRED_BY_INSERT(td->tg_event)) return RowEvent::Insert;
    if (TRIGGER_FIRED_BY_UPDATE(td->tg_event)) return RowEvent::Update;
    if (TRIGGER_FIRED_BY_DELETE(td->tg_event)) return RowEvent::Delete;
    return std::nullopt;
}

Datum row_trigger_proceed(FunctionCallInfo fcinfo) {
    const TriggerData *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    HeapTuple row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
    return PointerGetDatum(row);
}

}  // namespace pgm::pg
