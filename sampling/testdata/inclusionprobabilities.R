# Golden values for InclusionProbabilities and UPSystematic.
# Regenerate: cd sampling/testdata && Rscript inclusionprobabilities.R
# (R package sampling 2.9; see the header written into each CSV.)
suppressPackageStartupMessages(library(sampling))
set.seed(20260501)
f <- function(x) sprintf("%.17g", x)
cases <- list(
  # no certainty units
  list(name = "plain", n = 5, a = round(runif(40, 50, 400))),
  # one obvious certainty unit
  list(name = "one_certainty", n = 6, a = c(round(runif(30, 80, 300)), 5000)),
  # certainty units appearing over several rounds of recomputation
  list(name = "cascade", n = 8, a = c(10000, 3000, 1500, 900, 700, round(runif(45, 20, 200)))),
  # non-integer sizes, several ties at the top
  list(name = "fractional", n = 4, a = c(runif(20, 0.5, 3), 40, 40)),
  # n equal to the number of units minus one
  list(name = "nearly_all", n = 9, a = round(runif(10, 1, 1000))),
  # zeros get pi = 0
  list(name = "zeros", n = 3, a = c(0, round(runif(12, 5, 50)), 0, 800)),
  # every unit certain
  list(name = "all", n = 7, a = round(runif(7, 1, 100))),
  # large frame
  list(name = "large", n = 60, a = c(round(rlnorm(2000, 5, 1.2)), 90000, 40000))
)
out <- NULL
for (cs in cases) {
  pik <- suppressWarnings(inclusionprobabilities(cs$a, cs$n))
  out <- rbind(out, data.frame(case = cs$name, n = cs$n, i = seq_along(cs$a), a = f(cs$a), pik = f(pik)))
}
con <- file("inclusionprobabilities.csv", "w")
writeLines(paste0("# R ", getRversion(), ", sampling ", packageVersion("sampling"), "; inclusionprobabilities(a, n)"), con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)

# UPsystematic draws u = runif(1) once: record u under the same seed.
pik <- inclusionprobabilities(cases[[3]]$a, cases[[3]]$n)
sys <- NULL
for (s in 1:40) {
  set.seed(s); u <- runif(1)
  set.seed(s); sel <- UPsystematic(pik)
  sys <- rbind(sys, data.frame(seed = s, u = f(u), i = seq_along(pik), pik = f(pik), selected = sel))
}
con <- file("upsystematic.csv", "w")
writeLines(paste0("# R ", getRversion(), ", sampling ", packageVersion("sampling"), "; UPsystematic(pik) after set.seed(seed), u = runif(1) after the same seed"), con)
write.csv(sys, con, row.names = FALSE, quote = FALSE)
close(con)
