#!/usr/bin/env python3
"""Prints the reference values of TestXLSXCellText (xlsx_test.go): how
openpyxl converts a number cell to a date, time or duration and how pyxform
(xls2json_backends.xlsx_value_to_str) writes numbers, i.e. Python's str().

Run with openpyxl 3.1 (the version pyxform requires); Debian 12's 3.0.9
differs for formats whose first letter is a date letter ("d") and "_d0".
"""
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.datetime import from_excel

for v in [1, 59, 60, 61, 0.5, 0.999999999, 44662.68505753472, 45000.25, 1e-07, 36526]:
    print("date", repr(v), repr(str(from_excel(v))))
for v in [1.5, 0.25, -0.5, 2.000000011, 1.5 / 86400 / 1000, 3.0]:
    print("duration", repr(v), repr(str(from_excel(v, timedelta=True))))
for f in ["yyyy-mm-dd", "mm-dd-yy", "0.00", "[Red]0.00", "[h]:mm:ss", '"day" 0', "[$-409]General",
          "#,##0_);[Red](#,##0)", "General", "\\d0", "_d0", "h:mm AM/PM", "[hh]", "[hhh]0", "", "d"]:
    print("format", repr(f), is_date_format(f))
for x in [0.1 + 0.2, 1e-05, 1.5e16, 123.456, 2.0, -0.5, 1e22, 0.0001, 0.0]:
    print("number", repr(x), repr(str(int(x)) if x.is_integer() else str(x)))
