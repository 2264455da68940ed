package analysis

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// statsDesigns are the designs of testdata/r-stats/stats.R as plan YAML.
var statsDesigns = map[string]struct{ data, design string }{
	"clus1": {"r-survey-api/apiclus1.csv", "{psu: dnum, weight: pw, fpc: fpc}"},
	"strat": {"r-survey-api/apistrat.csv", "{strata: stype, weight: pw, fpc: fpc}"},
	"clus2": {"r-survey-api/apiclus2.csv", "{psu: [dnum, snum], fpc: [fpc1, fpc2]}"},
	"fixed": {"r-calibrated/sample.csv", "\n  weight: w0"},
	"rake":  {"r-calibrated/sample.csv", calibratedPlans["rake"]},
	"greg":  {"r-calibrated/sample.csv", calibratedPlans["greg"]},
}

// statsEstimates are the plan entries of each design; an entry's id is the
// key of its rows in expected.tsv (DESIGN.ID[.DOMAIN][.LEVEL]).
var statsEstimates = map[string]string{
	"clus1": `
  - {id: q_math_mean, quantile: enroll, p: [0.1, 0.5], qrule: math, interval: mean, subset: "stype = 'E'"}
  - {id: q_math_beta, quantile: enroll, p: [0.1, 0.5], qrule: math, interval: beta, subset: "stype = 'E'"}
  - {id: q_math_xlogit, quantile: enroll, p: [0.1, 0.5], qrule: math, interval: xlogit, subset: "stype = 'E'"}
  - {id: q_math_asin, quantile: enroll, p: [0.1, 0.5], qrule: math, interval: asin, subset: "stype = 'E'"}
  - {id: q_math_score, quantile: enroll, p: [0.1, 0.5], qrule: math, interval: score, subset: "stype = 'E'"}
  - {id: q_school_mean, quantile: enroll, p: [0.1, 0.5], qrule: school, interval: mean, subset: "stype = 'E'"}
  - {id: q_school_beta, quantile: enroll, p: [0.1, 0.5], qrule: school, interval: beta, subset: "stype = 'E'"}
  - {id: q_school_xlogit, quantile: enroll, p: [0.1, 0.5], qrule: school, interval: xlogit, subset: "stype = 'E'"}
  - {id: q_school_asin, quantile: enroll, p: [0.1, 0.5], qrule: school, interval: asin, subset: "stype = 'E'"}
  - {id: q_school_score, quantile: enroll, p: [0.1, 0.5], qrule: school, interval: score, subset: "stype = 'E'"}
  - {id: q_shahvaish_mean, quantile: enroll, p: [0.1, 0.5], qrule: shahvaish, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf1_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf1, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf2_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf2, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf3_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf3, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf4_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf4, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf5_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf5, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf6_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf6, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf7_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf7, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf7_beta, quantile: enroll, p: [0.1, 0.5], qrule: hf7, interval: beta, subset: "stype = 'E'"}
  - {id: q_hf7_xlogit, quantile: enroll, p: [0.1, 0.5], qrule: hf7, interval: xlogit, subset: "stype = 'E'"}
  - {id: q_hf7_asin, quantile: enroll, p: [0.1, 0.5], qrule: hf7, interval: asin, subset: "stype = 'E'"}
  - {id: q_hf7_score, quantile: enroll, p: [0.1, 0.5], qrule: hf7, interval: score, subset: "stype = 'E'"}
  - {id: q_hf8_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf8, interval: mean, subset: "stype = 'E'"}
  - {id: q_hf9_mean, quantile: enroll, p: [0.1, 0.5], qrule: hf9, interval: mean, subset: "stype = 'E'"}
  - {id: byc_mean, mean: api00, by: stype, deff: false, contrasts: [{name: eh, weights: {E: 1, H: -1}}, {name: avg, weights: {E: 1, H: -0.5, M: -0.5}}]}
  - id: glm_pois
    glm: "enroll ~ stype + I(api00/100)"
    family: poisson
    meff: true
    tests: [{terms: "stype"}, {terms: "stype", statistic: Chisq}]
    contrasts: [{name: eh, weights: {"(Intercept)": 1, stypeH: 1}}]
  - id: glm_qpois
    glm: "enroll ~ stype + I(api00 / 100)"
    family: quasipoisson
    meff: true
  - id: glm_logit
    glm: "sch.wide ~ api00 + I(api00 > 700) + stype:mobility"
    family: quasibinomial
    meff: true
    tests: [{terms: "stype:mobility"}, {terms: "stype:mobility", statistic: Chisq}]
  - {id: ciprop_logit, ciprop: stype, level: H, method: logit}
  - {id: ciprop_likelihood, ciprop: stype, level: H, method: likelihood}
  - {id: ciprop_mean, ciprop: stype, level: H, method: mean}
  - {id: ciprop_beta, ciprop: stype, level: H, method: beta}
  - {id: ciprop_asin, ciprop: stype, level: H, method: asin}
  - {id: ciprop_xlogit, ciprop: stype, level: H, method: xlogit}
  - {id: ciprop_sub_logit, ciprop: awards, level: 'No', method: logit, subset: "stype = 'E'"}
  - {id: ciprop_sub_likelihood, ciprop: awards, level: 'No', method: likelihood, subset: "stype = 'E'"}
  - {id: ciprop_sub_mean, ciprop: awards, level: 'No', method: mean, subset: "stype = 'E'"}
  - {id: ciprop_sub_beta, ciprop: awards, level: 'No', method: beta, subset: "stype = 'E'"}
  - {id: ciprop_sub_asin, ciprop: awards, level: 'No', method: asin, subset: "stype = 'E'"}
  - {id: ciprop_sub_xlogit, ciprop: awards, level: 'No', method: xlogit, subset: "stype = 'E'"}
  - {id: var, var: api00}
  - {id: var_sub, var: api00, subset: "stype = 'E'"}
  - {id: chisq_F, chisq: [stype, both], statistic: F}
  - {id: chisq_Chisq, chisq: [stype, both], statistic: Chisq}
  - {id: chisq_Wald, chisq: [stype, both], statistic: Wald}
  - {id: chisq_adjWald, chisq: [stype, both], statistic: adjWald}
  - {id: chisq_sub_F, chisq: [sch.wide, awards], statistic: F, subset: "stype != 'H'"}
  - {id: chisq_sub_Chisq, chisq: [sch.wide, awards], statistic: Chisq, subset: "stype != 'H'"}
  - {id: chisq_sub_Wald, chisq: [sch.wide, awards], statistic: Wald, subset: "stype != 'H'"}
  - {id: chisq_sub_adjWald, chisq: [sch.wide, awards], statistic: adjWald, subset: "stype != 'H'"}
  - {id: tot_stype, total: stype}
  - {id: by2_mean, mean: api00, by: [stype, sch.wide]}
  - {id: deffr_mean, mean: api00, deff: replace, deft: true}
  - {id: deffr_total, total: enroll, deff: replace, deft: true}
  - {id: deffr_prop, proportion: stype, deff: replace, deft: true}
  - {id: deffr_ratio, ratio: {numerator: api.stu, denominator: enroll}, deff: replace, deft: true}
`,
	"strat": `
  - {id: q_math_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: math, interval: mean}
  - {id: q_math_beta, quantile: api00, p: [0.25, 0.5, 0.9], qrule: math, interval: beta}
  - {id: q_math_xlogit, quantile: api00, p: [0.25, 0.5, 0.9], qrule: math, interval: xlogit}
  - {id: q_math_asin, quantile: api00, p: [0.25, 0.5, 0.9], qrule: math, interval: asin}
  - {id: q_math_score, quantile: api00, p: [0.25, 0.5, 0.9], qrule: math, interval: score}
  - {id: q_school_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: school, interval: mean}
  - {id: q_school_beta, quantile: api00, p: [0.25, 0.5, 0.9], qrule: school, interval: beta}
  - {id: q_school_xlogit, quantile: api00, p: [0.25, 0.5, 0.9], qrule: school, interval: xlogit}
  - {id: q_school_asin, quantile: api00, p: [0.25, 0.5, 0.9], qrule: school, interval: asin}
  - {id: q_school_score, quantile: api00, p: [0.25, 0.5, 0.9], qrule: school, interval: score}
  - {id: q_shahvaish_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: shahvaish, interval: mean}
  - {id: q_hf1_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf1, interval: mean}
  - {id: q_hf2_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf2, interval: mean}
  - {id: q_hf3_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf3, interval: mean}
  - {id: q_hf4_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf4, interval: mean}
  - {id: q_hf5_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf5, interval: mean}
  - {id: q_hf6_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf6, interval: mean}
  - {id: q_hf7_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf7, interval: mean}
  - {id: q_hf7_beta, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf7, interval: beta}
  - {id: q_hf7_xlogit, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf7, interval: xlogit}
  - {id: q_hf7_asin, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf7, interval: asin}
  - {id: q_hf7_score, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf7, interval: score}
  - {id: q_hf8_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf8, interval: mean}
  - {id: q_hf9_mean, quantile: api00, p: [0.25, 0.5, 0.9], qrule: hf9, interval: mean}
  - {id: byc_mean, mean: api00, by: stype, contrasts: [{name: eh, weights: {E: 1, H: -1}}]}
  - id: glm_lm
    glm: "api00 ~ ell * stype + I(meals^2)"
    family: gaussian
    meff: true
    tests: [{terms: "stype"}, {terms: "stype", statistic: Chisq}, {terms: "ell:stype + I(meals^2)"}, {terms: "ell:stype + I(meals^2)", statistic: Chisq}]
    contrasts: [{name: hm, weights: {stypeH: 1, stypeM: -1}}]
  - {id: ciprop_logit, ciprop: awards, level: 'No', method: logit}
  - {id: ciprop_likelihood, ciprop: awards, level: 'No', method: likelihood}
  - {id: ciprop_mean, ciprop: awards, level: 'No', method: mean}
  - {id: ciprop_beta, ciprop: awards, level: 'No', method: beta}
  - {id: ciprop_asin, ciprop: awards, level: 'No', method: asin}
  - {id: ciprop_xlogit, ciprop: awards, level: 'No', method: xlogit}
  - {id: var, var: enroll}
  - {id: chisq_F, chisq: [stype, awards], statistic: F}
  - {id: chisq_Chisq, chisq: [stype, awards], statistic: Chisq}
  - {id: chisq_Wald, chisq: [stype, awards], statistic: Wald}
  - {id: chisq_adjWald, chisq: [stype, awards], statistic: adjWald}
  - {id: tot_stype, total: stype, deff: replace, deft: true}
  - {id: by3_mean, mean: api00, by: [stype, sch.wide, awards], deff: false}
`,
	"clus2": `
  - {id: q_math_mean, quantile: api00, p: [0.5, 0.75], qrule: math, interval: mean}
  - {id: q_math_beta, quantile: api00, p: [0.5, 0.75], qrule: math, interval: beta}
  - {id: q_math_xlogit, quantile: api00, p: [0.5, 0.75], qrule: math, interval: xlogit}
  - {id: q_math_asin, quantile: api00, p: [0.5, 0.75], qrule: math, interval: asin}
  - {id: q_math_score, quantile: api00, p: [0.5, 0.75], qrule: math, interval: score}
  - {id: q_school_mean, quantile: api00, p: [0.5, 0.75], qrule: school, interval: mean}
  - {id: q_school_beta, quantile: api00, p: [0.5, 0.75], qrule: school, interval: beta}
  - {id: q_school_xlogit, quantile: api00, p: [0.5, 0.75], qrule: school, interval: xlogit}
  - {id: q_school_asin, quantile: api00, p: [0.5, 0.75], qrule: school, interval: asin}
  - {id: q_school_score, quantile: api00, p: [0.5, 0.75], qrule: school, interval: score}
  - {id: q_shahvaish_mean, quantile: api00, p: [0.5, 0.75], qrule: shahvaish, interval: mean}
  - {id: q_hf1_mean, quantile: api00, p: [0.5, 0.75], qrule: hf1, interval: mean}
  - {id: q_hf2_mean, quantile: api00, p: [0.5, 0.75], qrule: hf2, interval: mean}
  - {id: q_hf3_mean, quantile: api00, p: [0.5, 0.75], qrule: hf3, interval: mean}
  - {id: q_hf4_mean, quantile: api00, p: [0.5, 0.75], qrule: hf4, interval: mean}
  - {id: q_hf5_mean, quantile: api00, p: [0.5, 0.75], qrule: hf5, interval: mean}
  - {id: q_hf6_mean, quantile: api00, p: [0.5, 0.75], qrule: hf6, interval: mean}
  - {id: q_hf7_mean, quantile: api00, p: [0.5, 0.75], qrule: hf7, interval: mean}
  - {id: q_hf7_beta, quantile: api00, p: [0.5, 0.75], qrule: hf7, interval: beta}
  - {id: q_hf7_xlogit, quantile: api00, p: [0.5, 0.75], qrule: hf7, interval: xlogit}
  - {id: q_hf7_asin, quantile: api00, p: [0.5, 0.75], qrule: hf7, interval: asin}
  - {id: q_hf7_score, quantile: api00, p: [0.5, 0.75], qrule: hf7, interval: score}
  - {id: q_hf8_mean, quantile: api00, p: [0.5, 0.75], qrule: hf8, interval: mean}
  - {id: q_hf9_mean, quantile: api00, p: [0.5, 0.75], qrule: hf9, interval: mean}
  - {id: byc_total, total: api00, by: stype, contrasts: [{name: em, weights: {E: 1, M: -1}}]}
  - id: glm_pois
    glm: "enroll ~ stype * comp.imp + log(api99)"
    family: quasipoisson
    meff: true
    tests: [{terms: "stype:comp.imp"}, {terms: "stype:comp.imp", statistic: Chisq}]
  - {id: ciprop_logit, ciprop: sch.wide, level: 'No', method: logit}
  - {id: ciprop_likelihood, ciprop: sch.wide, level: 'No', method: likelihood}
  - {id: ciprop_mean, ciprop: sch.wide, level: 'No', method: mean}
  - {id: ciprop_beta, ciprop: sch.wide, level: 'No', method: beta}
  - {id: ciprop_asin, ciprop: sch.wide, level: 'No', method: asin}
  - {id: ciprop_xlogit, ciprop: sch.wide, level: 'No', method: xlogit}
  - {id: var, var: enroll, na_rm: true}
  - {id: chisq_F, chisq: [sch.wide, comp.imp], statistic: F}
  - {id: chisq_Chisq, chisq: [sch.wide, comp.imp], statistic: Chisq}
  - {id: chisq_Wald, chisq: [sch.wide, comp.imp], statistic: Wald}
  - {id: chisq_adjWald, chisq: [sch.wide, comp.imp], statistic: adjWald}
  - {id: tot_awards, total: awards}
  - {id: by2_total, total: enroll, by: [stype, comp.imp], na_rm: true, deff: false}
  - {id: deffr_mean, mean: api00, deff: replace, deft: true}
`,
	"calibrated": `
  - {id: q_math_mean, quantile: cons, p: [0.2, 0.5], qrule: math, interval: mean, na_rm: true}
  - {id: q_math_beta, quantile: cons, p: [0.2, 0.5], qrule: math, interval: beta, na_rm: true}
  - {id: q_math_xlogit, quantile: cons, p: [0.2, 0.5], qrule: math, interval: xlogit, na_rm: true}
  - {id: q_math_asin, quantile: cons, p: [0.2, 0.5], qrule: math, interval: asin, na_rm: true}
  - {id: q_math_score, quantile: cons, p: [0.2, 0.5], qrule: math, interval: score, na_rm: true}
  - {id: q_school_mean, quantile: cons, p: [0.2, 0.5], qrule: school, interval: mean, na_rm: true}
  - {id: q_school_beta, quantile: cons, p: [0.2, 0.5], qrule: school, interval: beta, na_rm: true}
  - {id: q_school_xlogit, quantile: cons, p: [0.2, 0.5], qrule: school, interval: xlogit, na_rm: true}
  - {id: q_school_asin, quantile: cons, p: [0.2, 0.5], qrule: school, interval: asin, na_rm: true}
  - {id: q_school_score, quantile: cons, p: [0.2, 0.5], qrule: school, interval: score, na_rm: true}
  - {id: q_shahvaish_mean, quantile: cons, p: [0.2, 0.5], qrule: shahvaish, interval: mean, na_rm: true}
  - {id: q_hf1_mean, quantile: cons, p: [0.2, 0.5], qrule: hf1, interval: mean, na_rm: true}
  - {id: q_hf2_mean, quantile: cons, p: [0.2, 0.5], qrule: hf2, interval: mean, na_rm: true}
  - {id: q_hf3_mean, quantile: cons, p: [0.2, 0.5], qrule: hf3, interval: mean, na_rm: true}
  - {id: q_hf4_mean, quantile: cons, p: [0.2, 0.5], qrule: hf4, interval: mean, na_rm: true}
  - {id: q_hf5_mean, quantile: cons, p: [0.2, 0.5], qrule: hf5, interval: mean, na_rm: true}
  - {id: q_hf6_mean, quantile: cons, p: [0.2, 0.5], qrule: hf6, interval: mean, na_rm: true}
  - {id: q_hf7_mean, quantile: cons, p: [0.2, 0.5], qrule: hf7, interval: mean, na_rm: true}
  - {id: q_hf7_beta, quantile: cons, p: [0.2, 0.5], qrule: hf7, interval: beta, na_rm: true}
  - {id: q_hf7_xlogit, quantile: cons, p: [0.2, 0.5], qrule: hf7, interval: xlogit, na_rm: true}
  - {id: q_hf7_asin, quantile: cons, p: [0.2, 0.5], qrule: hf7, interval: asin, na_rm: true}
  - {id: q_hf7_score, quantile: cons, p: [0.2, 0.5], qrule: hf7, interval: score, na_rm: true}
  - {id: q_hf8_mean, quantile: cons, p: [0.2, 0.5], qrule: hf8, interval: mean, na_rm: true}
  - {id: q_hf9_mean, quantile: cons, p: [0.2, 0.5], qrule: hf9, interval: mean, na_rm: true}
  - {id: sub.q_math_mean, quantile: amt, p: [0.5], qrule: math, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_math_beta, quantile: amt, p: [0.5], qrule: math, interval: beta, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_math_xlogit, quantile: amt, p: [0.5], qrule: math, interval: xlogit, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_math_asin, quantile: amt, p: [0.5], qrule: math, interval: asin, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_math_score, quantile: amt, p: [0.5], qrule: math, interval: score, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_school_mean, quantile: amt, p: [0.5], qrule: school, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_school_beta, quantile: amt, p: [0.5], qrule: school, interval: beta, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_school_xlogit, quantile: amt, p: [0.5], qrule: school, interval: xlogit, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_school_asin, quantile: amt, p: [0.5], qrule: school, interval: asin, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_school_score, quantile: amt, p: [0.5], qrule: school, interval: score, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_shahvaish_mean, quantile: amt, p: [0.5], qrule: shahvaish, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf1_mean, quantile: amt, p: [0.5], qrule: hf1, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf2_mean, quantile: amt, p: [0.5], qrule: hf2, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf3_mean, quantile: amt, p: [0.5], qrule: hf3, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf4_mean, quantile: amt, p: [0.5], qrule: hf4, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf5_mean, quantile: amt, p: [0.5], qrule: hf5, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf6_mean, quantile: amt, p: [0.5], qrule: hf6, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf7_mean, quantile: amt, p: [0.5], qrule: hf7, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf7_beta, quantile: amt, p: [0.5], qrule: hf7, interval: beta, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf7_xlogit, quantile: amt, p: [0.5], qrule: hf7, interval: xlogit, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf7_asin, quantile: amt, p: [0.5], qrule: hf7, interval: asin, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf7_score, quantile: amt, p: [0.5], qrule: hf7, interval: score, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf8_mean, quantile: amt, p: [0.5], qrule: hf8, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: sub.q_hf9_mean, quantile: amt, p: [0.5], qrule: hf9, interval: mean, na_rm: true, subset: "migrant = 'return'"}
  - {id: byc_mean, mean: bank, by: migrant, contrasts: [{name: gap, weights: {current: 1, none: -1}}, {name: avg, weights: {current: 1, none: -0.5, return: -0.5}}]}
  - {id: byc_total, total: bank, by: migrant, contrasts: [{name: gap, weights: {current: 1, none: -1}}]}
  - {id: byc_ratio, ratio: {numerator: remit, denominator: hh_size}, by: migrant, contrasts: [{name: gap, weights: {current: 1, return: -1}}]}
  - id: glm_pois
    glm: "hh_size ~ migrant * factor(urban) + I(age_head^2) + land"
    family: poisson
    meff: true
    tests: [{terms: "migrant + migrant:factor(urban)"}, {terms: "migrant + migrant:factor(urban)", statistic: Chisq}, {terms: "I(age_head^2)"}, {terms: "I(age_head^2)", statistic: Chisq}]
    contrasts: [{name: gap, weights: {migrantnone: 1, migrantreturn: -1}}]
  - id: glm_qpois
    glm: "hh_size ~ migrant + sex_head:migrant"
    family: quasipoisson
    meff: true
    tests: [{terms: "migrant:sex_head"}, {terms: "migrant:sex_head", statistic: Chisq}]
  - id: glm_lm
    glm: "cons ~ migrant * sex_head + I(land^2) + x1:x2"
    family: gaussian
    meff: true
    tests: [{terms: "migrant:sex_head"}, {terms: "migrant:sex_head", statistic: Chisq}]
    contrasts: [{name: d, weights: {"migrantnone:sex_headmale": 1, "migrantreturn:sex_headmale": -1}}]
  - id: glm_sub
    glm: "remit ~ migrant + hh_size"
    family: quasibinomial
    meff: true
    tests: [{terms: "migrant"}, {terms: "migrant", statistic: Chisq}]
    subset: "region != 'west'"
  - {id: ciprop_logit, ciprop: remit, method: logit}
  - {id: ciprop_likelihood, ciprop: remit, method: likelihood}
  - {id: ciprop_mean, ciprop: remit, method: mean}
  - {id: ciprop_beta, ciprop: remit, method: beta}
  - {id: ciprop_asin, ciprop: remit, method: asin}
  - {id: ciprop_xlogit, ciprop: remit, method: xlogit}
  - {id: ciprop_sub_logit, ciprop: remit, method: logit, subset: "migrant = 'none'"}
  - {id: ciprop_sub_likelihood, ciprop: remit, method: likelihood, subset: "migrant = 'none'"}
  - {id: ciprop_sub_mean, ciprop: remit, method: mean, subset: "migrant = 'none'"}
  - {id: ciprop_sub_beta, ciprop: remit, method: beta, subset: "migrant = 'none'"}
  - {id: ciprop_sub_asin, ciprop: remit, method: asin, subset: "migrant = 'none'"}
  - {id: ciprop_sub_xlogit, ciprop: remit, method: xlogit, subset: "migrant = 'none'"}
  - {id: ciprop_lv_logit, ciprop: migrant, level: return, method: logit}
  - {id: ciprop_lv_likelihood, ciprop: migrant, level: return, method: likelihood}
  - {id: ciprop_lv_mean, ciprop: migrant, level: return, method: mean}
  - {id: ciprop_lv_beta, ciprop: migrant, level: return, method: beta}
  - {id: ciprop_lv_asin, ciprop: migrant, level: return, method: asin}
  - {id: ciprop_lv_xlogit, ciprop: migrant, level: return, method: xlogit}
  - {id: by_ciprop, ciprop: remit, method: beta, by: migrant}
  - {id: var, var: cons, na_rm: true}
  - {id: var_sub, var: hh_size, subset: "migrant = 'current'"}
  - {id: by_var, var: hh_size, by: [migrant, urban]}
  - {id: chisq_F, chisq: [migrant, region], statistic: F}
  - {id: chisq_Chisq, chisq: [migrant, region], statistic: Chisq}
  - {id: chisq_Wald, chisq: [migrant, region], statistic: Wald}
  - {id: chisq_adjWald, chisq: [migrant, region], statistic: adjWald}
  - {id: chisq_sub_F, chisq: [migrant, bank], statistic: F, subset: "sex_head = 'female'"}
  - {id: chisq_sub_Chisq, chisq: [migrant, bank], statistic: Chisq, subset: "sex_head = 'female'"}
  - {id: chisq_sub_Wald, chisq: [migrant, bank], statistic: Wald, subset: "sex_head = 'female'"}
  - {id: chisq_sub_adjWald, chisq: [migrant, bank], statistic: adjWald, subset: "sex_head = 'female'"}
  - {id: tot_migrant, total: migrant}
  - {id: tot_urban, total: factor(urban)}
  - {id: tot_migrant_f, total: migrant, subset: "sex_head = 'female'"}
  - {id: by_tot_migrant, total: migrant, by: sex_head, deff: false}
  - {id: by2_mean, mean: bank, by: [migrant, region], deff: false}
  - {id: by2_ratio, ratio: {numerator: remit, denominator: hh_size}, by: [migrant, urban], deff: false}
  - {id: by2_total, total: cons, by: [sex_head, region], na_rm: true}
  - {id: deffr_mean, mean: cons, na_rm: true, deff: replace, deft: true}
  - {id: deffr_total, total: remit, deff: replace, deft: true}
  - {id: deffr_dom, mean: bank, subset: "migrant = 'current'", deff: replace, deft: true}
`,
}

