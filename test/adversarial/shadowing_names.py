#!/usr/bin/env python3
"""Lists the names the extension's SQL may resolve through the search_path, read from the code.

Usage: shadowing_names.py ROOT

Prints a JSON object {"functions": [...], "operators": [...]}.

Scans the install and upgrade scripts (extension/sql/*.sql) whole, and the string literals of
the extension's C++ (extension/src/*.cpp, extension/src/pg/*.cpp) and of pgmig
(cli/src/**/*.cpp), which hold the SQL they send, for:

    functions   identifiers followed by "(" (possible function calls), lower-cased
    operators   operator tokens, split as PostgreSQL's lexer splits them, plus the
                operators that SQL syntax looks up by name (IN, BETWEEN, LIKE, CASE x WHEN,
                NULLIF, IS DISTINCT FROM, ...)

The caller intersects these with pg_catalog's functions and operators. Over-inclusion is
harmless (a plant nobody calls never fires); what matters is that every real call is listed.
"""
import glob
import json
import os
import re
import sys

OP_RE = re.compile(r"[+\-*/<>=~!@#%^&|`?]+")
IDENT_CALL_RE = re.compile(r"(?<![A-Za-z0-9_$])([A-Za-z_][A-Za-z0-9_$]*)\s*\(")
QUOTED_CALL_RE = re.compile(r'"([^"]+)"\s*\(')  # "char"(...) and other quoted names


def cpp_string_literals(text):
    """The contents of the C++ string literals in text, adjacent literals joined."""
    out = []
    i, n = 0, len(text)
    pieces = []
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == "'":  # character literal
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        m = re.match(r'(?:u8|u|U|L)?R"([^(\s]*)\(', text[i:i + 40])
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            delim = ")" + m.group(1) + '"'
            start = i + m.end()
            j = text.find(delim, start)
            j = n if j < 0 else j
            pieces.append(text[start:j])
            i = j + len(delim)
            continue
        if c == '"':
            j = i + 1
            buf = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    esc = text[j + 1]
                    buf.append({"n": "\n", "t": "\t"}.get(esc, esc))
                    j += 2
                else:
                    buf.append(text[j])
                    j += 1
            pieces.append("".join(buf))
            i = j + 1
            continue
        if not c.isspace() and pieces:
            out.append("".join(pieces))
            pieces = []
        i += 1
    if pieces:
        out.append("".join(pieces))
    return out


def lex_operators(token):
    """Split a run of operator characters the way PostgreSQL's scanner does (scan.l)."""
    result = []
    while token:
        # A comment start ends the operator.
        cut = len(token)
        for marker in ("--", "/*"):
            k = token.find(marker)
            if k >= 0:
                cut = min(cut, k)
        if cut == 0:
            token = token[2:]
            continue
        op = token[:cut]
        # A multi-character operator cannot end in + or - unless it contains one of ~!@#%^&|`?
        if len(op) > 1 and not any(ch in op for ch in "~!@#%^&|`?"):
            while len(op) > 1 and op[-1] in "+-":
                op = op[:-1]
        if op == "!=":
            op = "<>"
        result.append(op)
        token = token[len(op):]
    return result


SYNTAX_OPERATORS = [
    (re.compile(r"\bIS\s+(NOT\s+)?DISTINCT\s+FROM\b", re.I), ["="]),
    (re.compile(r"\bNULLIF\s*\(", re.I), ["="]),
    (re.compile(r"\bNOT\s+IN\s*\(", re.I), ["<>"]),
    (re.compile(r"\bIN\s*\(", re.I), ["="]),
    (re.compile(r"\bBETWEEN\b", re.I), [">=", "<="]),
    (re.compile(r"\bCASE\s+(?!WHEN\b)", re.I), ["="]),
    (re.compile(r"\bNOT\s+LIKE\b", re.I), ["!~~"]),
    (re.compile(r"\bLIKE\b", re.I), ["~~"]),
    (re.compile(r"\bNOT\s+ILIKE\b", re.I), ["!~~*"]),
    (re.compile(r"\bILIKE\b", re.I), ["~~*"]),
    (re.compile(r"\bSIMILAR\s+TO\b", re.I), ["~", "!~"]),
]


def names_in_sql(text, funcs, ops):
    for m in IDENT_CALL_RE.finditer(text):
        funcs.add(m.group(1).lower())
    for m in QUOTED_CALL_RE.finditer(text):
        funcs.add(m.group(1))
    for m in OP_RE.finditer(text):
        for op in lex_operators(m.group(0)):
            ops.add(op)
    for pattern, implied in SYNTAX_OPERATORS:
        if pattern.search(text):
            ops.update(implied)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    funcs, ops = set(), set()
    sql_files = sorted(glob.glob(os.path.join(root, "extension/sql/*.sql")))
    cpp_files = sorted(glob.glob(os.path.join(root, "extension/src/*.cpp")) +
                       glob.glob(os.path.join(root, "extension/src/pg/*.cpp")) +
                       glob.glob(os.path.join(root, "cli/src/**/*.cpp"), recursive=True))
    if not sql_files or not cpp_files:
        sys.exit("shadowing_names.py: no SQL or C++ files under " + root)
    for path in sql_files:
        with open(path, encoding="utf-8") as f:
            names_in_sql(f.read(), funcs, ops)
    for path in cpp_files:
        with open(path, encoding="utf-8") as f:
            for literal in cpp_string_literals(f.read()):
                names_in_sql(literal, funcs, ops)
    json.dump({"functions": sorted(funcs), "operators": sorted(ops)}, sys.stdout)
    print()
    print("# files: %d SQL, %d C++" % (len(sql_files), len(cpp_files)), file=sys.stderr)


if __name__ == "__main__":
    main()
