package exports

// HouseholdProfile is the release profile for dotm's built-in Development on
// the Move household form, as the demo publishes it: k-anonymity on the
// household quasi-identifiers over the linked release (the roster and the
// migrants table carry the head's age and sex and the destination),
// coarsened ages, top-coded money, rare destinations grouped, GPS, free
// text and paradata dropped. Copy it as a starting point for a survey's own
// profile.
const HouseholdProfile = `k: 3
quasi_identifiers: [region, urban, hh_size, head_sex, head_age, dest_country]
recode: {head_age: [0, 25, 35, 45, 55, 65, 120], hh_size: {top: 8}}
top_code: {remit_amount: 0.99, cons_pc: 0.995, mig_remit_amount: 0.99}
group_rare: {dest_country: 10}
geo: drop
max_risk: 0.05
# Households unique on region × urban × household size alone: the PSU codes
# give the region and the roster gives the size, so no suppression hides
# them; the disclosure report lists them. Allow up to 60 (of ~1,100).
residual_k: 60
drop: [household_id_answer, enumerator_comments, dest_country_other, deviceid, start, end]
`
