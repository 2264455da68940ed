package exports

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dotm-survey/dotm/analysis"
)

// Replicate weights in releases. Strata and PSU codes are geographic
// identifiers; a public-use release leaves them out, and researchers then
// need replicate weights to compute correct standard errors. The profile's
//
//	replicate_weights: {type: bootstrap, replicates: 80}   # or JKn, BRR, Fay (rho: 0.5); or off
//
// makes them from the release's full design (the true strata and PSUs,
// before codes are masked or dropped) with [analysis.Design.MakeReplicates]
// and adds one column per replicate (repw_1, repw_2, …: whole weights, the
// release's weight times the replicate's factor) to every table that
// carries the weight. They are on by default, as bootstrap with 80
// replicates, when the profile drops the stratum or PSU column (a
// public-use file); off otherwise.

// ReplicateWeightsSpec is the profile's replicate_weights.
type ReplicateWeightsSpec struct {
	// Type is bootstrap (the Rao–Wu rescaled bootstrap, the default), JKn,
	// BRR or Fay.
	Type string `yaml:"type"`
	// Replicates is the number of bootstrap replicates (default 80).
	Replicates int `yaml:"replicates"`
	// Rho is Fay's ρ (type Fay; default 0.5).
	Rho float64 `yaml:"rho"`
	// Prefix names the columns (default repw_: repw_1, repw_2, …).
	Prefix string `yaml:"prefix"`
}

// ReplicateInfo describes the replicate weights a release carries, for the
// disclosure report and the codebook's design declarations.
type ReplicateInfo struct {
	Columns []string `json:"columns"`
	// Type is R svrepdesign's type (bootstrap, JKn, BRR, Fay); Method says
	// how the replicates were made.
	Type    string    `json:"type"`
	Method  string    `json:"method"`
	Rho     float64   `json:"rho,omitempty"`
	Scale   float64   `json:"scale"`
	RScales []float64 `json:"rscales"`
	// DF is the degrees of freedom of the replicate design (R's degf).
	DF int `json:"df"`
}

// DefaultBootstrapReplicates is the number of replicates of a release's
// bootstrap weights when the profile does not say.
const DefaultBootstrapReplicates = 80

// parseReplicateWeights reads replicate_weights: off, or a mapping; absent,
// it is on (bootstrap) when the profile drops the stratum or PSU column.
func parseReplicateWeights(n yaml.Node, p *Profile) (*ReplicateWeightsSpec, error) {
	d := p.design()
	switch n.Kind {
	case 0:
		if slices.Contains(p.Drop, d.Stratum) || slices.Contains(p.Drop, d.PSU) {
			return &ReplicateWeightsSpec{Type: analysis.RepBootstrap, Replicates: DefaultBootstrapReplicates, Prefix: "repw_"}, nil
		}
		return nil, nil
	case yaml.ScalarNode:
		if v := strings.ToLower(n.Value); v == "off" || v == "false" || v == "none" {
			return nil, nil
		}
		return nil, fmt.Errorf("profile: replicate_weights: %q: want off or {type: bootstrap|JKn|BRR|Fay, replicates: 80}", n.Value)
	case yaml.MappingNode:
		var s ReplicateWeightsSpec
		if err := decodeStrict(&n, &s); err != nil {
			return nil, fmt.Errorf("profile: replicate_weights: %w", err)
		}
		switch strings.ToLower(s.Type) {
		case "", "bootstrap":
			s.Type = analysis.RepBootstrap
			if s.Replicates == 0 {
				s.Replicates = DefaultBootstrapReplicates
			}
			if s.Replicates < 2 || s.Replicates > 1000 {
				return nil, fmt.Errorf("profile: replicate_weights: replicates: %d, want 2 to 1000", s.Replicates)
			}
		case "jkn", "brr", "fay":
			if s.Replicates != 0 {
				return nil, fmt.Errorf("profile: replicate_weights: replicates is for type bootstrap (%s makes one replicate per PSU or Hadamard column)", s.Type)
			}
			s.Type = map[string]string{"jkn": analysis.RepJKn, "brr": analysis.RepBRR, "fay": analysis.RepFay}[strings.ToLower(s.Type)]
		default:
			return nil, fmt.Errorf("profile: replicate_weights: type %q: want bootstrap, JKn, BRR or Fay", s.Type)
		}
		if s.Type == analysis.RepFay && s.Rho == 0 {
			s.Rho = 0.5
		}
		if s.Rho != 0 && s.Type != analysis.RepFay || s.Rho < 0 || s.Rho >= 1 {
			return nil, fmt.Errorf("profile: replicate_weights: rho %v: for type Fay, in (0, 1)", s.Rho)
		}
		if s.Prefix == "" {
			s.Prefix = "repw_"
		}
		return &s, nil
	}
	return nil, fmt.Errorf("profile: replicate_weights: want off or {type: bootstrap|JKn|BRR|Fay, replicates: 80}")
}

