# Golden values for replicate weights made from a design (R survey's
# as.svrepdesign: jk1weights, jknweights, brrweights with hadamard, and
# bootstrap analysis on weights dotm made).
#
# For each deterministic design: its replicate factors per PSU (R's
# compressed repweights, PSUs in order of appearance), scale, rscales and
# degf, and estimates on it. For the bootstrap designs, R reads the
# replicates dotm made (boot_weights.csv: PSU draw counts, written by
# `go test -run TestMakeReplicatesBootstrap -update ./analysis/`) and
# analyses them with svrepdesign. hadamard(n) for n = 1..300 is summarised
# by its size and two weighted sums of its entries.
#
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript repmake.R > expected.tsv
suppressMessages(library(survey))
f <- function(x) sprintf("%.17g", x)
out <- function(name, ...) cat(name, "\t", paste(f(c(...)), collapse = "\t"), "\n", sep = "")
cat("# name\tvalues...\n")
d <- read.csv("../r-calibrated/sample.csv")
d$N <- 200
even <- d[d$stratum %in% c("s1", "s4", "s6"), ]
merge3 <- d[!(d$psu %in% c("s3-2", "s3-3", "s5-2", "s5-3")), ]
lone <- function(rule, expr) { old <- options(survey.lonely.psu = rule); on.exit(options(old)); expr }
designs <- list(
  jk1 = as.svrepdesign(svydesign(ids = ~psu, weights = ~w0, data = d), type = "JK1"),
  jk1fpc = as.svrepdesign(svydesign(ids = ~psu, weights = ~w0, fpc = ~N, data = d), type = "JK1"),
  jkn = as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, data = d[d$stratum != "s7", ]), type = "JKn"),
  jknadj = lone("adjust", as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, fpc = ~fpc1, data = d), type = "JKn")),
  jknavg = lone("average", as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, data = d), type = "JKn")),
  brr = as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, data = d), type = "BRR", small = "split", large = "merge"),
  fay = as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, data = even), type = "Fay", fay.rho = 0.3),
  brrmerge = as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, data = merge3), type = "BRR", small = "merge", large = "merge"))
estimates <- function(nm, ds) {
  p <- function(what, ...) out(paste0(nm, ".", what), ...)
  p("degf", degf(ds))
  e <- svymean(~cons, ds, na.rm = TRUE); p("mean.cons", coef(e), SE(e))
  e <- svytotal(~remit, ds); p("total.remit", coef(e), SE(e))
  e <- svyratio(~remit, ~hh_size, ds); p("ratio", coef(e), SE(e))
  e <- svymean(~migrant, ds); for (i in seq_along(coef(e))) p(paste0("prop.", names(coef(e))[i]), coef(e)[i], SE(e)[i])
  e <- svymean(~bank, subset(ds, migrant == "current")); p("domain.bank.current", coef(e), SE(e))
  b <- svyby(~bank, ~migrant, ds, svymean)
  for (i in seq_len(nrow(b))) p(paste0("by.bank.", b$migrant[i]), coef(b)[i], SE(b)[i])
}
for (nm in names(designs)) {
  ds <- designs[[nm]]
  rw <- ds$repweights
  out(paste0(nm, ".spec"), ncol(rw$weights), ds$scale, ds$rscales)
  psus <- unique(ds$variables$psu)
  for (k in seq_along(psus)) out(paste0(nm, ".f.", psus[k]), rw$weights[k, ])
  estimates(nm, ds)
}
# Bootstrap and subbootstrap replicates that dotm made (the number of times
# each row's PSU was drawn), analysed by R. The subbootstrap's design is
# unstratified (stratum s7 has one PSU) and rescales counts by n/(n - 1).
if (file.exists("boot_weights.csv")) {
  bw <- read.csv("boot_weights.csv")
  n <- length(unique(d$psu))
  for (nm in c("boot", "subboot")) {
    counts <- as.matrix(bw[, grep(paste0("^", nm, "_[0-9]+$"), names(bw), value = TRUE)])
    if (nm == "subboot") counts <- counts * n / (n - 1)
    ds <- svrepdesign(data = d, repweights = counts, weights = ~w0, type = "bootstrap",
      scale = bw[1, paste0(nm, "_scale")], rscales = rep(1, ncol(counts)), combined.weights = FALSE)
    estimates(nm, ds)
  }
}
for (n in 1:300) {
  H <- hadamard(n)
  i <- row(H); j <- col(H)
  out(paste0("hadamard.", n), nrow(H), ncol(H), sum(H * ((i * 31 + j * 17) %% 1009)), sum(H * ((i * 7 + j * j) %% 997)))
}
