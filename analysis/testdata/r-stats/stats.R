# Golden values for the statistics R survey users reach for beyond means
# and totals: totals and shares of every level of a factor, svyby over
# several variables, svychisq's statistics, deff = "replace" and deft,
# svyciprop, svyvar, svyglm families and formulas, svycontrast,
# regTermTest, svyquantile's rules and intervals. On the api designs
# (../r-survey-api) and on calibrated designs of ../r-calibrated/sample.csv
# (its weights are remade here by R from w0, as calibrated.R made them).
#
# Keys are DESIGN.ID[.ITEM]; the test (stats_test.go) runs the same plan
# entries and compares every value to 1e-9 relative.
#
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript stats.R > expected.tsv
suppressMessages(library(survey))
# The api samples as dotm reads them (their CSV, 15 significant digits).
api <- function(f) read.csv(file.path("../r-survey-api", f), stringsAsFactors = TRUE)
apistrat <- api("apistrat.csv"); apiclus1 <- api("apiclus1.csv"); apiclus2 <- api("apiclus2.csv")
f <- function(x) sprintf("%.17g", x)
out <- function(name, ...) cat(name, "\t", paste(f(c(...)), collapse = "\t"), "\n", sep = "")
cat("# name\tvalues...\n")

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)

options(survey.lonely.psu = "adjust")
d <- read.csv("../r-calibrated/sample.csv", stringsAsFactors = FALSE)
des0 <- svydesign(ids = ~psu + hh, strata = ~stratum, fpc = ~fpc1 + fpc2, weights = ~w0, data = d)
N <- sum(d$w0) * 1.04
pop_region <- data.frame(region = c("east", "north", "south", "west"), Freq = N * c(.24, .33, .31, .12))
pop_sex <- data.frame(sex_head = c("female", "male"), Freq = N * c(.37, .63))
rake_d <- rake(des0, list(~region, ~sex_head), list(pop_region, pop_sex), control = list(maxit = 200, epsilon = 1e-14))
stopifnot(max(abs(weights(rake_d) / d$w_rake - 1)) < 1e-12)
greg_f <- ~region + urban + sex_head + hh_size + age_head + land + x1 + x2 + x3 + x4
mm <- model.matrix(greg_f, d)
pop_greg <- colSums(mm * d$w0) * c(1.04, 0.97, 1.02, 1.06, 1.01, 0.99, 1.03, 1.02, 0.98, 1.05, 1.01, 0.97, 1.02)
greg_d <- calibrate(des0, greg_f, pop_greg)
stopifnot(max(abs(weights(greg_d) / d$w_greg - 1)) < 1e-12)
designs <- list(clus1 = dclus1, strat = dstrat, clus2 = dclus2, fixed = des0, rake = rake_d, greg = greg_d)

# est, se and deff of each element of a svystat.
stat <- function(key, e, de = TRUE, deft = FALSE) {
  for (i in seq_along(coef(e))) {
    v <- c(coef(e)[i], SE(e)[i])
    if (de) v <- c(v, deff(e)[i])
    if (deft) v <- c(v, sqrt(deff(e)[i]))
    out(if (length(coef(e)) > 1) paste0(key, ".", names(coef(e))[i]) else key, v)
  }
}
# one row per domain of a svyby: est, se (and deff).
by <- function(key, b, de = FALSE) {
  lab <- rownames(b)
  for (i in seq_len(nrow(b))) {
    v <- c(coef(b)[i], SE(b)[i])
    if (de) v <- c(v, deff(b)[i])
    out(paste0(key, ".", lab[i]), v)
  }
}

## 1. Totals and shares of every level of a factor (svytotal/svymean of a factor).
stat("clus1.tot_stype", svytotal(~stype, dclus1, deff = TRUE))
stat("strat.tot_stype", svytotal(~stype, dstrat, deff = "replace"), deft = TRUE)
stat("clus2.tot_awards", svytotal(~awards, dclus2, deff = TRUE))
for (nm in c("fixed", "rake", "greg")) {
  ds <- designs[[nm]]
  stat(paste0(nm, ".tot_migrant"), svytotal(~migrant, ds, deff = TRUE))
  stat(paste0(nm, ".tot_urban"), svytotal(~factor(urban), ds, deff = TRUE))
  stat(paste0(nm, ".tot_migrant_f"), svytotal(~migrant, subset(ds, sex_head == "female"), deff = TRUE))
  b <- svyby(~migrant, ~sex_head, ds, svytotal)
  cf <- coef(b); se <- as.vector(as.matrix(SE(b)))
  for (i in seq_along(cf)) out(paste0(nm, ".by_tot_migrant.", sub(":", ".", names(cf)[i])), cf[i], se[i])
}

