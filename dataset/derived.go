package dataset

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dotm-survey/dotm/exports"
)

// The derived household variables, with the canonical names that analysis
// plans and release profiles use, and how each comes from the household form:
//
//	migrant           current_migrant if the migrants roster has anyone, else return_migrant if the
//	                  returnees roster has anyone, else non_migrant
//	hh_size           members in the household roster
//	head_sex, head_female, head_age
//	                  of the roster member whose relationship is "head" (the first member if none is)
//	n_migrants        entries in the migrants roster
//	dest_country      destination of the first migrant ("" when none)
//	remit_received    remit_received = yes (1/0); remit_amount the amount, 0 when none
//	food_exp, educ_exp, health_exp, housing_exp
//	                  monthly expenditure; cons_pc = (these four + other_exp) / hh_size, as the form's
//	                  own calculation, unrounded
//	bank_account, savings, mobile_money, health_insurance  yes = 1, no = 0
//	children_6_17     roster members aged 6 to 17; children_enrolled those with enrolled = yes
//	women_decide      1 when any decision_* answer names a woman (head_female, joint, other_woman)
//	urban             1 for urban (answer "urban" or "yes"), 0 otherwise
//	interview_date    the day the interview ended
func derivedColumns(hh []Household) []*exports.Column {
	n := len(hh)
	str := func(name, src string) *exports.Column {
		return &exports.Column{Name: name, Type: exports.String, Strings: make([]string, n), Meta: exports.Meta{Source: src}}
	}
	num := func(name, src string) *exports.Column {
		return &exports.Column{Name: name, Type: exports.Float, Floats: make([]float64, n), Meta: exports.Meta{Source: src}}
	}
	integer := func(name, src string) *exports.Column {
		return &exports.Column{Name: name, Type: exports.Int, Ints: make([]int64, n), Meta: exports.Meta{Source: src}}
	}
	var (
		migrant  = str("migrant", "derived: migrants roster, else returnees roster")
		region   = str("region", "region")
		urban    = integer("urban", "derived: urban")
		hhSize   = integer("hh_size", "derived: members in the roster")
		headSex  = str("head_sex", "derived: sex of the head")
		headFem  = integer("head_female", "derived: head_sex = female")
		headAge  = integer("head_age", "derived: age of the head")
		nMig     = integer("n_migrants", "derived: entries in the migrants roster")
		dest     = str("dest_country", "derived: destination of the first migrant")
		remRec   = integer("remit_received", "remit_received = yes")
		remAmt   = num("remit_amount", "remit_amount, 0 when none received")
		food     = num("food_exp", "food_exp")
		educ     = num("educ_exp", "educ_exp")
		health   = num("health_exp", "health_exp")
		housing  = num("housing_exp", "housing_exp")
		consPC   = num("cons_pc", "derived: (food_exp + educ_exp + health_exp + housing_exp + other_exp) / hh_size")
		bank     = integer("bank_account", "bank_account = yes")
		savings  = integer("savings", "savings = yes")
		mobile   = integer("mobile_money", "mobile_money = yes")
		insured  = integer("health_insurance", "health_insurance = yes")
		kids     = integer("children_6_17", "derived: roster members aged 6 to 17")
		enrolled = integer("children_enrolled", "derived: of those, enrolled = yes")
		women    = integer("women_decide", "derived: a woman takes part in a decision_* answer")
		date     = &exports.Column{Name: "interview_date", Type: exports.Date, Ints: make([]int64, n), Nullable: true, Meta: exports.Meta{Source: "end of the interview"}}
	)
	for c, l := range map[*exports.Column]string{
		migrant: "Household migration status", region: "Region", urban: "Urban area", hhSize: "Household size (members in the roster)",
		headSex: "Sex of the household head", headFem: "Female-headed household", headAge: "Age of the household head",
		nMig: "Members now living abroad", dest: "Destination country of the first migrant", remRec: "Household received remittances",
		remAmt: "Remittances received (amount, 0 when none)", food: "Food expenditure, monthly", educ: "Education expenditure, monthly",
		health: "Health expenditure, monthly", housing: "Housing expenditure, monthly", consPC: "Consumption per capita, monthly",
		bank: "Has a bank account", savings: "Has savings", mobile: "Uses mobile money", insured: "Has health insurance",
		kids: "Children aged 6-17", enrolled: "Children aged 6-17 enrolled in school", women: "A woman takes part in major decisions",
		date: "Interview date",
	} {
		c.Meta.Label = l
	}
	migrant.Meta.Choices = []exports.Choice{
		{Name: CurrentMigrant, Labels: map[string]string{"en": "Current migrant household (a member lives abroad)"}},
		{Name: ReturnMigrant, Labels: map[string]string{"en": "Return migrant household (a member came back, none abroad)"}},
		{Name: NonMigrant, Labels: map[string]string{"en": "Non-migrant household"}},
	}
	urban.Meta.Choices = []exports.Choice{{Name: "0", Labels: map[string]string{"en": "Rural"}}, {Name: "1", Labels: map[string]string{"en": "Urban"}}}
	headFem.Meta.Choices = []exports.Choice{{Name: "0", Labels: map[string]string{"en": "Male head"}}, {Name: "1", Labels: map[string]string{"en": "Female head"}}}
	for _, c := range []*exports.Column{remRec, bank, savings, mobile, insured, women} {
		c.Meta.Choices = exports.YesNoChoices()
	}
	region.Meta.Sensitivity, urban.Meta.Sensitivity = exports.Quasi, exports.Quasi
	hhSize.Meta.Sensitivity, headSex.Meta.Sensitivity, headAge.Meta.Sensitivity, headFem.Meta.Sensitivity = exports.Quasi, exports.Quasi, exports.Quasi, exports.Quasi
	dest.Meta.Sensitivity = exports.Quasi
	remAmt.Meta.Sensitivity = exports.Sensitive

	for i, h := range hh {
		a := h.Answers
		members := rowsOf(a, "members")
		migrants := rowsOf(a, "migrants")
		returnees := rowsOf(a, "returnees")
		switch {
		case len(migrants) > 0:
			migrant.Strings[i] = CurrentMigrant
		case len(returnees) > 0:
			migrant.Strings[i] = ReturnMigrant
		default:
			migrant.Strings[i] = NonMigrant
		}
		region.Strings[i], _ = text(a["region"])
		if u, _ := text(a["urban"]); u == "urban" || u == "yes" || u == "1" {
			urban.Ints[i] = 1
		}
		hhSize.Ints[i] = int64(len(members))
		var head map[string]any
		for _, m := range members {
			if r, _ := text(m["relationship"]); r == "head" {
				head = m
				break
			}
		}
		if head == nil && len(members) > 0 {
			head = members[0]
		}
		if head != nil {
			headSex.Strings[i], _ = text(head["sex"])
			if headSex.Strings[i] == "female" {
				headFem.Ints[i] = 1
			}
			if age, ok := number(head["age"], true); ok {
				headAge.Ints[i] = int64(age)
			}
		}
		nMig.Ints[i] = int64(len(migrants))
		if len(migrants) > 0 {
			dest.Strings[i], _ = text(migrants[0]["dest_country"])
		}
		remRec.Ints[i] = yes(a["remit_received"])
		if remRec.Ints[i] == 1 {
			remAmt.Floats[i], _ = number(a["remit_amount"], true)
		}
		total := 0.0
		for _, c := range []*exports.Column{food, educ, health, housing} {
			x, _ := number(a[c.Name], true)
			c.Floats[i] = x
			total += x
		}
		if other, ok := number(a["other_exp"], true); ok {
			total += other
		}
		if len(members) > 0 {
			consPC.Floats[i] = total / float64(len(members))
		} else {
			consPC.SetNull(i)
		}
		bank.Ints[i], savings.Ints[i], mobile.Ints[i], insured.Ints[i] = yes(a["bank_account"]), yes(a["savings"]), yes(a["mobile_money"]), yes(a["health_insurance"])
		for _, m := range members {
			age, ok := number(m["age"], true)
			if ok && age >= 6 && age <= 17 {
				kids.Ints[i]++
				enrolled.Ints[i] += yes(m["enrolled"])
			}
		}
		keys := make([]string, 0)
		for k := range a {
			if strings.HasPrefix(k, "decision_") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if v, _ := text(a[k]); v == "head_female" || v == "joint" || v == "other_woman" {
				women.Ints[i] = 1
				break
			}
		}
		if h.Interviewed.IsZero() {
			if d, err := time.Parse(time.DateOnly, fmt.Sprint(a["interview_date"])); err == nil {
				date.Ints[i] = d.Unix() / 86400
			} else {
				date.SetNull(i)
			}
		} else {
			date.Ints[i] = int64(math.Floor(float64(h.Interviewed.Unix()) / 86400))
		}
	}
	return []*exports.Column{migrant, region, urban, hhSize, headSex, headFem, headAge, nMig, dest, remRec, remAmt,
		food, educ, health, housing, consPC, bank, savings, mobile, insured, kids, enrolled, women, date}
}

// yes is 1 for the answer "yes" (or true, or 1), 0 otherwise.
func yes(v any) int64 {
	switch x := v.(type) {
	case string:
		if x == "yes" || x == "1" || x == "true" {
			return 1
		}
	case bool:
		if x {
			return 1
		}
	case float64:
		if x == 1 {
			return 1
		}
	case int64:
		if x == 1 {
			return 1
		}
	}
	return 0
}
