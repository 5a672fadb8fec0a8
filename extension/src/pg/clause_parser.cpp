#include "pg/clause_parser.hpp"

#include "pg/error.hpp"

namespace pgm::pg {

namespace {

std::string as_update(const std::string &set_clause) {
    return "UPDATE pg_migrate_clause_check SET " + set_clause + "\n";
}

}  // namespace

bool is_only_assignments(const std::string &set_clause) {
    const std::string update = as_update(set_clause);
    const char *text = update.c_str();
    bool ok = false;
    guarded([text, &ok] {
        List *tree = raw_parser(text, RAW_PARSE_DEFAULT);
        if (list_length(tree) != 1) return;
        Node *stmt = linitial_node(RawStmt, tree)->stmt;
        if (!IsA(stmt, UpdateStmt)) return;
        UpdateStmt *u = castNode(UpdateStmt, stmt);
        ok = u->whereClause == nullptr && u->fromClause == NIL && u->returningList == NIL &&
             u->withClause == nullptr;
    });
    return ok;
}

bool is_one_expression(const std::string &where_clause) {
    const char *text = where_clause.c_str();
    bool ok = false;
    guarded([text, &ok] {
        List *tree = raw_parser(text, RAW_PARSE_PLPGSQL_EXPR);
        if (list_length(tree) != 1) return;
        Node *stmt = linitial_node(RawStmt, tree)->stmt;
        if (!IsA(stmt, SelectStmt)) return;
        SelectStmt *sel = castNode(SelectStmt, stmt);
        ok = list_length(sel->targetList) == 1 && sel->fromClause == NIL &&
             sel->whereClause == nullptr && sel->groupClause == NIL &&
             sel->havingClause == nullptr && sel->windowClause == NIL && sel->sortClause == NIL &&
             sel->limitCount == nullptr && sel->limitOffset == nullptr &&
             sel->lockingClause == NIL && sel->distinctClause == NIL && sel->op == SETOP_NONE;
    });
    return ok;
}

std::vector<std::string> assigned_columns(const std::string &set_clause) {
    const std::string update = as_update(set_clause);
    const char *text = update.c_str();
    char **names = nullptr;
    int count = 0;
    guarded([text, &names, &count] {
        List *tree = raw_parser(text, RAW_PARSE_DEFAULT);
        Node *stmt = linitial_node(RawStmt, tree)->stmt;
        if (!IsA(stmt, UpdateStmt)) return;
        UpdateStmt *u = castNode(UpdateStmt, stmt);
        count = list_length(u->targetList);
        names = static_cast<char **>(palloc(sizeof(char *) * (count > 0 ? count : 1)));
        int i = 0;
        ListCell *lc;
        foreach (lc, u->targetList) names[i++] = lfirst_node(ResTarget, lc)->name;
    });
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) out.emplace_back(names[i] ? names[i] : "");
    return out;
}

}  // namespace pgm::pg
