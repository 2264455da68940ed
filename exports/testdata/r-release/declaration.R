library(arrow)
library(survey)
households <- as.data.frame(read_parquet("households.parquet"))
des <- svrepdesign(data = households, weights = ~weight, repweights = "^repw_[0-9]+$", type = "bootstrap",
  scale = 0.034482758620689655, rscales = rep(1, 30), mse = TRUE, combined.weights = TRUE)