// flattenResults keys every value of res as stats.R does: ID, then the
// domain's label, then the level prefixed by the variable as R names it.
func flattenResults(plan *Plan, res *Results) map[string][]float64 {
	out := map[string][]float64{}
	withCI := false
	var group func(key, prefix string, g Group)
	group = func(key, prefix string, g Group) {
		if len(g.Levels) > 0 {
			for _, l := range g.Levels {
				group(key+"."+prefix+l.Level, "", l)
			}
			return
		}
		v := []float64{val(g.Estimate), val(g.SE)}
		for _, x := range []*Num{g.DEff, g.DEft} {
			if x != nil {
				v = append(v, float64(*x))
			}
		}
		if withCI {
			v = append(v, float64(g.CI[0]), float64(g.CI[1]))
		}
		out[key] = v
	}
	for i, r := range res.Results {
		e := plan.Estimates[i]
		withCI = r.Type == "ciprop"
		prefix := e.Mean + e.Total + e.Proportion
		if len(r.Domains) > 0 {
			for _, g := range r.Domains {
				group(r.ID+"."+g.Level, prefix, g)
			}
			for k, v := range flattenExtra(r) {
				out[r.ID+k] = v
			}
			continue
		}
		g := Group{Estimate: r.Estimate, SE: r.SE, CI: r.CI, DEff: r.DEff, DEft: r.DEft, Levels: r.Levels}
		if r.Estimate != nil || len(r.Levels) > 0 {
			group(r.ID, prefix, g)
		}
		for k, v := range flattenExtra(r) {
			out[r.ID+k] = v
		}
	}
	return out
}

