#include "pg/statement_parser.hpp"

#include "pg/error.hpp"

#include <cstring>

namespace pgm::pg {

namespace {

bool defelem_is_true(const DefElem *def) {
    if (def->arg == nullptr) return true;
    return defGetBoolean(const_cast<DefElem *>(def));
}

// Why this raw statement cannot run inside a transaction block, or nullptr. Plain C over
// parse nodes: called inside guarded().
const char *no_transaction_reason(Node *stmt) {
    switch (nodeTag(stmt)) {
        case T_TransactionStmt:
            return "transaction control statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) are "
                   "managed by pg_migrate";
        case T_IndexStmt:
            return castNode(IndexStmt, stmt)->concurrent
                       ? "CREATE INDEX CONCURRENTLY cannot run inside a transaction block"
                       : nullptr;
        case T_DropStmt:
            return castNode(DropStmt, stmt)->concurrent
                       ? "DROP INDEX CONCURRENTLY cannot run inside a transaction block"
                       : nullptr;
        case T_ReindexStmt: {
            ReindexStmt *r = castNode(ReindexStmt, stmt);
            ListCell *lc;
            foreach (lc, r->params) {
                DefElem *opt = lfirst_node(DefElem, lc);
                if (strcmp(opt->defname, "concurrently") == 0 && defelem_is_true(opt))
                    return "REINDEX CONCURRENTLY cannot run inside a transaction block";
            }
            if (r->kind == REINDEX_OBJECT_SYSTEM || r->kind == REINDEX_OBJECT_DATABASE)
                return "REINDEX SYSTEM/DATABASE cannot run inside a transaction block";
            return nullptr;
        }
        case T_VacuumStmt:
            return castNode(VacuumStmt, stmt)->is_vacuumcmd
                       ? "VACUUM cannot run inside a transaction block"
                       : nullptr;
        case T_ClusterStmt:
            return castNode(ClusterStmt, stmt)->relation == nullptr
                       ? "CLUSTER without a table name cannot run inside a transaction block"
                       : nullptr;
        case T_AlterDatabaseStmt: {
            AlterDatabaseStmt *a = castNode(AlterDatabaseStmt, stmt);
            ListCell *lc;
            foreach (lc, a->options) {
                if (strcmp(lfirst_node(DefElem, lc)->defname, "tablespace") == 0)
                    return "ALTER DATABASE ... SET TABLESPACE cannot run inside a transaction "
                           "block";
            }
            return nullptr;
        }
        case T_CreatedbStmt:
            return "CREATE DATABASE cannot run inside a transaction block";
        case T_DropdbStmt:
            return "DROP DATABASE cannot run inside a transaction block";
        case T_CreateTableSpaceStmt:
            return "CREATE TABLESPACE cannot run inside a transaction block";
        case T_DropTableSpaceStmt:
            return "DROP TABLESPACE cannot run inside a transaction block";
        case T_AlterSystemStmt:
            return "ALTER SYSTEM cannot run inside a transaction block";
        case T_CreateSubscriptionStmt:
            return "CREATE SUBSCRIPTION (which creates a replication slot by default) cannot "
                   "run inside a transaction block";
        case T_DropSubscriptionStmt:
            return "DROP SUBSCRIPTION (which drops its replication slot) cannot run inside a "
                   "transaction block";
        case T_DiscardStmt:
            return castNode(DiscardStmt, stmt)->target == DISCARD_ALL
                       ? "DISCARD ALL cannot run inside a transaction block"
                       : nullptr;
        case T_AlterTableStmt: {
            AlterTableStmt *a = castNode(AlterTableStmt, stmt);
            ListCell *lc;
            foreach (lc, a->cmds) {
                AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
                if (cmd->subtype == AT_DetachPartition && cmd->def != nullptr &&
                    IsA(cmd->def, PartitionCmd) && castNode(PartitionCmd, cmd->def)->concurrent)
                    return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY cannot run inside a "
                           "transaction block";
            }
            return nullptr;
        }
        default:
            return nullptr;
    }
}

struct CStatement {
    int location;
    int length;  // 0: to the end of the script
    const char *command;
    const char *reason;
    bool transaction_control;
};

// Bytes of whitespace and whole-line "--" comments before the statement proper.
size_t leading_noise(const std::string &t) {
    size_t i = 0;
    while (i < t.size()) {
        if (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r') {
            ++i;
        } else if (t.compare(i, 2, "--") == 0) {
            size_t eol = t.find('\n', i);
            i = eol == std::string::npos ? t.size() : eol + 1;
        } else {
            break;
        }
    }
    return i;
}

MemoryContext parse_context = nullptr;  // the innermost ParseMemoryScope's, if any

}  // namespace

ParseMemoryScope::ParseMemoryScope() : outer_(parse_context) {
    MemoryContext created = nullptr;
    guarded([&created] {
        created = AllocSetContextCreate(CurrentMemoryContext, "pg_migrate parse trees",
                                        ALLOCSET_DEFAULT_SIZES);
    });
    context_ = created;
    parse_context = context_;
}

ParseMemoryScope::~ParseMemoryScope() {
    parse_context = outer_;
    // MemoryContextDelete does not raise errors; it only frees.
    if (context_ != nullptr) MemoryContextDelete(context_);
}

int char_count(const char *text, size_t bytes) {
    int chars = 0;
    guarded([&chars, text, bytes] { chars = pg_mbstrlen_with_len(text, static_cast<int>(bytes)); });
    return chars;
}

size_t byte_offset_of_char(const std::string &text, int char_pos) {
    size_t offset = 0;
    const char *p = text.c_str();
    const size_t size = text.size();
    guarded([&offset, p, size, char_pos] {
        for (int c = 1; c < char_pos && offset < size; ++c) offset += pg_mblen(p + offset);
    });
    return offset < size ? offset : size;
}

std::string server_version() {
    return PG_MAJORVERSION;
}

std::vector<ParsedStatement> parse_script(const std::string &script) {
    const char *text = script.c_str();
    CStatement *stmts = nullptr;
    int count = 0;
    MemoryContext target = parse_context;
    guarded([text, &stmts, &count, target] {
        MemoryContext caller = target != nullptr ? MemoryContextSwitchTo(target) : nullptr;
        List *tree = raw_parser(text, RAW_PARSE_DEFAULT);
        count = list_length(tree);
        stmts = static_cast<CStatement *>(palloc0(sizeof(CStatement) * (count > 0 ? count : 1)));
        int i = 0;
        ListCell *lc;
        foreach (lc, tree) {
            RawStmt *raw = lfirst_node(RawStmt, lc);
            stmts[i].location = raw->stmt_location;
            stmts[i].length = raw->stmt_len;
            stmts[i].command = GetCommandTagName(CreateCommandTag(raw->stmt));
            stmts[i].reason = no_transaction_reason(raw->stmt);
            stmts[i].transaction_control = IsA(raw->stmt, TransactionStmt);
            ++i;
        }
        if (caller != nullptr) MemoryContextSwitchTo(caller);
    });
    std::vector<ParsedStatement> out;
    out.reserve(count);
    int char_pos = 1;
    int counted_to = 0;
    for (int i = 0; i < count; ++i) {
        const CStatement &c = stmts[i];
        const int start = c.location < 0 ? 0 : c.location;
        const int len = c.length > 0 ? c.length : static_cast<int>(script.size()) - start;
        // Characters up to the statement start, in the server encoding (positions in errors
        // are character based).
        char_pos += char_count(text + counted_to, static_cast<size_t>(start - counted_to));
        counted_to = start;
        ParsedStatement s;
        s.text = script.substr(start, len);
        s.byte_offset = start;
        s.char_position = char_pos;
        s.text_position = char_pos + char_count(s.text.data(), leading_noise(s.text));
        s.command = c.command ? c.command : "";
        s.no_transaction_reason = c.reason ? c.reason : "";
        s.transaction_control = c.transaction_control;
        out.push_back(std::move(s));
    }
    if (stmts != nullptr) guarded([stmts] { pfree(stmts); });
    return out;
}

std::string display_text(const ParsedStatement &statement, size_t max_length) {
    std::string out = statement.text.substr(leading_noise(statement.text));
    while (!out.empty() &&
           (out.back() == ' ' || out.back() == '\n' || out.back() == '\r' || out.back() == '\t'))
        out.pop_back();
    if (out.size() > max_length) out = out.substr(0, max_length) + "...";
    return out;
}

}  // namespace pgm::pg
