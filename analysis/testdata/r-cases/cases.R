# Golden values for package analysis beyond ../r-survey-api: domains, missing
# values, each lonely-PSU rule, fpc as fractions, two-stage, quantiles,
# svyttest, svychisq, svyglm (gaussian, quasibinomial), deff, ratios.
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript cases.R > expected.tsv   (also writes lonely.csv)
suppressMessages(library(survey))
data(api)  # the same data as ../r-survey-api/*.csv
o <- function(name, ...) cat(name, sprintf("%.17g", c(...)), sep = "\t"); nl <- function() cat("\n")
out <- function(name, ...) { o(name, ...); nl() }
cat("# name\tvalues...\n")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
est <- function(name, e) out(name, coef(e), SE(e))

# Means, totals, CIs on design df, deff.
e <- svymean(~api00, dclus1, deff = TRUE); out("dclus1.mean.api00(est,se,deff)", coef(e), SE(e), deff(e))
out("dclus1.mean.api00.ci", confint(e, df = degf(dclus1)))
e <- svytotal(~enroll, dclus1, deff = TRUE); out("dclus1.total.enroll(est,se,deff)", coef(e), SE(e), deff(e))
e <- svymean(~api00, dstrat, deff = TRUE); out("dstrat.mean.api00(est,se,deff)", coef(e), SE(e), deff(e))
e <- svytotal(~enroll, dstrat, deff = TRUE); out("dstrat.total.enroll(est,se,deff)", coef(e), SE(e), deff(e))
r <- svyratio(~api.stu, ~enroll, dstrat, deff = TRUE); out("dstrat.ratio.api.stu/enroll(est,se,deff)", coef(r), SE(r), deff(r))
e <- svymean(~stype, dclus1, deff = TRUE)
for (i in seq_along(coef(e))) out(paste0("dclus1.prop.", names(coef(e))[i], "(est,se,deff)"), coef(e)[i], SE(e)[i], deff(e)[i])

# fpc given as sampling fractions.
apistrat$frac <- ave(rep(1, nrow(apistrat)), apistrat$stype, FUN = sum) / apistrat$fpc
dfrac <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~frac)
est("dfrac.mean.api00", svymean(~api00, dfrac))

# Domains (svyby) in clustered, stratified and two-stage designs.
b <- svyby(~api00, ~stype, dclus1, svymean)
for (i in seq_len(nrow(b))) out(paste0("dclus1.by.mean.api00.stype=", b$stype[i]), b$api00[i], b$se[i])
b <- svyby(~enroll, ~stype, dclus1, svytotal)
for (i in seq_len(nrow(b))) out(paste0("dclus1.by.total.enroll.stype=", b$stype[i]), b$enroll[i], b$se[i])
b <- svyby(~api00, ~stype, dclus2, svymean)
for (i in seq_len(nrow(b))) out(paste0("dclus2.by.mean.api00.stype=", b$stype[i]), b$api00[i], b$se[i])
b <- svyby(~api.stu, ~stype, dstrat, svyratio, denominator = ~enroll)
for (i in seq_len(nrow(b))) out(paste0("dstrat.by.ratio.api.stu/enroll.stype=", b$stype[i]), b[i, 2], b[i, 3])

# Two-stage with fpc at both stages.
est("dclus2.total.enroll", svytotal(~enroll, dclus2, na.rm = TRUE))
r <- svyratio(~api.stu, ~enroll, dclus2, na.rm = TRUE); out("dclus2.ratio.api.stu/enroll", coef(r), SE(r))

# Missing values (acs.k3, enroll have NAs in some files).
est("dstrat.mean.acs.k3.narm", svymean(~acs.k3, dstrat, na.rm = TRUE))
est("dclus1.mean.acs.k3.narm", svymean(~acs.k3, dclus1, na.rm = TRUE))
est("dclus1.total.acs.k3.narm", svytotal(~acs.k3, dclus1, na.rm = TRUE))
r <- svyratio(~acs.k3, ~enroll, dclus1, na.rm = TRUE); out("dclus1.ratio.acs.k3/enroll.narm", coef(r), SE(r))

