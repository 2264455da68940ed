# Golden values for replicate-weight designs (R survey's svrepdesign on
# replicate weights that as.svrepdesign made): JK1, JKn, bootstrap, and the
# same JKn weights as type "other" with mse. The replicate weights are
# written with the data so that dotm reads the very same columns.
#
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript replicate.R > expected.tsv     (writes replicates.csv)
suppressMessages(library(survey))
set.seed(4)
f <- function(x) sprintf("%.17g", x)
out <- function(name, ...) cat(name, "\t", paste(f(c(...)), collapse = "\t"), "\n", sep = "")
cat("# name\tvalues...\n")
d <- read.csv("../r-calibrated/sample.csv")
d <- d[d$stratum != "s7", ]   # JKn needs two PSUs per stratum
lin <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, data = d)
designs <- list(
  jk1 = as.svrepdesign(svydesign(ids = ~psu, weights = ~w0, data = d), type = "JK1"),
  jkn = as.svrepdesign(lin, type = "JKn"),
  boot = as.svrepdesign(lin, type = "bootstrap", replicates = 30))
designs$other <- svrepdesign(data = d, repweights = weights(designs$jkn, "analysis"), weights = ~w0,
  type = "other", scale = designs$jkn$scale, rscales = designs$jkn$rscales, mse = TRUE, combined.weights = TRUE)
cols <- d
for (nm in names(designs)) {
  rw <- weights(designs[[nm]], "analysis")
  for (r in seq_len(ncol(rw))) cols[[sprintf("%s_%d", nm, r)]] <- rw[, r]
  out(paste0(nm, ".spec"), ncol(rw), designs[[nm]]$scale, designs[[nm]]$rscales)
}
for (v in names(cols)) if (is.double(cols[[v]])) cols[[v]] <- ifelse(is.na(cols[[v]]), NA, sprintf("%.17g", cols[[v]]))
write.csv(cols, "replicates.csv", row.names = FALSE, na = "", quote = FALSE)
for (nm in names(designs)) {
  ds <- designs[[nm]]
  p <- function(what, ...) out(paste0(nm, ".", what), ...)
  e <- svymean(~cons, ds, na.rm = TRUE); p("mean.cons", coef(e), SE(e))
  e <- svytotal(~remit, ds); p("total.remit", coef(e), SE(e))
  e <- svyratio(~remit, ~hh_size, ds); p("ratio", coef(e), SE(e))
  e <- svymean(~migrant, ds); for (i in seq_along(coef(e))) p(paste0("prop.", names(coef(e))[i]), coef(e)[i], SE(e)[i])
  e <- svymean(~bank, subset(ds, migrant == "current")); p("domain.bank.current", coef(e), SE(e))
  b <- svyby(~bank, ~migrant, ds, svymean)
  for (i in seq_len(nrow(b))) p(paste0("by.bank.", b$migrant[i]), coef(b)[i], SE(b)[i])
}
# Quantiles, t tests, chi-square tests and regressions on the same designs
# (R's methods for svyrep.design: svyquantile's Woodruff interval with the
# replicates' variance, svyttest and svyglm refitting each replicate,
# svychisq's Rao-Scott F with the replicates' covariance).
for (nm in names(designs)) {
  ds <- designs[[nm]]
  p <- function(what, ...) out(paste0(nm, ".", what), ...)
  p("degf", degf(ds))
  q <- svyquantile(~cons, ds, 0.5, na.rm = TRUE)$cons
  p("quantile.cons", q[1, 1], q[1, 4], q[1, 2], q[1, 3])
  q <- svyquantile(~amt, subset(ds, migrant == "return"), c(0.25, 0.5), na.rm = TRUE)$amt
  for (i in 1:2) p(paste0("quantile.amt.return.", i), q[i, 1], q[i, 4], q[i, 2], q[i, 3])
  p("quantile.amt.return.df", degf(subset(ds, migrant == "return" & !is.na(amt))))
  tt <- svyttest(bank ~ sex_head, ds)
  p("ttest.bank.sex_head", tt$estimate, tt$statistic, tt$parameter, tt$p.value)
  tt <- svyttest(cons ~ remit, subset(ds, migrant != "none"))
  p("ttest.cons.remit.migrants", tt$estimate, tt$statistic, tt$parameter, tt$p.value)
  cs <- svychisq(~migrant + bank, ds)
  p("chisq.migrant.bank", cs$statistic, cs$parameter, cs$p.value)
  cs <- svychisq(~sex_head + bank, subset(ds, region != "north"))
  p("chisq.sex_head.bank.notnorth", cs$statistic, cs$parameter, cs$p.value)
  for (fam in c("lm", "logit")) {
    m <- if (fam == "lm") svyglm(cons ~ migrant + urban + hh_size, ds) else
      svyglm(bank ~ migrant + urban + hh_size, ds, family = quasibinomial())
    s <- summary(m)$coefficients
    p(paste0(fam, ".coef"), s[, 1]); p(paste0(fam, ".se"), s[, 2]); p(paste0(fam, ".p"), s[, 4]); p(paste0(fam, ".df"), m$df.residual)
  }
}