## 2. svyby over several variables.
by("clus1.by2_mean", svyby(~api00, ~stype + sch.wide, dclus1, svymean, deff = TRUE), de = TRUE)
by("clus2.by2_total", svyby(~enroll, ~stype + comp.imp, dclus2, svytotal, na.rm = TRUE))
by("strat.by3_mean", svyby(~api00, ~stype + sch.wide + awards, dstrat, svymean))
for (nm in c("fixed", "rake", "greg")) {
  ds <- designs[[nm]]
  by(paste0(nm, ".by2_mean"), svyby(~bank, ~migrant + region, ds, svymean))
  by(paste0(nm, ".by2_ratio"), svyby(~remit, ~migrant + urban, ds, svyratio, denominator = ~hh_size))
  by(paste0(nm, ".by2_total"), svyby(~cons, ~sex_head + region, ds, svytotal, na.rm = TRUE, deff = TRUE), de = TRUE)
}

## 4. deff = "replace" and deft.
stat("clus1.deffr_mean", svymean(~api00, dclus1, deff = "replace"), deft = TRUE)
stat("clus1.deffr_total", svytotal(~enroll, dclus1, deff = "replace"), deft = TRUE)
stat("clus1.deffr_prop", svymean(~stype, dclus1, deff = "replace"), deft = TRUE)
r <- svyratio(~api.stu, ~enroll, dclus1, deff = "replace"); out("clus1.deffr_ratio", coef(r), SE(r), deff(r), sqrt(deff(r)))
stat("clus2.deffr_mean", svymean(~api00, dclus2, deff = "replace"), deft = TRUE)
for (nm in c("fixed", "rake", "greg")) {
  ds <- designs[[nm]]
  stat(paste0(nm, ".deffr_mean"), svymean(~cons, ds, na.rm = TRUE, deff = "replace"), deft = TRUE)
  stat(paste0(nm, ".deffr_total"), svytotal(~remit, ds, deff = "replace"), deft = TRUE)
  stat(paste0(nm, ".deffr_dom"), svymean(~bank, subset(ds, migrant == "current"), deff = "replace"), deft = TRUE)
}

## 3. svychisq's statistics.
chi <- function(key, formula, ds) {
  for (s in c("F", "Chisq", "Wald", "adjWald")) {
    ch <- svychisq(formula, ds, statistic = s)
    out(paste0(key, "_", s), ch$statistic, ch$parameter, ch$p.value)
  }
}
chi("strat.chisq", ~stype + awards, dstrat)
chi("clus1.chisq", ~stype + both, dclus1)
chi("clus2.chisq", ~sch.wide + comp.imp, dclus2)
chi("clus1.chisq_sub", ~sch.wide + awards, subset(dclus1, stype != "H"))
for (nm in c("fixed", "rake", "greg")) {
  chi(paste0(nm, ".chisq"), ~migrant + region, designs[[nm]])
  chi(paste0(nm, ".chisq_sub"), ~migrant + bank, subset(designs[[nm]], sex_head == "female"))
}

## 5. svyciprop intervals (est, se, ci).
cip <- function(key, formula, ds) {
  for (m in c("logit", "likelihood", "mean", "beta", "asin", "xlogit")) {
    e <- svyciprop(formula, ds, method = m)
    out(paste0(key, "_", m), coef(e), SE(e), confint(e))
  }
}
cip("clus1.ciprop", ~I(stype == "H"), dclus1)
cip("strat.ciprop", ~I(awards == "No"), dstrat)
cip("clus2.ciprop", ~I(sch.wide == "No"), dclus2)
cip("clus1.ciprop_sub", ~I(awards == "No"), subset(dclus1, stype == "E"))
for (nm in c("fixed", "rake", "greg")) {
  ds <- designs[[nm]]
  cip(paste0(nm, ".ciprop"), ~remit, ds)
  cip(paste0(nm, ".ciprop_sub"), ~remit, subset(ds, migrant == "none"))
  cip(paste0(nm, ".ciprop_lv"), ~I(migrant == "return"), ds)
  b <- svyby(~remit, ~migrant, ds, svyciprop, method = "beta", vartype = c("se", "ci"))
  for (i in seq_len(nrow(b))) out(paste0(nm, ".by_ciprop.", b$migrant[i]), b[i, 2], b[i, 3], b[i, 4], b[i, 5])
}

