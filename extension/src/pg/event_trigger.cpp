#include "pg/event_trigger.hpp"

#include "pg/error.hpp"

extern "C" {
#include "commands/event_trigger.h"
}

#include <cstring>

namespace pgm::pg {

std::optional<std::string> event_trigger_event(FunctionCallInfo fcinfo) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo)) return std::nullopt;
    return std::string(reinterpret_cast<EventTriggerData *>(fcinfo->context)->event);
}

std::optional<std::string> dropped_extension_or_schema(FunctionCallInfo fcinfo,
                                                       const std::vector<std::string> &names) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo)) return std::nullopt;
    Node *tree = reinterpret_cast<EventTriggerData *>(fcinfo->context)->parsetree;
    const char *found = nullptr;
    const std::vector<std::string> *wanted = &names;
    guarded([tree, wanted, &found] {
        if (tree == nullptr || !IsA(tree, DropStmt)) return;
        DropStmt *d = castNode(DropStmt, tree);
        if (d->removeType != OBJECT_EXTENSION && d->removeType != OBJECT_SCHEMA) return;
        ListCell *lc;
        foreach (lc, d->objects) {
            Node *name = static_cast<Node *>(lfirst(lc));
            if (!IsA(name, String)) continue;
            for (const auto &w : *wanted)
                if (strcmp(strVal(name), w.c_str()) == 0) found = w.c_str();
        }
    });
    if (found == nullptr) return std::nullopt;
    return std::string(found);
}

}  // namespace pgm::pg