// flattenExtra keys the values of tests, intervals and regressions.
func flattenExtra(r Result) map[string][]float64 {
	out := map[string][]float64{}
	for _, c := range r.Contrasts {
		out[".contrast."+c.Name] = []float64{float64(c.Estimate), float64(c.SE)}
	}
	switch r.Type {
	case "quantile":
		for _, q := range r.Quantiles {
			out["."+strconv.FormatFloat(float64(q.P), 'g', -1, 64)] = []float64{float64(q.Estimate), float64(q.SE), float64(q.CI[0]), float64(q.CI[1])}
		}
	case "lm", "logit", "glm":
		for _, c := range r.Coefficients {
			out["."+c.Term] = []float64{float64(c.Estimate), float64(c.SE), float64(c.P), val(c.Meff)}
		}
		nf, nc := 0, 0
		for _, tt := range r.Tests {
			if tt.Statistic == "Chisq" {
				nc++
				out[fmt.Sprintf(".chisq_%d", nc)] = []float64{float64(tt.Chisq), float64(tt.DF), float64(tt.P)}
				continue
			}
			nf++
			out[fmt.Sprintf(".test_%d", nf)] = []float64{val(tt.F), float64(tt.DF), val(tt.DDF), float64(tt.P)}
		}
	case "chisq":
		if r.Statistic == "Chisq" {
			out[""] = []float64{val(r.Chisq), val(r.NDF), val(r.P)}
		} else {
			out[""] = []float64{val(r.F), val(r.NDF), val(r.DDF), val(r.P)}
		}
	}
	return out
}