## 6. svyvar.
v <- function(key, e) out(key, coef(e), SE(e))
v("clus1.var", svyvar(~api00, dclus1))
v("strat.var", svyvar(~enroll, dstrat))
v("clus2.var", svyvar(~enroll, dclus2, na.rm = TRUE))
v("clus1.var_sub", svyvar(~api00, subset(dclus1, stype == "E")))
for (nm in c("fixed", "rake", "greg")) {
  ds <- designs[[nm]]
  v(paste0(nm, ".var"), svyvar(~cons, ds, na.rm = TRUE))
  v(paste0(nm, ".var_sub"), svyvar(~hh_size, subset(ds, migrant == "current")))
  b <- svyby(~hh_size, ~migrant + urban, ds, svyvar)
  for (i in seq_len(nrow(b))) out(paste0(nm, ".by_var.", rownames(b)[i]), coef(b)[i], SE(b)[i])
}

## 7. svyglm families and formulas, meff (svyglm deff = TRUE), regTermTest, svycontrast.
# Rows: KEY.COEF est, se, p, meff; KEY.test_N: F, df, ddf, p (or chisq, df, p);
# KEY.contrast.NAME: est, se.
glmout <- function(key, g, tests = list(), contrasts = list()) {
  cf <- summary(g)$coefficients
  for (r in rownames(cf)) out(paste0(key, ".", r), cf[r, 1], cf[r, 2], cf[r, 4], deff(g)[r])
  for (i in seq_along(tests)) {
    tt <- regTermTest(g, tests[[i]])
    out(paste0(key, ".test_", i), tt$Ftest, tt$df, tt$ddf, tt$p)
    tt <- regTermTest(g, tests[[i]], df = Inf)
    out(paste0(key, ".chisq_", i), tt$chisq, tt$df, tt$p)
  }
  for (nm in names(contrasts)) {
    cc <- svycontrast(g, contrasts[[nm]])
    out(paste0(key, ".contrast.", nm), coef(cc), SE(cc))
  }
}
glmout("strat.glm_lm", svyglm(api00 ~ ell * stype + I(meals^2), dstrat, deff = TRUE),
  list(~stype, ~ell:stype + I(meals^2)), list(hm = c(stypeH = 1, stypeM = -1)))
glmout("clus1.glm_pois", svyglm(enroll ~ stype + I(api00/100), dclus1, family = poisson, deff = TRUE),
  list(~stype), list(eh = c("(Intercept)" = 1, stypeH = 1)))
glmout("clus1.glm_qpois", svyglm(enroll ~ stype + I(api00/100), dclus1, family = quasipoisson, deff = TRUE))
glmout("clus2.glm_pois", svyglm(enroll ~ stype * comp.imp + log(api99), dclus2, family = quasipoisson, deff = TRUE),
  list(~stype:comp.imp))
glmout("clus1.glm_logit", svyglm(sch.wide ~ api00 + I(api00 > 700) + stype:mobility, dclus1, family = quasibinomial, deff = TRUE),
  list(~stype:mobility))
for (nm in c("fixed", "rake", "greg")) {
  ds <- designs[[nm]]
  glmout(paste0(nm, ".glm_pois"), svyglm(hh_size ~ migrant * factor(urban) + I(age_head^2) + land, ds, family = poisson, deff = TRUE),
    list(~migrant + migrant:factor(urban), ~I(age_head^2)), list(gap = c(migrantnone = 1, migrantreturn = -1)))
  glmout(paste0(nm, ".glm_qpois"), svyglm(hh_size ~ migrant + sex_head:migrant, ds, family = quasipoisson, deff = TRUE),
    list(~migrant:sex_head))
  glmout(paste0(nm, ".glm_lm"), svyglm(cons ~ migrant * sex_head + I(land^2) + x1:x2, ds, deff = TRUE),
    list(~migrant:sex_head), list(d = c("migrantnone:sex_headmale" = 1, "migrantreturn:sex_headmale" = -1)))
  glmout(paste0(nm, ".glm_sub"), svyglm(remit ~ migrant + hh_size, subset(ds, region != "west"), family = quasibinomial, deff = TRUE),
    list(~migrant))
}

