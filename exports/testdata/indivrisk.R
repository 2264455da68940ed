# Reference values for exports.IndividualRisk and the frequency counts of
# risk.go. sdcMicro is not packaged for Debian, so this script implements the
# published Benedetti-Franconi approximation as sdcMicro's indivRisk
# (method = "approx") and measure_risk document it, with base R only:
#   pk = fk / Fk
#   fk == 1: pk/(1-pk) * log(1/pk)
#   fk == 2: pk/(1-pk) - (pk/(1-pk))^2 * log(1/pk)
#   fk >  2: pk / (fk - (1-pk))
# Run: Rscript indivrisk.R > indivrisk.csv
set.seed(20261127)
n <- 60
d <- data.frame(
  region = sample(c("north", "south", "east"), n, replace = TRUE, prob = c(.5, .3, .2)),
  sex = sample(c("male", "female"), n, replace = TRUE),
  size = sample(1:4, n, replace = TRUE, prob = c(.4, .3, .2, .1)),
  weight = round(runif(n, 5, 200), 3)
)
key <- paste(d$region, d$sex, d$size)
fk <- as.vector(table(key)[key])
Fk <- as.vector(tapply(d$weight, key, sum)[key])
pk <- fk / Fk
r <- ifelse(fk == 1, pk / (1 - pk) * log(1 / pk),
     ifelse(fk == 2, pk / (1 - pk) - (pk / (1 - pk))^2 * log(1 / pk),
            pk / (fk - (1 - pk))))
out <- data.frame(d, fk = fk, Fk = sprintf("%.17g", Fk), risk = sprintf("%.17g", r))
write.csv(out, stdout(), row.names = FALSE, quote = FALSE)
cat(sprintf("# global_risk_ER=%.17g global_risk=%.17g\n", sum(r), sum(r) / n), file = stderr())
