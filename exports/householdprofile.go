package exports

// HouseholdProfile is the release profile for dotm's built-in Development on
// the Move household form, as the demo publishes it: k-anonymity on the
// household quasi-identifiers over the linked release (the roster and the
// migrants table carry the head's age and sex and the destination), and
// for the roster's people on the data joined to their households;
// coarsened ages and relationships, top-coded money, rare
// destinations grouped, GPS, free text and paradata dropped. Copy it as a
// starting point for a survey's own profile.
const HouseholdProfile = `k: 3
quasi_identifiers: [region, urban, hh_size, head_sex, head_age, dest_country]
# The roster's people are k-anonymous on their household's key and their
# own. (Declaring the migrants too, [mig_sex, mig_age_left], leaves about a
# hundred migrants whose household is the only one with migrants among those
# sharing its released key: no person-level suppression helps them.)
person_quasi_identifiers:
  persons: [age, sex, relationship, education]
recode: {head_age: [0, 40, 60, 120], hh_size: {top: 8}}
top_code: {remit_amount: 0.99, cons_pc: 0.995, mig_remit_amount: 0.99}
group_rare: {dest_country: 50, relationship: 300}
geo: drop
max_risk: 0.05
# Households unique on region × urban × household size alone: the PSU codes
# give the region and the roster gives the size, so no suppression hides
# them; the disclosure report lists them. Their people are below k in the
# roster for the same reason (~3 each), and a few more people stay below
# k on the joined data with every person-level value suppressed. Allow up
# to 150 records per table (the demo has 24 households and 85–105 people,
# from run to run: the release's row order follows its random
# pseudonyms, and the suppression search depends on it).
residual_k: 150
# Compared on the released and the full data in the disclosure report.
key_indicators: {table: households, means: [remit_received, bank_account, cons_pc], by: migrant}
drop: [household_id_answer, enumerator_comments, dest_country_other, deviceid, start, end]
`
