// Package exports turns survey tables into an anonymized research release: a
// folder of Parquet files with a codebook, a disclosure-control report and a
// manifest of SHA-256 sums.
//
// A release is made in two steps. [Anonymize] applies statistical disclosure
// control to a [Dataset] as a [Profile] (release-profile YAML) asks:
//
//  1. drop every column whose sensitivity class is "direct" (and those the
//     profile lists under direct or drop);
//  2. replace the household id by a keyed HMAC-SHA-256 pseudonym (a new random
//     key per release unless the publisher supplies one), and stratum and PSU
//     by pseudonymous codes;
//  3. truncate dates to month and year;
//  4. recode (interval breaks, or top/bottom codes) and top-code continuous
//     variables at a quantile;
//  5. group rare categories into "other";
//  6. displace or drop coordinates (DHS practice);
//  7. local suppression of quasi-identifier values until every combination
//     occurs at least k times (k-anonymity; a blank is a value of its own
//     unless the profile sets blanks_match_any), by an exact search per
//     block reported against a lower bound and the greedy count
//     (suppress.go); a column that recodes a quasi-identifier one to one
//     (head_female for head_sex) loses the same values; person-level tables
//     the profile declares are protected on the data joined to their
//     households (hhrisk.go);
//  8. individual and global re-identification risk (sdcMicro's
//     Benedetti–Franconi estimator) and household risk (sdcMicro's hid),
//     before and after, and the information loss (infoloss.go), in
//     disclosure-report.json, .md and .html;
//  9. shuffle record order.
//
// A dataset that still violates k or max_risk is refused with a [RefusedError]
// naming the worst combinations. [Write] then writes the files into a
// temporary folder next to the destination and renames it into place only
// when every file is complete, so a refused or failed release leaves nothing.
//
// Releases of a survey: the dataset step implements [Source] over approved
// submissions, with column metadata from the form (sensitivity classes,
// question texts, value labels); cmd/dotm passes its [Dataset] to [Create]
// exactly as it passes a table read from a file with [ReadCSV] or
// [ReadParquet]. Publishing is outside this package: a release folder is
// complete and immutable once renamed into place, and the manifest's
// SHA-256 sums serve as download ETags.
//
// The package is not a general SDC toolkit (no microaggregation, PRAM or
// record swapping), does not read the operational store (a [Source] supplies
// the tables) and does not serve downloads (the collector does).
package exports