// TestStatsMatchR: each statistic of Stats, through plan YAML, equals R
// survey's (testdata/r-stats/stats.R) to 1e-9 relative, on the api
// designs and on calibrated designs.
func TestStatsMatchR(t *testing.T) {
	want := readGolden(t, "testdata/r-stats/expected.tsv")
	names := make([]string, 0, len(statsDesigns))
	for k := range statsDesigns {
		names = append(names, k)
	}
	sort.Strings(names)
	checked := 0
	tables := map[string]*Table{}
	for _, name := range names {
		ds := statsDesigns[name]
		t.Run(name, func(t *testing.T) {
			tb := tables[ds.data]
			if tb == nil {
				tb = loadCSV(t, "testdata/"+ds.data)
				tables[ds.data] = tb
			}
			est := statsEstimates[name]
			design := ds.design
			if ds.data == "r-calibrated/sample.csv" {
				est = statsEstimates["calibrated"]
				design = "\n  strata: stratum\n  psu: [psu, hh]\n  fpc: [fpc1, fpc2]\n  lonely_psu: adjust" + design
			}
			src := "data: x.csv\ndesign: " + design + "\nestimates:" + est
			plan, err := ParsePlan([]byte(src))
			if err != nil {
				t.Fatalf("plan: %v\n%s", err, src)
			}
			res, err := RunTable(plan, tb)
			if err != nil {
				t.Fatal(err)
			}
			got := flattenResults(plan, res)
			for key, w := range want {
				short, ok := strings.CutPrefix(key, name+".")
				if !ok {
					continue
				}
				g, ok := got[short]
				if !ok {
					t.Errorf("%s: no result (have %v)", key, keysOf(got, short))
					continue
				}
				if len(g) != len(w) {
					t.Errorf("%s: got %d values %v, R has %d %v", key, len(g), g, len(w), w)
					continue
				}
				// Values within 1e-12 of the row's scale are rounding noise
				// (the SE of a calibration total).
				scale := 1e-12 * math.Max(1, math.Abs(w[0]))
				for i := range w {
					if !closeRel(g[i], w[i], 1e-9, scale) {
						t.Errorf("%s[%d] = %.15g, R %.15g (rel diff %.2g)", key, i, g[i], w[i], math.Abs(g[i]-w[i])/math.Abs(w[i]))
					}
				}
				checked++
			}
		})
	}
	t.Logf("checked %d golden rows", checked)
	if checked != len(want) {
		t.Errorf("checked %d golden rows of %d in expected.tsv", checked, len(want))
	}
}