// replicateFactors makes the replicates of the design of ds's table that
// carries the weight, stratum and PSU columns: the factor of each PSU value
// in each replicate. Strata with one PSU are taken with certainty.
func replicateFactors(ds *Dataset, d Design, s *ReplicateWeightsSpec, rng *rand.Rand) (map[string][]float64, *ReplicateInfo, error) {
	var src *Table
	for _, t := range ds.Tables {
		if t.Column(d.Weight) != nil && t.Column(d.Stratum) != nil && t.Column(d.PSU) != nil {
			src = t
			break
		}
	}
	if src == nil {
		return nil, nil, fmt.Errorf("profile: replicate_weights: no table carries the design columns %s, %s and %s", d.Stratum, d.PSU, d.Weight)
	}
	n := src.Rows()
	strata, psu, w := make([]string, n), make([]string, n), make([]float64, n)
	sc, pc, wc := src.Column(d.Stratum), src.Column(d.PSU), src.Column(d.Weight)
	for i := range n {
		if sc.IsNull(i) || pc.IsNull(i) || wc.IsNull(i) {
			return nil, nil, fmt.Errorf("profile: replicate_weights: table %s row %d has no %s, %s or %s", src.Name, i+1, d.Stratum, d.PSU, d.Weight)
		}
		strata[i], psu[i] = sc.Format(i), sc.Format(i)+"\x00"+pc.Format(i)
		v, err := strconv.ParseFloat(wc.Format(i), 64)
		if err != nil {
			return nil, nil, fmt.Errorf("profile: replicate_weights: table %s row %d: weight %q", src.Name, i+1, wc.Format(i))
		}
		w[i] = v
	}
	at := analysis.NewTable(n)
	at.AddStrings("stratum", strata)
	at.AddStrings("psu", psu)
	at.AddNumeric("weight", w)
	des, err := analysis.NewDesign(at, analysis.DesignSpec{Strata: "stratum", PSU: []string{"psu"}, Weight: "weight", LonelyPSU: analysis.LonelyCertainty})
	if err != nil {
		return nil, nil, fmt.Errorf("profile: replicate_weights: table %s: %w", src.Name, err)
	}
	mk := analysis.MakeReplicates{Type: s.Type, Rho: s.Rho, Small: "", Large: ""}
	switch s.Type {
	case analysis.RepBootstrap:
		mk.Type, mk.Replicates, mk.Seed = analysis.RepSubbootstrap, s.Replicates, rng.Uint64()
	case analysis.RepBRR, analysis.RepFay:
		mk.Small, mk.Large = "split", "merge"
	}
	rw, err := des.MakeReplicates(mk)
	if err != nil {
		return nil, nil, fmt.Errorf("profile: replicate_weights: %w", err)
	}
	factors := map[string][]float64{}
	for i, key := range psu {
		if _, ok := factors[key]; ok {
			continue
		}
		f := make([]float64, rw.Count())
		for r := range f {
			f[r] = rw.Factor(r, i)
		}
		factors[key] = f
	}
	info := &ReplicateInfo{Type: rw.RType(), Rho: rw.Rho, Scale: rw.Scale, RScales: rw.RScales, DF: rw.DF()}
	for r := range rw.Count() {
		info.Columns = append(info.Columns, s.Prefix+strconv.Itoa(r+1))
	}
	switch rw.Type {
	case analysis.RepSubbootstrap:
		info.Method = fmt.Sprintf("Rao–Wu rescaled bootstrap: in each stratum n−1 of its n PSUs drawn with replacement, factors rescaled by n/(n−1); %d replicates, scale 1/(R−1); strata with one PSU keep factor 1", rw.Count())
	case analysis.RepJKn:
		info.Method = "stratified jackknife (JKn): one replicate per PSU, dropping it and reweighting its stratum's other PSUs by n/(n−1); strata with one PSU are taken with certainty"
	default:
		info.Method = fmt.Sprintf("balanced repeated replication with a %d-column Hadamard matrix (R's brrweights: strata with one PSU split, with more than two merged into halves)", rw.Count())
		if rw.Type == analysis.RepFay {
			info.Method += fmt.Sprintf(", Fay's ρ = %g", rw.Rho)
		}
	}
	return factors, info, nil
}

