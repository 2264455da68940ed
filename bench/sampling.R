# R side of bench/sampling_vs_r.sh: prints "select SECONDS" and "rake SECONDS".
suppressPackageStartupMessages({ library(sampling); library(survey) })
set.seed(1)
N <- 1e6
frame <- data.frame(stratum = paste0("s", (0:(N - 1)) %% 100), size = 20 + rexp(N) * 150)
tot <- tapply(frame$size, frame$stratum, sum)
nh <- round(1000 * tot / sum(tot))
t_select <- system.time({
  sel <- integer(N)
  for (h in names(nh)) {
    idx <- which(frame$stratum == h)
    pik <- inclusionprobabilities(frame$size[idx], nh[[h]])
    sel[idx] <- UPsystematic(pik)
  }
})[["elapsed"]]
stopifnot(sum(sel) == sum(nh))
cat("select", t_select, "\n")

n <- 1e6
hh <- data.frame(region = factor(sample(0:9, n, TRUE)), sex = factor(sample(0:1, n, TRUE)),
                 agegrp = factor(sample(0:5, n, TRUE)), w = 50 + 100 * runif(n))
Ntot <- 1.2e8
margin <- function(var, k) {
  d <- data.frame(factor(0:(k - 1)), Freq = (1:k + 2) / sum(1:k + 2) * Ntot)
  names(d)[1] <- var
  d
}
des <- svydesign(ids = ~1, weights = ~w, data = hh)
t_rake <- system.time({
  r <- rake(des, list(~region, ~sex, ~agegrp), list(margin("region", 10), margin("sex", 2), margin("agegrp", 6)),
            control = list(maxit = 100, epsilon = 1e-10))
})[["elapsed"]]
cat("rake", t_rake, "\n")
