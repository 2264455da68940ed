# Reads .dta files with R's haven (the independent reader of dotm's Stata
# files) and prints what a researcher gets: per variable its name, R class,
# Stata format, variable label, value labels and every value.
#
#   Rscript exports/testdata/dta/haven.R [--summary] FILE.dta ...
#
# With --summary the values are summarised (count of missing, and for each
# variable an MD5 of its values printed one per line) instead of listed.
suppressPackageStartupMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
summary <- "--summary" %in% args
cat("haven", as.character(packageVersion("haven")), "\n")
show <- function(x) {
  if (is.numeric(x)) return(ifelse(is.na(x), "NA", trimws(formatC(unclass(x), digits = 15, format = "g"))))
  if (inherits(x, "Date")) return(ifelse(is.na(x), "NA", format(x)))
  ifelse(is.na(x), "NA", encodeString(as.character(x), quote = "\""))
}
for (file in setdiff(args, "--summary")) {
d <- read_dta(file)
if (summary) cat("\nfile", basename(file), "\n")
cat("rows", nrow(d), "columns", ncol(d), "\n")
cat("label", attr(d, "label"), "\n")
for (v in names(d)) {
  x <- d[[v]]
  cat("\nvariable", v, "\n")
  cat("  class", paste(class(x), collapse = " "), "\n")
  cat("  format", attr(x, "format.stata"), "\n")
  cat("  label", encodeString(if (is.null(attr(x, "label"))) "" else attr(x, "label"), quote = "\""), "\n")
  labs <- attr(x, "labels")
  if (!is.null(labs)) {
    for (i in seq_along(labs)) cat("  value", trimws(formatC(unclass(labs[[i]]), digits = 15, format = "g")), "=", encodeString(names(labs)[i], quote = "\""), "\n")
  }
  vals <- show(x)
  if (summary) {
    f <- tempfile()
    writeLines(vals, f, useBytes = TRUE)
    cat("  missing", sum(is.na(x)), "md5", unname(tools::md5sum(f)), "\n")
  } else {
    cat("  values", paste(vals, collapse = " "), "\n")
  }
}
}