# Subsets (domain kept in the full design) and quantiles.
q <- svyquantile(~api00, dstrat, c(0.1, 0.5, 0.9), ci = TRUE)$api00
for (i in 1:3) out(paste0("dstrat.quantile.api00.", rownames(q)[i]), q[i, 1], q[i, 4], q[i, 2], q[i, 3])
q <- svyquantile(~api00, dclus2, c(0.5), ci = TRUE)$api00
out("dclus2.quantile.api00.0.5", q[1, 1], q[1, 4], q[1, 2], q[1, 3])
q <- svyquantile(~enroll, subset(dclus1, stype == "E"), c(0.25, 0.75), ci = TRUE)$enroll
for (i in 1:2) out(paste0("dclus1.E.quantile.enroll.", rownames(q)[i]), q[i, 1], q[i, 4], q[i, 2], q[i, 3])
est("dclus1.E.mean.api00", svymean(~api00, subset(dclus1, stype == "E")))

# svyttest: two-level group; two levels of a three-level group.
t <- svyttest(api00 ~ sch.wide, dstrat); out("dstrat.ttest.api00~sch.wide(diff,t,df,p)", t$estimate, t$statistic, t$parameter, t$p.value)
t <- svyttest(api00 ~ I(stype == "H"), subset(dstrat, stype %in% c("E", "H")))
out("dstrat.ttest.api00~stype[E,H](diff,t,df,p)", t$estimate, t$statistic, t$parameter, t$p.value)
t <- svyttest(enroll ~ comp.imp, dclus2); out("dclus2.ttest.enroll~comp.imp(diff,t,df,p)", t$estimate, t$statistic, t$parameter, t$p.value)

# svychisq (Rao-Scott second-order F).
c <- svychisq(~stype + awards, dstrat); out("dstrat.chisq.stype+awards(F,ndf,ddf,p)", c$statistic, c$parameter, c$p.value)
c <- svychisq(~sch.wide + comp.imp, dclus2); out("dclus2.chisq.sch.wide+comp.imp(F,ndf,ddf,p)", c$statistic, c$parameter, c$p.value)

# svyglm with factor terms; coefficient, SE, p.
g <- svyglm(api00 ~ ell + meals + stype, design = dstrat); cf <- summary(g)$coefficients
for (r in rownames(cf)) out(paste0("dstrat.lm.api00~ell+meals+stype.", r), cf[r, 1], cf[r, 2], cf[r, 4])
g <- svyglm(sch.wide ~ ell + stype, design = dstrat, family = quasibinomial()); cf <- summary(g)$coefficients
for (r in rownames(cf)) out(paste0("dstrat.logit.sch.wide~ell+stype.", r), cf[r, 1], cf[r, 2], cf[r, 4])
g <- svyglm(api00 ~ ell + mobility, design = dclus2); cf <- summary(g)$coefficients
for (r in rownames(cf)) out(paste0("dclus2.lm.api00~ell+mobility.", r), cf[r, 1], cf[r, 2], cf[r, 4])

# Lonely PSUs: strata of districts, one stratum with a single district.
d <- apiclus1
u <- sort(unique(d$dnum))
d$lstrat <- ifelse(d$dnum == u[1], "A", ifelse(d$dnum %in% u[2:8], "B", "C"))
write.csv(d[, c("dnum", "lstrat", "pw", "api00", "enroll", "stype")], "lonely.csv", row.names = FALSE)
for (rule in c("remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = rule)
  dl <- svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = d)
  est(paste0("lonely.", rule, ".mean.api00"), svymean(~api00, dl))
  est(paste0("lonely.", rule, ".total.enroll"), svytotal(~enroll, dl))
  b <- svyby(~api00, ~stype, dl, svymean)
  for (i in seq_len(nrow(b))) out(paste0("lonely.", rule, ".by.mean.api00.stype=", b$stype[i]), b$api00[i], b$se[i])
}
