#!/usr/bin/env python3
"""The up scripts of a migration folder in another tool's layout, in the order that tool
applies them, written as numbered files for psql (the baseline that layouts.sh compares
pgmig with). Deliberately written apart from pgmig's own reader, with each tool's rules:

  layout_baseline.py LAYOUT FOLDER OUTDIR

writes OUTDIR/001.sql, 002.sql, ... and OUTDIR/NNN.notx for a script that runs outside a
transaction (the tool's mark, or CREATE INDEX CONCURRENTLY). A leading BOM is dropped.
"""
import os
import re
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data


def dbmate_up(data):
    out, on, notx = [], False, False
    for line in data.splitlines(keepends=True):
        if line.startswith(b"-- migrate:up"):
            on, notx = True, b"transaction:false" in line
            continue
        if line.startswith(b"-- migrate:down"):
            on = False
            continue
        if on:
            out.append(line)
    return b"".join(out), notx


def flyway_key(name):
    v = re.match(r"V([0-9._]+)__", name).group(1)
    return tuple(int(p) for p in re.split(r"[._]", v))


def scripts(layout, folder):
    names = sorted(os.listdir(folder))
    if layout == "dbmate":
        for n in names:
            if n.endswith(".sql"):
                yield dbmate_up(read(os.path.join(folder, n)))
    elif layout in ("golang-migrate", "sqlx"):
        for n in names:
            if n.endswith(".up.sql"):
                data = read(os.path.join(folder, n))
                yield data, data.startswith(b"-- no-transaction")
    elif layout == "sqlx-simple":
        for n in names:
            if n.endswith(".sql"):
                yield read(os.path.join(folder, n)), False
    elif layout == "pop":
        for n in names:
            if n.endswith(".up.sql") and ".mysql." not in n:
                yield read(os.path.join(folder, n)), ".autocommit." in n
    elif layout == "flyway":
        for n in sorted((n for n in names if n.startswith("V")), key=flyway_key):
            yield read(os.path.join(folder, n)), False
        for n in names:
            if n.startswith("R__"):
                yield read(os.path.join(folder, n)), False
    elif layout == "diesel":
        for n in names:
            d = os.path.join(folder, n)
            if os.path.isdir(d):
                meta = os.path.join(d, "metadata.toml")
                notx = os.path.exists(meta) and re.search(
                    rb"run_in_transaction\s*=\s*false", read(meta)) is not None
                yield read(os.path.join(d, "up.sql")), notx
    else:
        sys.exit("unknown layout " + layout)


def main():
    layout, folder, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    for i, (data, notx) in enumerate(scripts(layout, folder), 1):
        with open(os.path.join(out, "%03d.sql" % i), "wb") as f:
            f.write(data)
        if notx or b"CONCURRENTLY" in data:
            open(os.path.join(out, "%03d.notx" % i), "w").close()


if __name__ == "__main__":
    main()
