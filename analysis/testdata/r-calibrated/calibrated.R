# Golden values for calibrated designs: the variance of R survey's
# svyrecvar with the design's postStrata (calibration residuals), for each
# way dotm makes weights: rake on two margins, postStratify on a two-way
# table, GREG (calibrate linear) with 13 model columns, bounded raking
# (calibrate calfun = "raking" with bounds), and linear calibration, then
# trimWeights, then calibration again.
#
# The sample is a two-stage Development on the Move-like design made here:
# 7 strata, PSUs (enumeration areas) drawn from a frame of known size
# (fpc1), households drawn within PSUs (fpc2), one stratum with a single
# sampled PSU (lonely: survey.lonely.psu = "adjust"), and a nonresponse-like
# adjustment of the base weight (column w0, the weight calibration starts
# from).
#
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript calibrated.R > expected.tsv     (also writes sample.csv)
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
set.seed(20261204)
f <- function(x) sprintf("%.17g", x)
out <- function(name, ...) cat(name, "\t", paste(f(c(...)), collapse = "\t"), "\n", sep = "")
cat("# name\tvalues...\n")

strata <- data.frame(stratum = paste0("s", 1:7),
  region = c("north", "north", "south", "south", "east", "east", "west"),
  urban = c(1, 0, 1, 0, 1, 0, 1),
  frame_psus = c(40, 60, 35, 55, 30, 50, 12),
  n_psus = c(4, 5, 3, 4, 3, 4, 1))
rows <- list()
for (h in seq_len(nrow(strata))) {
  s <- strata[h, ]
  for (j in seq_len(s$n_psus)) {
    M <- sample(60:180, 1)
    m <- sample(8:14, 1)
    rows[[length(rows) + 1]] <- data.frame(stratum = s$stratum, region = s$region, urban = s$urban,
      psu = paste0(s$stratum, "-", j), hh = paste0(s$stratum, "-", j, "-", 1:m),
      fpc1 = s$frame_psus, fpc2 = M, w_base = (s$frame_psus / s$n_psus) * (M / m))
  }
}
d <- do.call(rbind, rows)
n <- nrow(d)
d$w0 <- d$w_base * runif(n, 1, 1.35)   # after a nonresponse adjustment
d$migrant <- sample(c("current", "return", "none"), n, replace = TRUE, prob = c(.35, .2, .45))
d$sex_head <- sample(c("female", "male"), n, replace = TRUE, prob = c(.4, .6))
d$hh_size <- rpois(n, 3.5) + 1
d$age_head <- round(runif(n, 20, 80))
d$remit <- rbinom(n, 1, ifelse(d$migrant == "current", .65, ifelse(d$migrant == "return", .25, .05)))
d$bank <- rbinom(n, 1, .45)
d$cons <- round(exp(rnorm(n, 10 + .2 * (d$migrant == "current") + .1 * d$urban, .5)))
d$land <- round(rgamma(n, 2, 1), 2)
d$x1 <- round(rnorm(n, 5, 2), 3)
d$x2 <- round(runif(n, 0, 10), 3)
d$x3 <- rbinom(n, 1, .3)
d$x4 <- round(rexp(n, .2), 3)
d$cons[sample(n, 6)] <- NA   # missing values for na_rm
d$amt <- ifelse(d$remit == 1, round(exp(rnorm(n, 5, 1))), NA)   # remittances received: missing for non-receivers

des0 <- svydesign(ids = ~psu + hh, strata = ~stratum, fpc = ~fpc1 + fpc2, weights = ~w0, data = d)
N <- sum(d$w0) * 1.04
tight <- list(maxit = 200, epsilon = 1e-14)

# 1. rake on two margins.
pop_region <- data.frame(region = c("east", "north", "south", "west"), Freq = N * c(.24, .33, .31, .12))
pop_sex <- data.frame(sex_head = c("female", "male"), Freq = N * c(.37, .63))
d_rake <- rake(des0, list(~region, ~sex_head), list(pop_region, pop_sex), control = tight)
d$w_rake <- weights(d_rake)

# 2. postStratify on a two-way table (region × urban).
cells <- unique(d[, c("region", "urban")])
cells <- cells[order(cells$region, cells$urban), ]
tab <- xtabs(w0 ~ region + urban, d)
pop_ru <- as.data.frame(tab)
pop_ru$Freq <- pop_ru$Freq * seq(1.01, 1.09, length.out = nrow(pop_ru))
pop_ru <- pop_ru[pop_ru$Freq > 0, ]
d_ps <- postStratify(des0, ~region + urban, pop_ru)
d$w_ps <- weights(d_ps)

# 3. GREG (linear, unbounded) with 13 model columns.
greg_f <- ~region + urban + sex_head + hh_size + age_head + land + x1 + x2 + x3 + x4
mm <- model.matrix(greg_f, d)
pop_greg <- colSums(mm * d$w0) * c(1.04, 0.97, 1.02, 1.06, 1.01, 0.99, 1.03, 1.02, 0.98, 1.05, 1.01, 0.97, 1.02)
d_greg <- calibrate(des0, greg_f, pop_greg)
d$w_greg <- weights(d_greg)
stopifnot(ncol(mm) == 13)

