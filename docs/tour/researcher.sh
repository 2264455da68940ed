#!/bin/sh
# The researcher: a published release, analysed with the design it declares.
# Run it in the folder of a finished `dotm demo` (make demo writes ./demo);
# DOTM names the dotm binary (default: dotm).
set -eu
DOTM=${DOTM:-dotm}

ls release                                             # Parquet tables, codebook, disclosure report, manifest
sed -n '/^## Declaring the sampling design/,/^```$/p' release/codebook.md   # the design in R, Stata, Python
head -3 release/disclosure-report.md
$DOTM analyze --format table plan.yaml                 # the demo's plan over release/households.parquet
