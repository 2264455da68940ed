# Golden values for a release's replicate weights: R's svrepdesign, declared
# exactly as the release's codebook says (declaration.R, the codebook's R
# code), on the released columns (released.csv: the weight, two variables,
# and each replicate's factor repw_r / weight, so that weight * f_r is the
# released repw_r bit for bit). Both files are written by
#   go test -run TestReleaseReplicateWeights -update ./exports/
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript release.R > expected.tsv
suppressMessages(library(survey))
f <- function(x) sprintf("%.17g", x)
out <- function(name, ...) cat(name, "\t", paste(f(c(...)), collapse = "\t"), "\n", sep = "")
cat("# name\tvalues...\n")
rel <- read.csv("released.csv", colClasses = c(migrant = "character"))
households <- rel[, c("weight", "remit_received", "migrant")]
fcols <- grep("^f_[0-9]+$", names(rel), value = TRUE)
for (r in seq_along(fcols)) households[[paste0("repw_", r)]] <- rel$weight * rel[[fcols[r]]]
# The codebook's declaration, without its read_parquet (no arrow here).
decl <- readLines("declaration.R")
decl <- decl[!grepl("library\\(arrow\\)|read_parquet", decl)]
eval(parse(text = decl))
out("degf", degf(des))
e <- svymean(~remit_received, des); out("mean.remit", coef(e), SE(e))
e <- svytotal(~remit_received, des); out("total.remit", coef(e), SE(e))
e <- svymean(~migrant, des); for (i in seq_along(coef(e))) out(paste0("prop.", names(coef(e))[i]), coef(e)[i], SE(e)[i])
b <- svyby(~remit_received, ~migrant, des, svymean)
for (i in seq_len(nrow(b))) out(paste0("by.remit.", b$migrant[i]), coef(b)[i], SE(b)[i])