# 4. bounded raking (calibrate with calfun raking and bounds).
rk_f <- ~region + sex_head
mm2 <- model.matrix(rk_f, d)
pop_rk <- colSums(mm2 * d$w0) * c(1.04, 1.1, 0.95, 1.0, 1.07)
d_brk <- calibrate(des0, rk_f, pop_rk, calfun = "raking", bounds = c(0.6, 1.7), epsilon = 1e-13, maxit = 500)
d$w_brake <- weights(d_brk)

# 5. linear calibration, trimming, calibration again.
tr_f <- ~region + urban
mm3 <- model.matrix(tr_f, d)
pop_tr <- colSums(mm3 * d$w0) * c(1.05, 1.02, 0.97, 1.03, 1.0)
d_c1 <- calibrate(des0, tr_f, pop_tr)
d$w_cal1 <- weights(d_c1)
d_tr <- trimWeights(d_c1, upper = quantile(d$w_cal1, .9), lower = quantile(d$w_cal1, .05))
d$w_trim <- weights(d_tr)
d_c2 <- calibrate(d_tr, tr_f, pop_tr)
d$w_cal2 <- weights(d_c2)

dw <- d
for (v in names(dw)) if (is.double(dw[[v]])) dw[[v]] <- ifelse(is.na(dw[[v]]), NA, sprintf("%.17g", dw[[v]]))
write.csv(dw, "sample.csv", row.names = FALSE, na = "", quote = FALSE)

designs <- list(fixed = des0, rake = d_rake, ps = d_ps, greg = d_greg, brake = d_brk, trim = d_c2)
for (nm in names(designs)) {
  ds <- designs[[nm]]
  p <- function(what, ...) out(paste0(nm, ".", what), ...)
  e <- svymean(~cons, ds, na.rm = TRUE); p("mean.cons", coef(e), SE(e))
  e <- svytotal(~remit, ds); p("total.remit", coef(e), SE(e))
  e <- svymean(~migrant, ds); for (i in seq_along(coef(e))) p(paste0("prop.", names(coef(e))[i]), coef(e)[i], SE(e)[i])
  e <- svymean(~sex_head, ds); for (i in seq_along(coef(e))) p(paste0("prop.", names(coef(e))[i]), coef(e)[i], SE(e)[i])
  e <- svyratio(~remit, ~hh_size, ds); p("ratio.remit/hh_size", coef(e), SE(e))
  e <- svymean(~bank, subset(ds, migrant == "current")); p("domain.bank.current", coef(e), SE(e))
  b <- svyby(~bank, ~migrant, ds, svymean)
  for (i in seq_len(nrow(b))) p(paste0("by.bank.", b$migrant[i]), coef(b)[i], SE(b)[i])
  q <- svyquantile(~cons, ds, 0.5, na.rm = TRUE, ci = TRUE)
  p("quantile.cons.0.5", coef(q), SE(q), confint(q))
  tt <- svyttest(bank ~ sex_head, ds)
  p("ttest.bank.sex_head", tt$estimate, tt$statistic, tt$parameter, tt$p.value)
  ch <- svychisq(~migrant + bank, ds)
  p("chisq.migrant.bank", ch$statistic, ch$parameter, ch$p.value)
  g <- svyglm(cons ~ migrant + urban + hh_size, ds)
  p("lm.cons", coef(g), SE(g))
  # na.rm: the interval uses the df of the design without the missing rows.
  sub <- subset(ds, migrant == "return")
  q <- svyquantile(~amt, sub, 0.5, na.rm = TRUE, ci = TRUE)
  p("quantile.amt.return", coef(q), SE(q), confint(q), degf(sub[!is.na(sub$variables$amt), ]))
}

# survey.adjust.domain.lonely: a stratum with one PSU in the domain (but
# more in the sample) is treated as lonely, for "adjust" and "average".
big <- subset(des0, hh_size >= 8)
for (rule in c("adjust", "average")) {
  options(survey.lonely.psu = rule, survey.adjust.domain.lonely = TRUE)
  e <- suppressWarnings(svymean(~bank, big))
  out(paste0("adjdom.", rule, ".mean.bank"), coef(e), SE(e))
  options(survey.adjust.domain.lonely = FALSE)
  e <- svymean(~bank, big)
  out(paste0("noadjdom.", rule, ".mean.bank"), coef(e), SE(e))
}
psus_in <- tapply(d$psu[d$hh_size >= 8], d$stratum[d$hh_size >= 8], function(x) length(unique(x)))
stopifnot(any(psus_in == 1 & table(d$stratum[!duplicated(d$psu)])[names(psus_in)] > 1))

# Normal intervals on request (df: inf in a plan): confint(..., df = Inf).
options(survey.lonely.psu = "adjust", survey.adjust.domain.lonely = FALSE)
e <- svymean(~cons, des0, na.rm = TRUE)
out("dfinf.mean.cons", coef(e), SE(e), confint(e, df = Inf))
q <- svyquantile(~cons, des0, 0.5, na.rm = TRUE, ci = TRUE, df = Inf)
out("dfinf.quantile.cons", coef(q), SE(q), confint(q))