// addReplicateWeights adds the replicate weight columns to every table of
// out that carries the weight: the input table's row i has the true
// stratum and PSU of out's row i (anonymization keeps rows in order).
func addReplicateWeights(in, out *Dataset, d Design, factors map[string][]float64, info *ReplicateInfo) error {
	for k, t := range out.Tables {
		src := in.Tables[k]
		wc := t.Column(d.Weight)
		sc, pc := src.Column(d.Stratum), src.Column(d.PSU)
		if wc == nil || sc == nil || pc == nil {
			continue
		}
		if t.Rows() != src.Rows() {
			return fmt.Errorf("exports: table %s: %d rows released of %d; replicate weights need every row", t.Name, t.Rows(), src.Rows())
		}
		cols := make([]*Column, len(info.Columns))
		for r, name := range info.Columns {
			if t.Column(name) != nil {
				return fmt.Errorf("profile: replicate_weights: table %s already has a column %s; choose another prefix", t.Name, name)
			}
			cols[r] = &Column{Name: name, Type: Float, Floats: make([]float64, t.Rows()), Meta: Meta{
				Source:     fmt.Sprintf("replicate weight %d of %d (%s)", r+1, len(info.Columns), info.Type),
				Transforms: []string{"made from the true strata and PSUs before they were masked: " + info.Method}}}
		}
		for i := range t.Rows() {
			if sc.IsNull(i) || pc.IsNull(i) || wc.IsNull(i) {
				return fmt.Errorf("exports: table %s row %d has no %s, %s or %s for its replicate weights", t.Name, i+1, d.Stratum, d.PSU, d.Weight)
			}
			f, ok := factors[sc.Format(i)+"\x00"+pc.Format(i)]
			if !ok {
				return fmt.Errorf("exports: table %s row %d: PSU %s of stratum %s is not in the design's table", t.Name, i+1, pc.Format(i), sc.Format(i))
			}
			w, err := strconv.ParseFloat(wc.Format(i), 64)
			if err != nil {
				return fmt.Errorf("exports: table %s row %d: weight %q", t.Name, i+1, wc.Format(i))
			}
			for r := range cols {
				cols[r].Floats[i] = w * f[r]
			}
		}
		t.Columns = append(t.Columns, cols...)
	}
	return nil
}

// useReplicates makes the design declarations those of the replicate
// weights: R's svrepdesign, Stata's svyset with the replicates as
// jackknife weights whose multipliers carry the scale (so that every type
// gives R's variance, centred on the full-sample estimate: mse), and
// samplics' ReplicateEstimator.
func (d *DesignCode) useReplicates(info *ReplicateInfo) {
	d.Replicates = info
	first, last := info.Columns[0], info.Columns[len(info.Columns)-1]
	prefix := strings.TrimSuffix(first, "1")
	rs := make([]string, len(info.RScales))
	mult := make([]string, len(info.RScales))
	for r, s := range info.RScales {
		rs[r] = strconv.FormatFloat(s, 'g', 17, 64)
		mult[r] = strconv.FormatFloat(s*info.Scale, 'g', 17, 64)
	}
	allOne := true
	for _, s := range info.RScales {
		allOne = allOne && s == 1
	}
	var b strings.Builder
	b.WriteString("library(arrow)\nlibrary(survey)\n")
	fmt.Fprintf(&b, "%s <- as.data.frame(read_parquet(%q))\n", d.Table, d.File)
	rscales := "rep(1, " + strconv.Itoa(len(rs)) + ")"
	if !allOne {
		rscales = "c(" + strings.Join(rs, ", ") + ")"
	}
	fmt.Fprintf(&b, "des <- svrepdesign(data = %s, weights = ~%s, repweights = %q, type = %q,\n  scale = %s, rscales = %s,%s mse = TRUE, combined.weights = TRUE)\n",
		d.Table, d.Weight, "^"+prefix+"[0-9]+$", info.Type, strconv.FormatFloat(info.Scale, 'g', 17, 64), rscales, map[bool]string{true: fmt.Sprintf(" rho = %g,", info.Rho), false: ""}[info.Type == analysis.RepFay])
	d.R = b.String()
	b.Reset()
	fmt.Fprintf(&b, "* with the %s table in memory; replicate r's variance multiplier is scale x rscale_r\n", d.Table)
	multOpt := mult[0]
	if !allOne {
		multOpt = strings.Join(mult, " ")
	}
	fmt.Fprintf(&b, "svyset [pweight = %s], jkrweight(%s-%s, multiplier(%s)) vce(jackknife) mse dof(%d)\n", d.Weight, first, last, multOpt, info.DF)
	d.Stata = b.String()
	b.Reset()
	b.WriteString("import pandas as pd\nfrom samplics.estimation import ReplicateEstimator\n\n")
	fmt.Fprintf(&b, "%s = pd.read_parquet(%q)\n", d.Table, d.File)
	fmt.Fprintf(&b, "repw = %s[[f\"%s{r}\" for r in range(1, %d)]]\n", d.Table, prefix, len(info.Columns)+1)
	coefs := "[" + strings.Join(mult, ", ") + "]"
	if allOne {
		coefs = fmt.Sprintf("[%s] * %d", mult[0], len(mult))
	}
	b.WriteString("# the multipliers are scale x rscale_r, centred on the full-sample estimate as R's mse = TRUE\n")
	fmt.Fprintf(&b, "est = ReplicateEstimator(\"jackknife\", \"mean\")\nest.estimate(y=%s[\"<variable>\"], samp_weight=%s[%q], rep_weights=repw, rep_coefs=%s, conservative=True, remove_nan=True)\n", d.Table, d.Table, d.Weight, coefs)
	d.Python = b.String()
	d.Caveats = fmt.Sprintf("standard errors come from the %d replicate weights %s … %s (%s); intervals use %d degrees of freedom", len(info.Columns), first, last, info.Method, info.DF)
	if d.PSU == "" || d.Strata == "" {
		d.Caveats += "; the true strata and PSU codes are not released"
	}
}
