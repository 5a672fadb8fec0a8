#include "pg/statement_analysis.hpp"

#include "pg/error.hpp"
#include "pg/spi.hpp"
#include "pg/statement_parser.hpp"
#include "script_directives.hpp"

extern "C" {
#include "commands/tablecmds.h"
#include "common/keywords.h"
#include "parser/scanner.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "storage/lock.h"
// The lexer's token numbers (IDENT, SCONST, ...), after the node types its union names.
#include "parser/gramparse.h"
}

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace pgm::pg {

namespace {

// ---- names -------------------------------------------------------------------------------

std::string quote_ident_if_needed(const std::string &name) {
    bool plain =
        !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
    for (char c : name)
        if (!(std::islower(static_cast<unsigned char>(c)) ||
              std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
            plain = false;
    if (plain) return name;
    std::string out = "\"";
    for (char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string rangevar_name(const RangeVar *rv) {
    std::string n = quote_ident_if_needed(rv->relname);
    if (rv->schemaname != nullptr) n = quote_ident_if_needed(rv->schemaname) + "." + n;
    return n;
}

// DROP TABLE's objects are lists of String nodes.
std::string qualified_from_list(List *names) {
    std::string out;
    ListCell *lc;
    foreach (lc, names) {
        if (!out.empty()) out += ".";
        out += quote_ident_if_needed(strVal(lfirst(lc)));
    }
    return out;
}

std::string lock_name(LOCKMODE mode) {
    return GetLockmodeName(DEFAULT_LOCKMETHOD, mode);
}

// "AccessExclusiveLock" -> "an ACCESS EXCLUSIVE lock", as the documentation names locks.
std::string lock_phrase(const std::string &mode) {
    std::string words;
    std::string name = mode.substr(0, mode.size() >= 4 ? mode.size() - 4 : 0);  // drop "Lock"
    for (size_t i = 0; i < name.size(); ++i) {
        if (i > 0 && std::isupper(static_cast<unsigned char>(name[i]))) words += ' ';
        words += static_cast<char>(std::toupper(static_cast<unsigned char>(name[i])));
    }
    const bool vowel = !words.empty() && std::string("AEIOU").find(words[0]) != std::string::npos;
    return std::string(vowel ? "an " : "a ") + words + " lock";
}

// ---- catalog lookups (through SPI, so errors are guarded) --------------------------------

Oid relation_oid(const std::string &qualified) {
    // A name from the user's script resolves with the user's search_path.
    auto r = query_in_caller_path("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid", {qualified});
    const Value &v = r.rows.at(0).at(0);
    return v ? static_cast<Oid>(std::stoul(*v)) : InvalidOid;
}

// The table of an index, as "schema.table", or "" when there is no such index.
std::string index_table(const std::string &index) {
    auto idx = query_in_caller_path("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid", {index});
    if (!idx.rows.at(0).at(0)) return "";
    auto r = query(
        "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_index i "
        "  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
        "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        " WHERE i.indexrelid = $1::oid",
        {*idx.rows[0][0]});
    return r.rows.empty() ? "" : r.rows[0][0].value_or("");
}

bool function_is_volatile(const std::string &name) {
    auto r = query(
        "SELECT coalesce(bool_or(provolatile = 'v'), false) FROM pg_catalog.pg_proc WHERE proname "
        "= $1",
        {name});
    return r.rows.at(0).at(0).value_or("f") == "t";
}

// Whether a validated CHECK constraint of the table proves `column IS NOT NULL`, which lets
// SET NOT NULL skip its full-table scan (PostgreSQL 12+).
bool has_validated_not_null_check(Oid rel, const std::string &column) {
    auto r = query(
        "SELECT count(*) > 0 FROM pg_catalog.pg_constraint "
        " WHERE conrelid = $1::oid AND contype = 'c' AND convalidated "
        "   AND pg_catalog.pg_get_constraintdef(oid) = pg_catalog.format('CHECK ((%I IS NOT "
        "NULL))', $2::text)",
        {std::to_string(rel), column});
    return r.rows.at(0).at(0).value_or("f") == "t";
}

// A type name as written ("character varying", "public.mood"), without modifiers.
std::string type_name_text(const TypeName *type_name) {
    char *text = nullptr;
    guarded([&text, type_name] { text = TypeNameToString(type_name); });
    return text ? text : "";
}

// Whether a type of that name exists now (it may be created earlier in the same script).
bool type_exists(const std::string &name) {
    return query_in_caller_path("SELECT pg_catalog.to_regtype($1) IS NOT NULL", {name})
               .rows.at(0)
               .at(0)
               .value_or("f") == "t";
}

// SQL literals for a list of labels: E'a', E'b''c', E'd\\e' (for b'c and d\e).
// As E'' literals, quotes and backslashes doubled: their meaning does not depend on
// standard_conforming_strings, which the session that runs the generated check may have set
// either way (with it off, a label ending in a backslash turned '...\'' into SQL).
std::string sql_literals(const std::vector<std::string> &labels) {
    std::string out;
    for (const auto &label : labels) {
        out += out.empty() ? "E'" : ", E'";
        for (char c : label) {
            if (c == '\'' || c == '\\') out += c;
            out += c;
        }
        out += "'";
    }
    return out;
}

// Whether ALTER COLUMN ... TYPE rewrites the table: not when the new type is the same with an
// unconstrained or larger length (varchar, varbit), or binary-coercible without a length.
bool type_change_rewrites(Oid rel, const char *column, const TypeName *type_name, bool has_using) {
    if (has_using) return true;
    auto r = query(
        "SELECT atttypid, atttypmod FROM pg_catalog.pg_attribute "
        " WHERE attrelid = $1::oid AND attname = $2 AND attnum > 0 AND NOT attisdropped",
        {std::to_string(rel), std::string(column)});
    if (r.rows.empty() || !type_exists(type_name_text(type_name))) return true;
    const Oid old_type = static_cast<Oid>(std::stoul(r.rows[0][0].value()));
    const int32 old_mod = std::stoi(r.rows[0][1].value());
    Oid new_type = InvalidOid;
    int32 new_mod = -1;
    bool binary = false;
    guarded([&new_type, &new_mod, &binary, type_name, old_type] {
        typenameTypeIdAndMod(nullptr, type_name, &new_type, &new_mod);
        binary = IsBinaryCoercible(old_type, new_type);
    });
    if (new_type == old_type)
        return !((old_type == VARCHAROID || old_type == VARBITOID) &&
                 (new_mod == -1 || new_mod >= old_mod)) &&
               !(new_mod == old_mod);
    return !(binary && new_mod == -1);
}

// ---- expressions --------------------------------------------------------------------------

struct FuncNames {
    char *names[64];
    int count;
};

bool collect_function_names(Node *node, void *context) {
    if (node == nullptr) return false;
    if (IsA(node, FuncCall)) {
        FuncNames *f = static_cast<FuncNames *>(context);
        FuncCall *fc = castNode(FuncCall, node);
        if (f->count < 64) f->names[f->count++] = strVal(llast(fc->funcname));
    }
    // PostgreSQL 15 declares the walker as bool (*)(), as C code passes it.
    return raw_expression_tree_walker(
        node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(collect_function_names)),
        context);
}

std::vector<std::string> function_names(Node *expr) {
    FuncNames names{};
    FuncNames *n = &names;
    guarded([expr, n] { collect_function_names(expr, n); });
    return std::vector<std::string>(names.names, names.names + names.count);
}

// The SQL text of a CHECK constraint's condition, found with PostgreSQL's own lexer (which
// knows comments, dollar quotes and E'' escapes, under this session's settings): the tokens
// between the parenthesis after the constraint's CHECK keyword and the one that closes it.
// The parse tree bounds it: the expression's own location must lie inside. "" when the text
// cannot be found that way (then no expectation is derived; nothing is guessed from text).
std::string check_expression_text(const std::string &script, const Constraint *c) {
    if (c->location < 0 || c->raw_expr == nullptr) return "";
    const char *text = script.c_str();
    const int constraint_at = c->location;
    int expr_at = -1;
    int open_at = -1, close_at = -1;
    guarded([&] {
        expr_at = exprLocation(c->raw_expr);
        const int check_token = ScanKeywordTokens[ScanKeywordLookup("check", &ScanKeywords)];
        core_yy_extra_type extra;
        core_yyscan_t scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
        int phase = 0;  // 0: looking for CHECK, 1: its '(' next, 2: inside, until depth 0
        int depth = 0;
        for (;;) {
            core_YYSTYPE value;
            YYLTYPE at = 0;
            const int token = core_yylex(&value, &at, scanner);
            if (token == 0) break;
            if (phase == 0) {
                if (at >= constraint_at && token == check_token) phase = 1;
            } else if (phase == 1) {
                if (token != '(') break;
                open_at = at;
                depth = 1;
                phase = 2;
            } else if (token == '(') {
                ++depth;
            } else if (token == ')' && --depth == 0) {
                close_at = at;
                break;
            }
        }
        scanner_finish(scanner);
    });
    if (open_at < 0 || close_at <= open_at || expr_at <= open_at || expr_at >= close_at) return "";
    return script.substr(open_at + 1, close_at - open_at - 1);
}

}  // namespace

std::vector<std::string> script_tokens(const std::string &script, bool standard_conforming) {
    std::vector<std::string> out;
    std::vector<std::string> *tokens = &out;
    const char *text = script.c_str();
    guarded([tokens, text, standard_conforming] {
        core_yy_extra_type extra;
        core_yyscan_t scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
        // scanner_init copied the session's setting; the lexer reads this copy.
        extra.standard_conforming_strings = standard_conforming;
        for (;;) {
            core_YYSTYPE value;
            YYLTYPE at = 0;
            const int token = core_yylex(&value, &at, scanner);
            if (token == 0) break;
            // A keyword or punctuation is its token number alone; the tokens that carry a
            // value carry it too (identifiers already folded, constants unquoted). The
            // value's union member is read only for the tokens that set it.
            std::string t = std::to_string(token);
            if (token == ICONST || token == PARAM)
                t += ":" + std::to_string(value.ival);
            else if (token == IDENT || token == UIDENT || token == FCONST || token == SCONST ||
                     token == USCONST || token == BCONST || token == XCONST || token == Op)
                t += ":" + std::string(value.str);
            tokens->push_back(std::move(t));
        }
        scanner_finish(scanner);
    });
    return out;
}

namespace {

bool is_serial_type(const TypeName *t) {
    if (t == nullptr || t->names == NIL) return false;
    std::string n = strVal(llast(t->names));
    return n == "serial" || n == "serial4" || n == "bigserial" || n == "serial8" ||
           n == "smallserial" || n == "serial2";
}

std::vector<std::string> string_list(List *l) {
    std::vector<std::string> out;
    ListCell *lc;
    foreach (lc, l) out.push_back(strVal(lfirst(lc)));
    return out;
}

// ---- the walk --------------------------------------------------------------------------

struct ScriptState {
    std::set<std::string> created;             // tables created earlier in the script
    std::set<std::string> validated_not_null;  // "table|column" proven by a validated CHECK
    std::vector<std::pair<std::string, std::string>>
        pending_not_null_checks;  // "table|constraint" -> column
    bool in_transaction_block = false;
    bool lock_timeout_set = false;
    bool lock_timeout_reported = false;     // one finding per script is enough
    std::set<std::string> added_not_valid;  // "table|constraint" added NOT VALID in the script
    bool autocommit = false;  // -- pgmig:no-transaction: every statement commits on its own
    std::map<std::string, std::vector<std::string>> enums;  // enum types created in the script
};

class Analyzer {
  public:
    Analyzer(const std::string &script, ScriptState &state, StatementAnalysis &out)
        : script_(script), state_(state), out_(out) {}

    void statement(Node *stmt);

  private:
    const std::string &script_;
    ScriptState &state_;
    StatementAnalysis &out_;

    // One identity for a table however the script names it ("users", "public.users").
    std::string key(const std::string &table) {
        Oid oid = state_.created.count(table) ? InvalidOid : relation_oid(table);
        return OidIsValid(oid) ? std::to_string(oid) : table;
    }
    bool existing(const std::string &table) {
        return !state_.created.count(table) && OidIsValid(relation_oid(table));
    }
    void lock(const std::string &table, LOCKMODE mode) {
        out_.locks.push_back({table, lock_name(mode), existing(table)});
    }
    void finding(const char *rule, const char *severity, std::string message,
                 std::string alternative) {
        out_.findings.push_back({rule, severity, std::move(message), std::move(alternative)});
    }

    void alter_table(AlterTableStmt *a);
    void add_column(const std::string &table, ColumnDef *def);
    void add_constraint(const std::string &table, Constraint *c);
};

void Analyzer::statement(Node *stmt) {
    switch (nodeTag(stmt)) {
        case T_TransactionStmt: {
            TransactionStmtKind k = castNode(TransactionStmt, stmt)->kind;
            if (k == TRANS_STMT_BEGIN || k == TRANS_STMT_START) state_.in_transaction_block = true;
            if (k == TRANS_STMT_COMMIT || k == TRANS_STMT_ROLLBACK || k == TRANS_STMT_PREPARE) {
                state_.in_transaction_block = false;
                state_.added_not_valid.clear();  // the ADD's lock ends with its transaction
            }
            break;
        }
        case T_VariableSetStmt: {
            VariableSetStmt *v = castNode(VariableSetStmt, stmt);
            if (v->kind == VAR_SET_VALUE && v->name != nullptr &&
                strcmp(v->name, "lock_timeout") == 0) {
                bool zero = false;
                if (v->args != NIL && IsA(linitial(v->args), A_Const)) {
                    A_Const *c = castNode(A_Const, linitial(v->args));
                    zero =
                        (!c->isnull && IsA(&c->val, Integer) && intVal(&c->val) == 0) ||
                        (!c->isnull && IsA(&c->val, String) && strcmp(strVal(&c->val), "0") == 0);
                }
                state_.lock_timeout_set = !zero;
            }
            break;
        }
        case T_CreateEnumStmt: {
            CreateEnumStmt *e = castNode(CreateEnumStmt, stmt);
            std::vector<std::string> labels = string_list(e->vals);
            state_.enums[qualified_from_list(e->typeName)] = labels;
            state_.enums[strVal(llast(e->typeName))] = labels;  // as it is usually referred to
            break;
        }
        case T_CreateStmt:
            state_.created.insert(rangevar_name(castNode(CreateStmt, stmt)->relation));
            break;
        case T_CreateTableAsStmt:
            state_.created.insert(rangevar_name(castNode(CreateTableAsStmt, stmt)->into->rel));
            break;
        case T_IndexStmt: {
            IndexStmt *ix = castNode(IndexStmt, stmt);
            const std::string table = rangevar_name(ix->relation);
            lock(table, ix->concurrent ? ShareUpdateExclusiveLock : ShareLock);
            if (ix->concurrent && state_.in_transaction_block)
                finding("ban-concurrent-index-creation-in-transaction", "error",
                        "CREATE INDEX CONCURRENTLY cannot run inside the transaction block opened "
                        "earlier in the script",
                        "Remove BEGIN/COMMIT around it; pgmig runs such migrations outside a "
                        "transaction.");
            else if (!ix->concurrent && existing(table))
                finding("require-concurrent-index-creation", "error",
                        "CREATE INDEX on existing table " + table +
                            " blocks writes to it until the index is built",
                        "CREATE INDEX CONCURRENTLY (in a -- pgmig:no-transaction migration).");
            if (ix->unique && existing(table)) {
                std::vector<std::string> cols;
                bool only_columns = true;
                ListCell *lc;
                foreach (lc, ix->indexParams) {
                    IndexElem *e = lfirst_node(IndexElem, lc);
                    if (e->name == nullptr)
                        only_columns = false;
                    else
                        cols.push_back(e->name);
                }
                if (only_columns && ix->whereClause == nullptr)
                    out_.expectations.push_back(
                        {"unique", table, cols, "",
                         "unique index " + std::string(ix->idxname ? ix->idxname : "")});
            }
            break;
        }
        case T_AlterTableStmt:
            alter_table(castNode(AlterTableStmt, stmt));
            break;
        case T_RenameStmt: {
            RenameStmt *r = castNode(RenameStmt, stmt);
            if (r->relation == nullptr) break;
            const std::string table = rangevar_name(r->relation);
            lock(table, AccessExclusiveLock);
            if (r->renameType == OBJECT_TABLE && existing(table))
                finding("renaming-table", "warning",
                        "renaming table " + table + " breaks clients that still use the old name",
                        "Expand/contract: create a view or the new table, move clients, then drop "
                        "the old name later.");
            else if (r->renameType == OBJECT_COLUMN && existing(table))
                finding("renaming-column", "warning",
                        "renaming column " + std::string(r->subname ? r->subname : "") + " of " +
                            table + " breaks clients that still use the old name",
                        "Expand/contract: add the new column, backfill and sync it, move clients, "
                        "drop the old one later.");
            break;
        }
        case T_DropStmt: {
            DropStmt *d = castNode(DropStmt, stmt);
            if (d->removeType == OBJECT_TRIGGER) {
                // DROP TRIGGER t ON tbl: the object is (schema.)tbl.t; the table is locked.
                ListCell *lc;
                foreach (lc, d->objects) {
                    List *names = castNode(List, lfirst(lc));
                    if (list_length(names) < 2) continue;
                    // DROP TRIGGER t ON [schema.]table: the names before the trigger's.
                    List *table_names = nullptr;
                    guarded([&table_names, names] {
                        table_names = list_truncate(list_copy(names), list_length(names) - 1);
                    });
                    lock(qualified_from_list(table_names), AccessExclusiveLock);
                }
                break;
            }
            if (d->removeType != OBJECT_TABLE && d->removeType != OBJECT_INDEX) break;
            ListCell *lc;
            foreach (lc, d->objects) {
                const std::string name = qualified_from_list(castNode(List, lfirst(lc)));
                if (d->removeType == OBJECT_INDEX) {
                    // The lock that matters is the one on the index's table.
                    const std::string table = index_table(name);
                    if (!table.empty())
                        lock(table, d->concurrent ? ShareUpdateExclusiveLock : AccessExclusiveLock);
                }
                if (d->removeType == OBJECT_TABLE) {
                    lock(name, AccessExclusiveLock);
                    if (existing(name))
                        finding("ban-drop-table", "warning",
                                "dropping table " + name +
                                    " breaks clients that still use it, and loses its data",
                                "Stop every client using it first; keep a snapshot or backup; drop "
                                "in a later release.");
                } else if (!d->concurrent && existing(name)) {
                    finding("require-concurrent-index-deletion", "warning",
                            "DROP INDEX " + name + " locks its table against reads and writes",
                            "DROP INDEX CONCURRENTLY (in a -- pgmig:no-transaction migration).");
                }
            }
            break;
        }
        case T_TruncateStmt: {
            ListCell *lc;
            foreach (lc, castNode(TruncateStmt, stmt)->relations)
                lock(rangevar_name(lfirst_node(RangeVar, lc)), AccessExclusiveLock);
            break;
        }
        case T_LockStmt: {
            LockStmt *l = castNode(LockStmt, stmt);
            ListCell *lc;
            foreach (lc, l->relations) lock(rangevar_name(lfirst_node(RangeVar, lc)), l->mode);
            break;
        }
        case T_VacuumStmt: {
            VacuumStmt *v = castNode(VacuumStmt, stmt);
            bool full = false;
            ListCell *lc;
            foreach (lc, v->options) {
                DefElem *opt = lfirst_node(DefElem, lc);
                if (strcmp(opt->defname, "full") == 0) full = true;
            }
            foreach (lc, v->rels) {
                VacuumRelation *vr = lfirst_node(VacuumRelation, lc);
                if (vr->relation != nullptr)
                    lock(rangevar_name(vr->relation),
                         full ? AccessExclusiveLock : ShareUpdateExclusiveLock);
            }
            if (full && v->is_vacuumcmd)
                finding("ban-vacuum-full", "error",
                        "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock",
                        "Plain VACUUM, or pg_repack / pg_squeeze to reclaim space online.");
            break;
        }
        case T_ClusterStmt: {
            ClusterStmt *c = castNode(ClusterStmt, stmt);
            if (c->relation != nullptr) lock(rangevar_name(c->relation), AccessExclusiveLock);
            finding("ban-cluster", "error",
                    "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
                    "pg_repack, which reorders a table online.");
            break;
        }
        case T_InsertStmt:
            lock(rangevar_name(castNode(InsertStmt, stmt)->relation), RowExclusiveLock);
            break;
        case T_UpdateStmt:
            lock(rangevar_name(castNode(UpdateStmt, stmt)->relation), RowExclusiveLock);
            break;
        case T_DeleteStmt:
            lock(rangevar_name(castNode(DeleteStmt, stmt)->relation), RowExclusiveLock);
            break;
        case T_CreateTrigStmt:
            lock(rangevar_name(castNode(CreateTrigStmt, stmt)->relation), ShareRowExclusiveLock);
            break;
        default:
            break;
    }
    // Any lock that blocks writes (SHARE and stronger): while such a statement waits for its
    // lock, every writer (and with ACCESS EXCLUSIVE every reader) queues behind it.
    for (const auto &l : out_.locks) {
        const bool blocks_writes =
            l.lock_mode == "ShareLock" || l.lock_mode == "ShareRowExclusiveLock" ||
            l.lock_mode == "ExclusiveLock" || l.lock_mode == "AccessExclusiveLock";
        if (l.exists && blocks_writes && !state_.lock_timeout_set &&
            !state_.lock_timeout_reported) {
            state_.lock_timeout_reported = true;
            finding("require-lock-timeout", "warning",
                    "takes " + lock_phrase(l.lock_mode) + " on " + l.table +
                        " without a lock_timeout set in the script: while it waits for the lock, "
                        "the queries it conflicts with queue behind it",
                    "SET lock_timeout = '2s' at the top of the script (pg_migrate's executor sets "
                    "pg_migrate.lock_timeout and retries for you; other runners do not).");
            break;
        }
    }
}

void Analyzer::alter_table(AlterTableStmt *a) {
    const std::string table = rangevar_name(a->relation);
    LOCKMODE mode = AccessExclusiveLock;
    List *cmds = a->cmds;
    guarded([&mode, cmds] { mode = AlterTableGetLockLevel(cmds); });
    lock(table, mode);
    const bool exists = existing(table);
    ListCell *lc;
    foreach (lc, a->cmds) {
        AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
        switch (cmd->subtype) {
            case AT_AddColumn:
                if (exists) add_column(table, castNode(ColumnDef, cmd->def));
                break;
            case AT_AlterColumnType: {
                if (!exists) break;
                ColumnDef *def = castNode(ColumnDef, cmd->def);
                Oid rel = relation_oid(table);
                // To an enum: existing values outside its labels would make it fail.
                const std::string type = type_name_text(def->typeName);
                std::vector<std::string> labels;
                if (state_.enums.count(type)) {
                    labels = state_.enums[type];
                } else if (type_exists(type)) {
                    auto t = query_in_caller_path(
                        "SELECT pg_catalog.to_regtype($1)::pg_catalog.oid", {type});
                    auto r = query(
                        "SELECT e.enumlabel FROM pg_catalog.pg_enum e "
                        " WHERE e.enumtypid = $1::oid ORDER BY e.enumsortorder",
                        {t.rows.at(0).at(0)});
                    for (const auto &row : r.rows) labels.push_back(row.at(0).value_or(""));
                }
                if (!labels.empty())
                    out_.expectations.push_back(
                        {"enum", table, {cmd->name}, sql_literals(labels), "TYPE " + type});
                if (type_change_rewrites(rel, cmd->name, def->typeName,
                                         def->raw_default != nullptr))
                    finding(
                        "changing-column-type", "error",
                        "changing the type of " + table + "." + quote_ident_if_needed(cmd->name) +
                            " rewrites the table (and its indexes) under an ACCESS EXCLUSIVE lock",
                        "Expand/contract: add a column of the new type, backfill it in batches "
                        "(migrate_backfill), switch clients, drop the old column.");
                break;
            }
            case AT_AddConstraint:
                add_constraint(table, castNode(Constraint, cmd->def));
                break;
            case AT_ValidateConstraint: {
                if (!state_.autocommit &&
                    state_.added_not_valid.count(key(table) + "|" + cmd->name))
                    finding("validate-constraint-in-same-transaction", "warning",
                            "VALIDATE CONSTRAINT " + quote_ident_if_needed(cmd->name) + " scans " +
                                table +
                                " while the lock taken by its ADD CONSTRAINT earlier in the same "
                                "script is still held",
                            "Validate it in a separate migration: VALIDATE CONSTRAINT alone takes "
                            "only a SHARE UPDATE EXCLUSIVE lock.");
                for (const auto &p : state_.pending_not_null_checks)
                    if (p.first == key(table) + "|" + cmd->name)
                        state_.validated_not_null.insert(key(table) + "|" + p.second);
                break;
            }
            case AT_SetNotNull: {
                if (!exists) break;
                const std::string column = cmd->name;
                out_.expectations.push_back({"not_null", table, {column}, "", "SET NOT NULL"});
                if (!state_.validated_not_null.count(key(table) + "|" + column) &&
                    !has_validated_not_null_check(relation_oid(table), column))
                    finding(
                        "setting-not-null", "error",
                        "SET NOT NULL on " + table + "." + quote_ident_if_needed(column) +
                            " scans the whole table under an ACCESS EXCLUSIVE lock",
                        "ADD CONSTRAINT c CHECK (" + quote_ident_if_needed(column) +
                            " IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c in a later migration; "
                            "then SET NOT NULL (no scan) and drop the CHECK.");
                break;
            }
            case AT_DropColumn:
                if (exists)
                    finding("ban-drop-column", "warning",
                            "dropping column " + quote_ident_if_needed(cmd->name) + " of " + table +
                                " breaks clients that still read or write it",
                            "Stop every client using it first, then drop it in a later release.");
                break;
            default:
                break;
        }
    }
}

void Analyzer::add_column(const std::string &table, ColumnDef *def) {
    Node *default_expr = def->raw_default;
    bool not_null = def->is_not_null, identity = def->identity != 0,
         generated = def->generated != 0;
    ListCell *lc;
    foreach (lc, def->constraints) {
        Constraint *c = lfirst_node(Constraint, lc);
        if (c->contype == CONSTR_DEFAULT) default_expr = c->raw_expr;
        if (c->contype == CONSTR_NOTNULL) not_null = true;
        if (c->contype == CONSTR_IDENTITY) identity = true;
        if (c->contype == CONSTR_GENERATED) generated = true;
        if (c->contype == CONSTR_PRIMARY) not_null = true;
    }
    const std::string column = table + "." + quote_ident_if_needed(def->colname);
    std::string rewrite_reason;
    if (is_serial_type(def->typeName))
        rewrite_reason = "a serial column's default (nextval) is volatile";
    else if (identity)
        rewrite_reason = "an identity column fills every existing row";
    else if (generated)
        rewrite_reason = "a stored generated column is computed for every existing row";
    else if (default_expr != nullptr)
        for (const auto &f : function_names(default_expr))
            if (function_is_volatile(f)) {
                rewrite_reason = "its default calls the volatile function " + f + "()";
                break;
            }
    if (!rewrite_reason.empty())
        finding("adding-field-with-volatile-default", "error",
                "adding " + column +
                    " rewrites the whole table under an ACCESS EXCLUSIVE lock: " + rewrite_reason,
                "Add the column without a default (or with a constant one), backfill it in batches "
                "(migrate_backfill), then set the default for new rows.");
    if (not_null && default_expr == nullptr && !identity && !generated &&
        !is_serial_type(def->typeName))
        finding(
            "adding-required-field", "error",
            "adding " + column + " as NOT NULL without a default fails on a table that has rows",
            "Add it nullable (or with a constant default), backfill, then SET NOT NULL safely.");
}

void Analyzer::add_constraint(const std::string &table, Constraint *c) {
    const bool exists = existing(table);
    const std::string name = c->conname ? c->conname : "";
    switch (c->contype) {
        case CONSTR_FOREIGN:
        case CONSTR_CHECK:
            if (c->contype == CONSTR_FOREIGN && c->pktable != nullptr)
                lock(rangevar_name(c->pktable), ShareRowExclusiveLock);
            if (c->contype == CONSTR_CHECK) {
                const std::string expr = check_expression_text(script_, c);
                if (exists && !c->skip_validation && !expr.empty())
                    out_.expectations.push_back({"check", table, {}, expr, "CHECK " + name});
                // ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, to be validated later.
                if (c->raw_expr != nullptr && IsA(c->raw_expr, NullTest)) {
                    NullTest *nt = castNode(NullTest, c->raw_expr);
                    if (nt->nulltesttype == IS_NOT_NULL && IsA(nt->arg, ColumnRef)) {
                        ColumnRef *cr = castNode(ColumnRef, nt->arg);
                        if (list_length(cr->fields) == 1 && IsA(linitial(cr->fields), String))
                            state_.pending_not_null_checks.push_back(
                                {key(table) + "|" + name, strVal(linitial(cr->fields))});
                    }
                }
            }
            if (exists && c->skip_validation && !name.empty())
                state_.added_not_valid.insert(key(table) + "|" + name);
            if (exists && !c->skip_validation)
                finding("constraint-missing-not-valid", "error",
                        std::string("adding a ") +
                            (c->contype == CONSTR_FOREIGN ? "FOREIGN KEY" : "CHECK") +
                            " constraint to " + table +
                            " validates every row while holding its lock",
                        "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a separate "
                        "migration "
                        "(it takes a weaker lock).");
            break;
        case CONSTR_UNIQUE:
        case CONSTR_PRIMARY:
            if (!exists) break;
            if (c->indexname == nullptr) {
                out_.expectations.push_back(
                    {"unique", table, string_list(c->keys), "",
                     c->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE " + name});
                if (c->contype == CONSTR_PRIMARY)
                    out_.expectations.push_back(
                        {"not_null", table, string_list(c->keys), "", "PRIMARY KEY"});
                finding(
                    "disallowed-unique-constraint", "error",
                    std::string("adding a ") +
                        (c->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE") +
                        " constraint to " + table +
                        " builds its index while blocking reads and writes",
                    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX.");
            }
            break;
        default:
            break;
    }
}

}  // namespace

std::vector<StatementAnalysis> analyze_statements(const std::string &script) {
    const std::vector<ParsedStatement> parsed = parse_script(script);
    List *tree = nullptr;
    const char *text = script.c_str();
    guarded([&tree, text] { tree = raw_parser(text, RAW_PARSE_DEFAULT); });
    std::vector<StatementAnalysis> out;
    ScriptState state;
    state.autocommit = has_directive(parse_directives(script), "no-transaction");
    int i = 0;
    ListCell *lc;
    foreach (lc, tree) {
        StatementAnalysis a;
        a.number = i + 1;
        if (i < static_cast<int>(parsed.size())) {
            a.text = display_text(parsed[i], SIZE_MAX);
            a.command = parsed[i].command;
        }
        Analyzer(script, state, a).statement(lfirst_node(RawStmt, lc)->stmt);
        out.push_back(std::move(a));
        ++i;
    }
    return out;
}

}  // namespace pgm::pg
