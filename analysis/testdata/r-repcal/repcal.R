# Golden values for calibrated replicate designs (R survey's calibrate,
# rake and postStratify on a replicate design made by as.svrepdesign): each
# replicate is calibrated to the same population totals as the full sample.
# The calibrated full-sample weights are written to calibrated.csv so that
# dotm reads the very weights R made (and derives the totals from them).
#
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript repcal.R > expected.tsv     (writes calibrated.csv)
suppressMessages(library(survey))
f <- function(x) sprintf("%.17g", x)
out <- function(name, ...) cat(name, "\t", paste(f(c(...)), collapse = "\t"), "\n", sep = "")
cat("# name\tvalues...\n")
d <- read.csv("../r-calibrated/sample.csv")
d <- d[d$stratum != "s7", ]
d$urban_f <- factor(d$urban)
lin <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, data = d)
base <- list(JKn = as.svrepdesign(lin, type = "JKn"), Fay = as.svrepdesign(lin, type = "Fay", fay.rho = 0.5, large = "merge"))
# Population totals: the sample's weighted totals, shifted.
pop.ps <- as.data.frame(svytable(~region + urban, lin))
pop.ps$Freq <- round(pop.ps$Freq * c(1.1, 0.9, 1.05, 0.95, 1.2, 0.85, 1, 1.1)[seq_len(nrow(pop.ps))])
pop.region <- as.data.frame(svytable(~region, lin)); pop.region$Freq <- round(pop.region$Freq * c(1.1, 0.92, 1.04, 0.97)[seq_len(nrow(pop.region))])
pop.sex <- as.data.frame(svytable(~sex_head, lin)); pop.sex$Freq <- round(pop.sex$Freq * sum(pop.region$Freq) / sum(pop.sex$Freq) * c(1.03, 0.99))
pop.sex$Freq[2] <- sum(pop.region$Freq) - pop.sex$Freq[1]
totals <- function(formula) {
  mm <- model.matrix(formula, d)
  t <- colSums(mm * d$w0)
  t * seq(1.02, 0.98, length.out = length(t))
}
greg.f <- ~region + urban_f + hh_size + age_head + land
rak.f <- ~region + sex_head
rak.pop <- c(sum(pop.region$Freq), pop.region$Freq[-1], pop.sex$Freq[-1])
cals <- list(
  ps = function(ds) postStratify(ds, ~region + urban, pop.ps),
  rake = function(ds) rake(ds, list(~region, ~sex_head), list(pop.region, pop.sex), control = list(maxit = 1000, epsilon = 1e-13)),
  greg = function(ds) calibrate(ds, greg.f, totals(greg.f)),
  bgreg = function(ds) calibrate(ds, greg.f, totals(greg.f), bounds = c(0.75, 1.3), epsilon = 1e-12),
  raking = function(ds) calibrate(ds, rak.f, rak.pop, calfun = "raking", epsilon = 1e-12),
  braking = function(ds) calibrate(ds, rak.f, rak.pop, calfun = "raking", bounds = c(0.8, 1.25), epsilon = 1e-12))
cols <- d[, c("stratum", "psu", "w0", "region", "urban", "sex_head", "hh_size", "age_head", "land", "migrant", "cons", "remit", "bank")]
for (type in names(base)) for (cal in names(cals)) {
  nm <- paste0(tolower(type), ".", cal)
  ds <- cals[[cal]](base[[type]])
  cols[[paste0("w_", tolower(type), "_", cal)]] <- sprintf("%.17g", weights(ds, "sampling"))
  p <- function(what, ...) out(paste0(nm, ".", what), ...)
  p("degf", degf(ds))
  e <- svymean(~cons, ds, na.rm = TRUE); p("mean.cons", coef(e), SE(e))
  e <- svytotal(~remit, ds); p("total.remit", coef(e), SE(e))
  e <- svyratio(~remit, ~hh_size, ds); p("ratio", coef(e), SE(e))
  e <- svymean(~migrant, ds); for (i in seq_along(coef(e))) p(paste0("prop.", names(coef(e))[i]), coef(e)[i], SE(e)[i])
  e <- svymean(~bank, subset(ds, migrant == "current")); p("domain.bank.current", coef(e), SE(e))
  b <- svyby(~bank, ~migrant, ds, svymean)
  for (i in seq_len(nrow(b))) p(paste0("by.bank.", b$migrant[i]), coef(b)[i], SE(b)[i])
  e <- svytotal(~region, ds); p("total.region", SE(e))
  m <- svyglm(cons ~ migrant + urban + hh_size, ds)
  s <- summary(m)$coefficients
  p("lm.coef", s[, 1]); p("lm.se", s[, 2])
}
write.csv(cols, "calibrated.csv", row.names = FALSE, na = "", quote = FALSE)