## svycontrast of domain estimates (means, totals, ratios of a by entry),
# with the domains' joint covariance: svyratio/svytotal of the products of
# the variable and each domain's indicator, covmat = TRUE. KEY.contrast.NAME: est, se.
dcon <- function(key, ds, by, y, x = NULL, type = "mean", contrasts) {
  v <- ds$variables
  lv <- sort(unique(v[[by]]))
  k <- length(lv)
  ind <- sapply(lv, function(l) as.numeric(v[[by]] == l))
  num <- ind * v[[y]]
  den <- if (type == "ratio") ind * v[[x]] else ind
  colnames(num) <- paste0("n", seq_len(k)); colnames(den) <- paste0("d", seq_len(k))
  ds2 <- update(ds, tmp = 0)
  ds2$variables <- cbind(ds2$variables, num, den)
  if (type == "total") {
    e <- svytotal(make.formula(colnames(num)), ds2)
    th <- coef(e); V <- vcov(e)
  } else {
    e <- svyratio(make.formula(colnames(num)), make.formula(colnames(den)), ds2, covmat = TRUE)
    idx <- (seq_len(k) - 1) * k + seq_len(k)
    th <- coef(e)[idx]; V <- vcov(e)[idx, idx]
  }
  for (nm in names(contrasts)) {
    cc <- contrasts[[nm]][as.character(lv)]; cc[is.na(cc)] <- 0
    out(paste0(key, ".contrast.", nm), sum(cc * th), sqrt(drop(t(cc) %*% V %*% cc)))
  }
}
dcon("clus1.byc_mean", dclus1, "stype", "api00", contrasts = list(eh = c(E = 1, H = -1), avg = c(E = 1, H = -0.5, M = -0.5)))
dcon("strat.byc_mean", dstrat, "stype", "api00", contrasts = list(eh = c(E = 1, H = -1)))
dcon("clus2.byc_total", dclus2, "stype", "api00", type = "total", contrasts = list(em = c(E = 1, M = -1)))
for (nm in c("fixed", "rake", "greg")) {
  ds <- designs[[nm]]
  dcon(paste0(nm, ".byc_mean"), ds, "migrant", "bank", contrasts = list(gap = c(current = 1, none = -1), avg = c(current = 1, none = -0.5, return = -0.5)))
  dcon(paste0(nm, ".byc_total"), ds, "migrant", "bank", type = "total", contrasts = list(gap = c(current = 1, none = -1)))
  dcon(paste0(nm, ".byc_ratio"), ds, "migrant", "remit", "hh_size", type = "ratio", contrasts = list(gap = c(current = 1, return = -1)))
}

## 8. svyquantile's rules and interval types. KEY.q_RULE_INTERVAL.P: est, se, lo, hi.
qrules <- c("math", "school", "shahvaish", paste0("hf", 1:9))
quant <- function(key, formula, ds, ps, na.rm = FALSE) {
  v <- all.vars(formula)
  for (rule in qrules) for (it in c("mean", "beta", "xlogit", "asin", "score")) {
    if (it != "mean" && !(rule %in% c("math", "hf7", "school"))) next
    q <- svyquantile(formula, ds, ps, qrule = rule, interval.type = it, ci = TRUE, na.rm = na.rm)[[v]]
    for (i in seq_along(ps)) out(paste0(key, ".q_", rule, "_", it, ".", ps[i]), q[i, 1], q[i, 4], q[i, 2], q[i, 3])
  }
}
quant("strat", ~api00, dstrat, c(0.25, 0.5, 0.9))
quant("clus1", ~enroll, subset(dclus1, stype == "E"), c(0.1, 0.5))
quant("clus2", ~api00, dclus2, c(0.5, 0.75))
for (nm in c("fixed", "rake", "greg")) {
  ds <- designs[[nm]]
  quant(nm, ~cons, ds, c(0.2, 0.5), na.rm = TRUE)
  quant(paste0(nm, ".sub"), ~amt, subset(ds, migrant == "return"), c(0.5), na.rm = TRUE)
}
