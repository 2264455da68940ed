# Golden values for the design as dotm draws it (issue 14, item 2): PPS
# systematic selection of enumeration areas with certainty (self-
# representing) EAs, households drawn by screening-class quotas within each
# EA. sample.csv is dotm's own draw (analysis/asdrawn_test.go writes it).
#
# The design as drawn, built here from the sample's columns independently
# of dotm: a certainty EA is a stratum of its own (per screening class, the
# second-stage strata) whose households are the PSUs; other EAs are PSUs in
# their frame stratum; the screening class stratifies the second stage.
#   hh:     with-replacement (Hansen–Hurwitz) first stage, no fpc
#   brewer: PPS without replacement, Brewer's approximation, fpc given as
#           the inclusion probabilities of each stage
#
# Regenerate (Debian r-cran-survey, survey 4.1-1), from this directory:
#   Rscript asdrawn.R > expected.tsv
invisible(Sys.setlocale("LC_COLLATE", "C"))
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
f <- function(x) sprintf("%.17g", x)
out <- function(name, ...) cat(name, "\t", paste(f(c(...)), collapse = "\t"), "\n", sep = "")
cat("# name\tvalues...\n")

d <- read.csv("sample.csv", stringsAsFactors = FALSE)
cert <- d$certainty != 0
d$s1 <- ifelse(cert, paste(d$stratum, d$psu, d$class, sep = "/"), d$stratum)
d$p1 <- ifelse(cert, paste(d$psu, d$household_id, sep = "/"), d$psu)
d$f1 <- ifelse(cert, d$pi2, d$pi1)
d$f2 <- ifelse(cert, 1, d$pi2)
# R pairs each PSU's fpc with its PSU in the order of the data: the rows
# must be sorted as its clusters are.
stopifnot(!is.unsorted(paste(d$s1, d$p1, sep = ".")))

designs <- list(
  hh = svydesign(ids = ~p1 + household_id, strata = ~s1 + class, weights = ~weight, nest = TRUE, data = d),
  brewer = svydesign(ids = ~p1 + household_id, strata = ~s1 + class, fpc = ~f1 + f2, weights = ~weight,
    pps = "brewer", nest = TRUE, data = d))
# The design dotm stored before (EAs as if drawn by simple random sampling
# within strata, fpc = frame EAs): the control that shows the design matters.
d$frame_eas <- 14
designs$naive <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~frame_eas, weights = ~weight, data = d)

for (name in names(designs)) {
  des <- designs[[name]]
  p <- function(id, est) out(paste0(name, ".", id), coef(est), SE(est))
  p("mean.remit", svymean(~remit, des))
  p("total.remit", svytotal(~remit, des))
  p("mean.bank", svymean(~bank, des))
  p("ratio.remit/hh_size", svyratio(~remit, ~hh_size, des))
  m <- svymean(~factor(migrant), des)
  for (k in seq_along(coef(m))) out(paste0(name, ".prop.migrant", sub("factor\\(migrant\\)", "", names(coef(m))[k])), coef(m)[k], SE(m)[k])
  b <- svyby(~bank, ~migrant, des, svymean)
  for (k in seq_len(nrow(b))) out(paste0(name, ".by.bank.", b$migrant[k]), b$bank[k], b$se[k])
  b <- svyby(~remit, ~region, des, svytotal)
  for (k in seq_len(nrow(b))) out(paste0(name, ".by.remit.", b$region[k]), b$remit[k], b$se[k])
  p("domain.remit.return", svymean(~remit, subset(des, migrant == "return")))
  out(paste0(name, ".df"), degf(des))
}
