#!/usr/bin/env python3
"""Checks by hand (CI has no Python) that `dotm forms convert --to xlsx` keeps
an XLSForm whole: for every workbook of testdata/pyxform, pyxform must give
the same XForm for the original and for dotm's copy (compared with
attributes sorted and the <value> forms of an itext <text> sorted, since
dotm writes the columns in its own order), and openpyxl in read-only mode
(as pyxform, pandas and ODK Central open workbooks) must see every cell of
dotm's copy.

Usage, from the repository root:

    go build -o /tmp/dotm ./cmd/dotm
    python3 questionnaire/testdata/pyxform_roundtrip.py /tmp/dotm PYXFORM_SOURCE_DIR

PYXFORM_SOURCE_DIR holds pyxform's package directory (github.com/XLSForm/pyxform,
tested with 4.5.0); it needs openpyxl, lark, defusedxml and xlrd (Debian:
python3-openpyxl python3-lark python3-defusedxml python3-xlrd).
"""

import glob
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

dotm, pyxform_src = sys.argv[1], sys.argv[2]
sys.path.insert(0, pyxform_src)
import openpyxl  # noqa: E402
from pyxform.xls2xform import convert  # noqa: E402


def canon(e):
    kids = [canon(k) for k in e]
    if e.tag.endswith("}text"):
        kids.sort()
    attrs = " ".join(f"{k}={v!r}" for k, v in sorted(e.attrib.items()))
    return f"<{e.tag} {attrs}>{(e.text or '').strip()}" + "".join(kids) + f"</{e.tag}>{(e.tail or '').strip()}"


def xform(path, name):
    try:
        return canon(ET.fromstring(convert(xlsform=path, form_name=name).xform))
    except Exception as err:  # pyxform refuses the form
        return "refused: " + " ".join(str(err).split())[:100]


def cells_read_only(path):
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    return sum(1 for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c not in (None, ""))


def cells_full(path):
    wb = openpyxl.load_workbook(path, data_only=True)
    return sum(1 for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c not in (None, ""))


here = os.path.dirname(os.path.abspath(__file__))
failed = 0
with tempfile.TemporaryDirectory() as tmp:
    for src in sorted(glob.glob(os.path.join(here, "pyxform", "*.xlsx"))):
        name = os.path.basename(src)[:-5]
        out = os.path.join(tmp, name + ".xlsx")
        run = subprocess.run([dotm, "forms", "convert", src, "--to", "xlsx", "--out", out], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{name:28} dotm refuses the form (not converted)")
            continue
        a, b = xform(src, name), xform(out, name)
        ro, full = cells_read_only(out), cells_full(out)
        ok = a == b and ro == full
        failed += not ok
        verdict = "same XForm" if a == b else "DIFFERENT XForm"
        if a.startswith("refused") and a == b:
            verdict = "pyxform refuses both"
        print(f"{name:28} {verdict}; read-only openpyxl sees {ro} of {full} cells")
sys.exit(1 if failed else 0)