// keysOf lists got's keys sharing key's first part, for error messages.
func keysOf(got map[string][]float64, key string) []string {
	first, _, _ := strings.Cut(key, ".")
	var out []string
	for k := range got {
		if strings.HasPrefix(k, first) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("… %d more", len(out)-8))
	}
	return out
}

// TestStatsOnReplicateDesigns: the statistics not yet computed from
// replicate weights say so, each by name, instead of answering with the
// linearization variance.
func TestStatsOnReplicateDesigns(t *testing.T) {
	tb := loadCSV(t, "testdata/r-replicate/replicates.csv")
	for _, entry := range []string{
		"{id: a, var: cons, na_rm: true}",
		"{id: a, ciprop: remit, method: beta}",
		"{id: a, chisq: [migrant, bank], statistic: Wald}",
		"{id: a, chisq: [migrant, bank], statistic: Chisq}",
		"{id: a, glm: \"hh_size ~ migrant\", family: poisson}",
		"{id: a, quantile: cons, qrule: hf7, na_rm: true}",
		"{id: a, mean: bank, by: migrant, contrasts: [{name: d, weights: {current: 1, none: -1}}]}",
	} {
		plan, err := ParsePlan([]byte("data: x.csv\ndesign: {weight: w0, replicates: {columns: [jk1_1, jk1_2, jk1_3], type: JK1}}\nestimates: [" + entry + "]"))
		if err != nil {
			t.Fatalf("%s: %v", entry, err)
		}
		if _, err := RunTable(plan, tb); err == nil || !strings.Contains(err.Error(), "not yet available on a replicate-weight design") {
			t.Errorf("%s on a replicate design: err = %v", entry, err)
		}
	}
}
