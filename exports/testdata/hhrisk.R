# Reference values for exports.HouseholdRiskOf and the joined person-level
# risk of hhrisk.go, with a blank (NA) as a value of its own. sdcMicro is
# not packaged for Debian, so this script implements, with base R only,
# what sdcMicro's measure_risk computes with hid (R/measure_risk.R,
# measure_riskWORK, fast_hier = TRUE):
#   individual risk r_i: indivRisk's Benedetti-Franconi approximation on
#     fk and Fk of the key (household and person variables, joined);
#   household risk of household h: 1 - prod(1 - r_i) over its members;
#   hier_risk_ER = sum over persons of their household's risk;
#   hier_risk = hier_risk_ER / number of persons.
# Keys count NA as a category (dotm's default; sdcMicro's freqCalc lets NA
# match anything instead).
# Run: Rscript hhrisk.R > hhrisk.csv 2> hhrisk.global.txt
set.seed(20261204)
nh <- 40
size <- sample(1:5, nh, replace = TRUE, prob = c(.2, .3, .25, .15, .1))
hh <- data.frame(hid = sprintf("h%02d", 1:nh),
                 region = sample(c("north", "south"), nh, replace = TRUE),
                 size = size,
                 weight = round(runif(nh, 5, 60), 3))
p <- hh[rep(1:nh, size), ]
n <- nrow(p)
p$sex <- sample(c("m", "f"), n, replace = TRUE)
p$age <- sample(c("0-14", "15-64", "65+"), n, replace = TRUE, prob = c(.3, .55, .15))
p$sex[sample(n, 6)] <- NA
p$age[sample(n, 6)] <- NA
key <- paste(p$region, p$size, ifelse(is.na(p$sex), "<NA>", p$sex), ifelse(is.na(p$age), "<NA>", p$age))
fk <- as.vector(table(key)[key])
Fk <- as.vector(tapply(p$weight, key, sum)[key])
pk <- fk / Fk
r <- ifelse(fk == 1, pk / (1 - pk) * log(1 / pk),
     ifelse(fk == 2, pk / (1 - pk) - (pk / (1 - pk))^2 * log(1 / pk),
            pk / (fk - (1 - pk))))
hr <- tapply(r, p$hid, function(x) 1 - prod(1 - x))
p$hhrisk <- as.vector(hr[p$hid])
out <- data.frame(hid = p$hid, region = p$region, size = p$size, sex = p$sex, age = p$age,
                  weight = p$weight, fk = fk, Fk = sprintf("%.17g", Fk),
                  risk = sprintf("%.17g", r), hhrisk = sprintf("%.17g", p$hhrisk))
write.csv(out, stdout(), row.names = FALSE, quote = FALSE, na = "")
er <- sum(p$hhrisk)
cat(sprintf("hier_risk_ER=%.17g hier_risk=%.17g expected_households=%.17g\n", er, er / n, sum(hr)), file = stderr())
