# Golden values for stacked designs (issue 14, item 6): two country rounds
# (country_a.csv, country_b.csv: dotm synth households --n 600 --seed 21 and
# --n 500 --seed 22, which use the same stratum and PSU names) stacked with
# rbind, strata and PSUs made distinct by prefixing the survey, one
# svydesign on the stack; with the weights as they are ("raw") and rescaled
# so that each survey's weights sum to the mean of the two totals ("equal").
# The migrant gap (current − non-migrant) in each country is svyttest on the
# country's subset; the difference of the gaps between countries is the
# interaction of svyglm(y ~ survey * current) on the two groups' rows.
#
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript stack.R > expected.tsv
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
f <- function(x) sprintf("%.17g", x)
out <- function(name, ...) cat(name, "\t", paste(f(c(...)), collapse = "\t"), "\n", sep = "")
cat("# name\tvalues...\n")

a <- read.csv("country_a.csv", stringsAsFactors = FALSE); a$survey <- "a"
b <- read.csv("country_b.csv", stringsAsFactors = FALSE); b$survey <- "b"
s <- rbind(a, b)
s$stratum <- paste(s$survey, s$stratum, sep = "/")
s$psu <- paste(s$stratum, s$psu, sep = "/")
Ta <- sum(a$weight); Tb <- sum(b$weight); m <- (Ta + Tb) / 2
s$w_raw <- s$weight
s$w_equal <- s$weight * ifelse(s$survey == "a", m / Ta, m / Tb)

for (w in c("raw", "equal")) {
  des <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = as.formula(paste0("~w_", w)), data = s)
  p <- function(id, est) out(paste0(w, ".", id), coef(est), SE(est))
  p("mean.bank", svymean(~bank_account, des))
  p("total.remit", svytotal(~remit_received, des))
  by <- svyby(~bank_account, ~survey, des, svymean)
  for (k in seq_len(nrow(by))) out(paste0(w, ".by.bank.", by$survey[k]), by$bank_account[k], by$se[k])
  by <- svyby(~cons_pc, ~survey, des, svytotal, na.rm = TRUE)
  for (k in seq_len(nrow(by))) out(paste0(w, ".by.cons.", by$survey[k]), by$cons_pc[k], by$se[k])
  for (cn in c("a", "b")) {
    sub <- subset(des, survey == cn)
    by <- svyby(~bank_account, ~migrant, sub, svymean)
    for (k in seq_len(nrow(by))) out(paste0(w, ".", cn, ".bank.", by$migrant[k]), by$bank_account[k], by$se[k])
    r <- svyby(~children_enrolled, ~migrant, sub, svyratio, denominator = ~children_6_17)
    for (k in seq_len(nrow(r))) out(paste0(w, ".", cn, ".enrolled.", r$migrant[k]), coef(r)[k], SE(r)[k])
    g <- subset(des, survey == cn & migrant %in% c("non_migrant", "current_migrant"))
    g <- update(g, cur = as.numeric(migrant == "current_migrant"))
    tt <- svyglm(bank_account ~ cur, g)
    out(paste0(w, ".", cn, ".gap.bank"), coef(tt)[2], SE(tt)[2], degf(g) - 1)
  }
  g <- subset(des, migrant %in% c("non_migrant", "current_migrant"))
  g <- update(g, cur = as.numeric(migrant == "current_migrant"), sb = as.numeric(survey == "b"))
  for (v in c("bank_account", "remit_received", "women_decide")) {
    fit <- svyglm(as.formula(paste(v, "~ sb * cur")), g)
    tab <- summary(fit)$coefficients
    out(paste0(w, ".did.", v), coef(fit)["sb:cur"], SE(fit)["sb:cur"], tab["sb:cur", 4], fit$df.residual)
  }
}
