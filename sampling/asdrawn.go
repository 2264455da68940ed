package sampling

import (
	"fmt"
	"strings"
)

// The first-stage variance approximations a design as drawn can declare.
// dotm draws PSUs by PPS systematic sampling without replacement, whose
// exact variance needs joint inclusion probabilities that systematic
// sampling does not provide; the design states which approximation the
// standard errors use.
const (
	// WithReplacement treats the non-certainty PSUs as drawn with
	// replacement (Hansen–Hurwitz): no fpc at any stage, only the PSU
	// totals enter the variance. Slightly conservative; what most
	// national survey analyses use.
	WithReplacement = "with-replacement"
	// Brewer uses Brewer's approximation of the PPS without-replacement
	// variance, with each stage's inclusion probabilities as the fpc (R:
	// svydesign(..., fpc = ~pi1 + pi2, pps = "brewer")), second stage
	// included.
	Brewer = "brewer"
)

// DesignColumns names the columns of a design as drawn. The defaults
// (DefaultDesignColumns) are those of `dotm weights base`.
type DesignColumns struct {
	Stratum   string `json:"stratum"`   // frame stratum of the PSU
	PSU       string `json:"psu"`       // enumeration area
	Household string `json:"household"` // household id, unique within its PSU
	Class     string `json:"class"`     // screening class: the second-stage stratum
	Certainty string `json:"certainty"` // 1 for a household of a certainty PSU, else 0
	Pi1       string `json:"pi1"`       // first-stage inclusion probability (1 for certainty PSUs)
	Pi2       string `json:"pi2"`       // second-stage inclusion probability m/M
	Weight    string `json:"weight"`
}

// DefaultDesignColumns are the column names `dotm weights base` writes.
var DefaultDesignColumns = DesignColumns{Stratum: "stratum", PSU: "psu", Household: "household_id", Class: "class",
	Certainty: "certainty", Pi1: "pi1", Pi2: "pi2", Weight: "weight"}

// DrawnDesign says which design a sample drawn by dotm encodes: PSUs by
// PPS within strata, certainty (self-representing) PSUs as strata of their
// own whose households are the PSUs, the screening class as second-stage
// strata, and the first-stage variance approximation.
type DrawnDesign struct {
	Variance string        `json:"variance"` // WithReplacement or Brewer
	Columns  DesignColumns `json:"columns"`
	// Specification says the same in words, for reports and codebooks.
	Specification string `json:"specification"`
	// R declares the design in R survey from the columns (data frame d).
	R string `json:"r"`
}

// NewDrawnDesign returns the design as drawn with the given variance
// approximation ("" means WithReplacement) over the columns cols.
func NewDrawnDesign(variance string, cols DesignColumns) (DrawnDesign, error) {
	switch variance {
	case "", WithReplacement:
		variance = WithReplacement
	case Brewer:
	default:
		return DrawnDesign{}, fmt.Errorf("design variance %q: want %s or %s", variance, WithReplacement, Brewer)
	}
	d := DrawnDesign{Variance: variance, Columns: cols}
	var b strings.Builder
	b.WriteString("Two-stage design as drawn: enumeration areas (PSUs) by PPS systematic sampling within strata; ")
	b.WriteString("a certainty (self-representing) EA is a stratum of its own for each screening class, with its households as PSUs; ")
	b.WriteString("households by screening-class quota within each EA (second-stage strata: " + cols.Class + "). ")
	if variance == Brewer {
		b.WriteString("Variance: PPS without replacement by Brewer's approximation, fpc = the inclusion probabilities of each stage (R svydesign pps = \"brewer\"), second stage included.")
	} else {
		b.WriteString("Variance: first stage with replacement (Hansen–Hurwitz, no fpc), ultimate clusters; lonely PSUs centred at the grand mean (survey.lonely.psu = \"adjust\").")
	}
	d.Specification = b.String()
	c := cols
	var r strings.Builder
	fmt.Fprintf(&r, "library(survey)\noptions(survey.lonely.psu = \"adjust\")\ncert <- d$%s != 0\n", c.Certainty)
	fmt.Fprintf(&r, "d$stratum_drawn <- ifelse(cert, paste(d$%s, d$%s, d$%s, sep = \"/\"), d$%s)\n", c.Stratum, c.PSU, c.Class, c.Stratum)
	fmt.Fprintf(&r, "d$psu_drawn <- ifelse(cert, paste(d$%s, d$%s, sep = \"/\"), d$%s)\n", c.PSU, c.Household, c.PSU)
	if variance == Brewer {
		fmt.Fprintf(&r, "d$fpc1_drawn <- ifelse(cert, d$%s, d$%s)\nd$fpc2_drawn <- ifelse(cert, 1, d$%s)\n", c.Pi2, c.Pi1, c.Pi2)
		r.WriteString("# rows in the order of R's PSU factor: R pairs each PSU's fpc with it in data order\n")
		r.WriteString("invisible(Sys.setlocale(\"LC_COLLATE\", \"C\"))\n")
		r.WriteString("d <- d[order(paste(d$stratum_drawn, d$psu_drawn, sep = \".\")), ]\n")
		fmt.Fprintf(&r, "des <- svydesign(ids = ~psu_drawn + %s, strata = ~stratum_drawn + %s, fpc = ~fpc1_drawn + fpc2_drawn,\n  weights = ~%s, pps = \"brewer\", nest = TRUE, data = d)\n", c.Household, c.Class, c.Weight)
	} else {
		fmt.Fprintf(&r, "des <- svydesign(ids = ~psu_drawn + %s, strata = ~stratum_drawn + %s, weights = ~%s, nest = TRUE, data = d)\n", c.Household, c.Class, c.Weight)
	}
	d.R = r.String()
	return d, nil
}
