# Golden values for PostStratify, Rake, Calibrate and Trim.
# Regenerate: cd sampling/testdata && Rscript calibration.R
# Writes calibration_data.csv (the sample), calibration_margins*.csv
# (population totals, variable,category,total) and calibration_golden.csv
# (one column of final weights per method, same row order as the data).
suppressPackageStartupMessages(library(survey))
set.seed(7)
n <- 240
f <- function(x) sprintf("%.17g", x)
d <- data.frame(
  household_id = sprintf("h%03d", 1:n),
  stratum = sample(c("north", "south", "coast"), n, replace = TRUE, prob = c(.3, .5, .2)),
  psu = NA,
  region = sample(c("r1", "r2", "r3", "r4"), n, replace = TRUE),
  sex = sample(c("female", "male"), n, replace = TRUE, prob = c(.45, .55)),
  agegrp = sample(c("a15", "a30", "a45", "a60"), n, replace = TRUE, prob = c(.3, .3, .25, .15)),
  hh_size = rpois(n, 3) + 1
)
d$psu <- paste0(d$stratum, "-", sample(1:8, n, replace = TRUE))
d$weight <- round(exp(rnorm(n, 4, 0.5)), 3)
d$responded <- rbinom(n, 1, 0.85)
write.csv(d, "calibration_data.csv", row.names = FALSE, quote = FALSE)

des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d, nest = TRUE)
N <- round(1.05 * sum(d$weight))
pop_region <- data.frame(region = c("r1", "r2", "r3", "r4"), Freq = N * c(.22, .31, .27, .20))
pop_sex <- data.frame(sex = c("female", "male"), Freq = N * c(.51, .49))
pop_age <- data.frame(agegrp = c("a15", "a30", "a45", "a60"), Freq = N * c(.34, .29, .22, .15))
pop_size <- 3.9 * N
margins <- rbind(
  data.frame(variable = "region", category = pop_region$region, total = pop_region$Freq),
  data.frame(variable = "sex", category = pop_sex$sex, total = pop_sex$Freq),
  data.frame(variable = "agegrp", category = pop_age$agegrp, total = pop_age$Freq))
write.csv(data.frame(variable = margins$variable, category = margins$category, total = f(margins$total)),
  "calibration_margins.csv", row.names = FALSE, quote = FALSE)
write.csv(data.frame(variable = c("region", "region", "region", "region", "hh_size"),
                     category = c("r1", "r2", "r3", "r4", ""),
                     total = f(c(pop_region$Freq, pop_size))),
  "calibration_margins_numeric.csv", row.names = FALSE, quote = FALSE)

# Population totals in R's model-matrix form for ~region+sex+agegrp.
tot3 <- c(`(Intercept)` = N,
  regionr2 = pop_region$Freq[2], regionr3 = pop_region$Freq[3], regionr4 = pop_region$Freq[4],
  sexmale = pop_sex$Freq[2],
  agegrpa30 = pop_age$Freq[2], agegrpa45 = pop_age$Freq[3], agegrpa60 = pop_age$Freq[4])
totnum <- c(`(Intercept)` = N,
  regionr2 = pop_region$Freq[2], regionr3 = pop_region$Freq[3], regionr4 = pop_region$Freq[4],
  hh_size = pop_size)

w <- list()
w$poststratify <- weights(postStratify(des, ~region, pop_region))
w$rake <- weights(rake(des, list(~region, ~sex, ~agegrp), list(pop_region, pop_sex, pop_age),
  control = list(maxit = 1000, epsilon = 1e-15)))
w$linear <- weights(calibrate(des, ~region + sex + agegrp, tot3, calfun = "linear"))
w$linear_bounded <- weights(calibrate(des, ~region + sex + agegrp, tot3, calfun = "linear",
  bounds = c(0.6, 1.6), epsilon = 1e-13, maxit = 200))
w$raking <- weights(calibrate(des, ~region + sex + agegrp, tot3, calfun = "raking", epsilon = 1e-13, maxit = 200))
w$raking_bounded <- weights(calibrate(des, ~region + sex + agegrp, tot3, calfun = "raking",
  bounds = c(0.6, 1.6), epsilon = 1e-13, maxit = 200))
w$linear_numeric <- weights(calibrate(des, ~region + hh_size, totnum, calfun = "linear"))
# the totals are about the weight sum here (ratio < 20): no rescaling.
# With 30 times the totals, grake rescales the weights and then applies the bounds.
w$linear_bounded_scaled <- suppressWarnings(weights(calibrate(des, ~region + sex + agegrp, 30 * tot3,
  calfun = "linear", bounds = c(0.6, 1.6), epsilon = 1e-13, maxit = 200)))
w$trim <- weights(trimWeights(des, upper = 90, lower = 30))
w$trim_strict <- weights(trimWeights(des, upper = 90, lower = 30, strict = TRUE))
w$trim_upper <- weights(trimWeights(des, upper = 80, strict = TRUE))
out <- data.frame(household_id = d$household_id)
for (k in names(w)) out[[k]] <- f(w[[k]])
con <- file("calibration_golden.csv", "w")
writeLines(paste0("# R ", getRversion(), ", survey ", packageVersion("survey"), "; see calibration.R"), con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)
cat("sum of weights", sum(d$weight), "\n")
