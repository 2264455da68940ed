package exports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dotm-survey/dotm/internal/yamlkeys"
)

// Profile is a release profile: which disclosure control a release gets.
// It is read from YAML by [ParseProfile]:
//
//	k: 3                                 # k-anonymity on the quasi-identifiers
//	quasi_identifiers: [region, urban, hh_size, head_sex, head_age, dest_country]
//	recode: {head_age: [0, 25, 35, 45, 55, 65, 120], hh_size: {top: 10}}
//	top_code: {remit_amount: 0.99, cons_pc: 0.995}   # quantile caps
//	group_rare: {dest_country: 10}       # categories held by fewer records become "other"
//	geo: drop                            # or displace
//	max_risk: 0.05                       # refuse when expected re-identifications / n exceeds this
//	direct: [respondent_name, phone]     # extra direct identifiers (files without a form)
//	sensitive: [remit_amount]            # sensitivity class for the codebook (files without a form)
//	drop: [notes]                        # further columns to leave out
//	design: {id: household_id, stratum: stratum, psu: psu, weight: weight, fpc: fpc, urban: urban}
//	row_group_rows: 131072               # rows per Parquet row group
//	residual_k: 40                       # records allowed below k on what other released data determine
//	keep: [enumerator_comments]          # free text and paradata to release (dropped by default)
//	allow_k_below_3: false               # k under 3 is refused unless this is set (recorded in the manifest)
//	perturb: {sd: 0.02, exclude: []}     # noise on continuous amounts, new for each release (or: perturb: off)
//	replicate_weights: {type: bootstrap, replicates: 80}  # or JKn, BRR, Fay; off (default on when drop lists stratum or psu)
//	person_quasi_identifiers: {persons: [age, sex, relationship, education]}  # per person-level table
//	blanks_match_any: false              # sdcMicro's risk, where a blank matches any value (off: a blank is a value)
//	key_indicators: {table: households, means: [remit_received], by: migrant}  # compared full vs released
//
// Quasi-identifiers are listed most important first: local suppression nulls
// values of the last-listed ones first.
type Profile struct {
	K                int
	QuasiIdentifiers []string
	Recode           map[string]Recode
	TopCode          map[string]float64 // column -> quantile in (0, 1]
	GroupRare        map[string]int     // column -> minimum number of records per category
	Geo              string             // "drop" (default) or "displace"
	MaxRisk          float64            // 0 = no limit
	Direct           []string
	Sensitive        []string
	Drop             []string
	Design           Design
	RowGroupRows     int
	// ResidualK is how many records per table may stay below k on the
	// quasi-identifiers other released data determine (design codes, roster
	// size) once every other one is suppressed; 0 (the default) refuses
	// any. Allowing some is a decision the disclosure report records.
	ResidualK int
	// AllowKBelow3 lets k be 1 or 2, below the floor of 3; the release's
	// manifest and disclosure report record the override.
	AllowKBelow3 bool
	// Keep lists free-text and paradata columns (text questions, start,
	// end, deviceid, …) to release; all others of those kinds are dropped.
	Keep []string
	// PerturbSD is the standard deviation of the multiplicative noise
	// (x·(1 + sd·ε), ε standard normal, drawn anew for each release) added to
	// continuous columns so that two releases of one survey cannot be linked
	// through exact amounts; 0 turns it off. Weights and design columns, and
	// PerturbExclude, are never perturbed.
	PerturbSD      float64
	PerturbExclude []string
	// ReplicateWeights makes the release carry replicate weights (see
	// [ReplicateWeightsSpec]); nil: none.
	ReplicateWeights *ReplicateWeightsSpec
	// PersonQuasiIdentifiers declares, per person-level table (a table of
	// people of a household: the roster, its migrants), the
	// quasi-identifiers that live there. Risk and k-anonymity of those
	// tables are measured on the joined data: each row's key is its
	// household's quasi-identifiers (as released) and its own (see
	// hhrisk.go).
	PersonQuasiIdentifiers map[string][]string
	// BlanksMatchAny measures risk as sdcMicro does by default, a null
	// matching any value. Off (dotm's default), a null is a value of its
	// own: k records with a key are k records that look alike. The
	// disclosure report gives both measures either way.
	BlanksMatchAny bool
	// KeyIndicators are the estimates the disclosure report compares on
	// the released and the full data (information loss); nil: none.
	KeyIndicators *KeyIndicators
}

// DefaultPerturbSD is the noise of a profile that does not set perturb.
const DefaultPerturbSD = 0.02

// KFloor is the smallest k a profile may ask for without AllowKBelow3.
const KFloor = 3

// Recode is one recode rule: Breaks (interval lower bounds and the last
// upper bound) turn a number into a category "[a,b)"; Top and Bottom cap a
// number at a value and keep its type.
type Recode struct {
	Breaks []float64
	Top    *float64
	Bottom *float64
}

// Design names the design and key columns; empty names take the canonical
// defaults (household_id, stratum, psu, weight, fpc, urban).
type Design struct {
	ID      string `yaml:"id"`
	Stratum string `yaml:"stratum"`
	PSU     string `yaml:"psu"`
	Weight  string `yaml:"weight"`
	FPC     string `yaml:"fpc"`
	Urban   string `yaml:"urban"`
}

// DefaultRowGroupRows bounds the rows per Parquet row group when the profile
// does not say.
const DefaultRowGroupRows = 128 * 1024

type profileYAML struct {
	K                *int                 `yaml:"k"`
	QuasiIdentifiers []string             `yaml:"quasi_identifiers"`
	Recode           map[string]yaml.Node `yaml:"recode"`
	TopCode          map[string]float64   `yaml:"top_code"`
	GroupRare        map[string]int       `yaml:"group_rare"`
	Geo              string               `yaml:"geo"`
	MaxRisk          *float64             `yaml:"max_risk"`
	Direct           []string             `yaml:"direct"`
	Sensitive        []string             `yaml:"sensitive"`
	Drop             []string             `yaml:"drop"`
	Design           Design               `yaml:"design"`
	RowGroupRows     int                  `yaml:"row_group_rows"`
	ResidualK        int                  `yaml:"residual_k"`
	AllowKBelow3     bool                 `yaml:"allow_k_below_3"`
	Keep             []string             `yaml:"keep"`
	Perturb          yaml.Node            `yaml:"perturb"`
	ReplicateWeights yaml.Node            `yaml:"replicate_weights"`
	PersonQIs        map[string][]string  `yaml:"person_quasi_identifiers"`
	BlanksMatchAny   bool                 `yaml:"blanks_match_any"`
	KeyIndicators    *KeyIndicators       `yaml:"key_indicators"`
}

// ParseProfile reads a release profile from YAML. Unknown keys are errors
// (a misspelt key must not silently weaken a release); errors name the key.
func ParseProfile(data []byte) (*Profile, error) {
	var y profileYAML
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if err := yamlkeys.Check(&doc, reflect.TypeFor[profileYAML](), ""); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("profile: empty")
		}
		return nil, fmt.Errorf("profile: %w", yamlkeys.Explain(err))
	}
	if y.K == nil {
		return nil, errors.New("profile: k: required")
	}
	p := &Profile{
		K: *y.K, QuasiIdentifiers: y.QuasiIdentifiers, TopCode: y.TopCode, GroupRare: y.GroupRare,
		Geo: y.Geo, Direct: y.Direct, Sensitive: y.Sensitive, Drop: y.Drop, Design: y.Design,
		RowGroupRows: y.RowGroupRows, Recode: map[string]Recode{}, ResidualK: y.ResidualK,
		AllowKBelow3: y.AllowKBelow3, Keep: y.Keep, PerturbSD: DefaultPerturbSD,
		PersonQuasiIdentifiers: y.PersonQIs, BlanksMatchAny: y.BlanksMatchAny, KeyIndicators: y.KeyIndicators,
	}
	if y.Perturb.Kind != 0 {
		switch y.Perturb.Kind {
		case yaml.ScalarNode:
			if v := strings.ToLower(y.Perturb.Value); v == "off" || v == "false" || v == "none" {
				p.PerturbSD = 0
			} else {
				return nil, fmt.Errorf("profile: perturb: %q: want off or {sd: 0.02, exclude: [...]}", y.Perturb.Value)
			}
		case yaml.MappingNode:
			var m struct {
				SD      *float64 `yaml:"sd"`
				Exclude []string `yaml:"exclude"`
			}
			dec := y.Perturb
			if err := decodeStrict(&dec, &m); err != nil {
				return nil, fmt.Errorf("profile: perturb: %w", err)
			}
			if m.SD != nil {
				p.PerturbSD = *m.SD
			}
			p.PerturbExclude = m.Exclude
		default:
			return nil, errors.New("profile: perturb: want off or {sd: 0.02, exclude: [...]}")
		}
		if p.PerturbSD < 0 || p.PerturbSD > 0.5 || math.IsNaN(p.PerturbSD) {
			return nil, fmt.Errorf("profile: perturb: sd %v, want a number in [0, 0.5]", p.PerturbSD)
		}
	}
	rw, err := parseReplicateWeights(y.ReplicateWeights, p)
	if err != nil {
		return nil, err
	}
	p.ReplicateWeights = rw
	if y.ResidualK < 0 {
		return nil, errors.New("profile: residual_k: must be 0 or more")
	}
	if y.MaxRisk != nil {
		p.MaxRisk = *y.MaxRisk
	}
	for _, name := range sortedKeys(y.Recode) {
		node := y.Recode[name]
		r, err := parseRecode(&node)
		if err != nil {
			return nil, fmt.Errorf("profile: recode.%s: %w", name, err)
		}
		p.Recode[name] = r
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func parseRecode(n *yaml.Node) (Recode, error) {
	switch n.Kind {
	case yaml.SequenceNode:
		var b []float64
		if err := n.Decode(&b); err != nil {
			return Recode{}, fmt.Errorf("breaks must be numbers: %w", err)
		}
		return Recode{Breaks: b}, nil
	case yaml.MappingNode:
		var m struct {
			Top    *float64 `yaml:"top"`
			Bottom *float64 `yaml:"bottom"`
		}
		dec := yaml.Node(*n)
		if err := decodeStrict(&dec, &m); err != nil {
			return Recode{}, err
		}
		if m.Top == nil && m.Bottom == nil {
			return Recode{}, errors.New("want {top: N} and/or {bottom: N}")
		}
		return Recode{Top: m.Top, Bottom: m.Bottom}, nil
	}
	return Recode{}, errors.New("want a list of breaks or {top: N}")
}

// decodeStrict decodes a mapping node, refusing keys that v does not have.
func decodeStrict(n *yaml.Node, v any) error {
	if err := yamlkeys.Check(n, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	out, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	return yamlkeys.Explain(dec.Decode(v))
}

// Validate checks the profile on its own (not against any data).
func (p *Profile) Validate() error {
	if p.K < 1 {
		return fmt.Errorf("profile: k: %d, want at least 1", p.K)
	}
	if p.K < KFloor && !p.AllowKBelow3 {
		return fmt.Errorf("profile: k: %d is below the floor of %d; a release with k = %d protects almost nothing. Set allow_k_below_3: true to publish it anyway (the manifest records the override)", p.K, KFloor, p.K)
	}
	if p.MaxRisk < 0 || p.MaxRisk > 1 || math.IsNaN(p.MaxRisk) {
		return fmt.Errorf("profile: max_risk: %v, want a number in [0, 1] (0 = no limit)", p.MaxRisk)
	}
	if err := uniqueNames("quasi_identifiers", p.QuasiIdentifiers); err != nil {
		return err
	}
	for _, list := range []struct {
		key   string
		names []string
	}{{"direct", p.Direct}, {"sensitive", p.Sensitive}, {"drop", p.Drop}} {
		if err := uniqueNames(list.key, list.names); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(p.Recode) {
		r := p.Recode[name]
		if len(r.Breaks) > 0 || (r.Top == nil && r.Bottom == nil) {
			if len(r.Breaks) < 2 {
				return fmt.Errorf("profile: recode.%s: want at least two breaks", name)
			}
			for i, b := range r.Breaks {
				if math.IsNaN(b) || math.IsInf(b, 0) {
					return fmt.Errorf("profile: recode.%s: break %d is not a finite number", name, i+1)
				}
				if i > 0 && b <= r.Breaks[i-1] {
					return fmt.Errorf("profile: recode.%s: breaks must increase (%v after %v)", name, b, r.Breaks[i-1])
				}
			}
			if r.Top != nil || r.Bottom != nil {
				return fmt.Errorf("profile: recode.%s: breaks and top/bottom cannot be combined", name)
			}
		}
		if r.Top != nil && r.Bottom != nil && *r.Bottom > *r.Top {
			return fmt.Errorf("profile: recode.%s: bottom %v above top %v", name, *r.Bottom, *r.Top)
		}
		for _, v := range []*float64{r.Top, r.Bottom} {
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
				return fmt.Errorf("profile: recode.%s: top/bottom must be finite", name)
			}
		}
	}
	for _, name := range sortedKeys(p.TopCode) {
		if q := p.TopCode[name]; !(q > 0 && q <= 1) {
			return fmt.Errorf("profile: top_code.%s: quantile %v, want a number in (0, 1]", name, q)
		}
	}
	for _, name := range sortedKeys(p.GroupRare) {
		if m := p.GroupRare[name]; m < 1 {
			return fmt.Errorf("profile: group_rare.%s: %d, want at least 1", name, m)
		}
	}
	switch p.Geo {
	case "", "drop", "displace":
	default:
		return fmt.Errorf("profile: geo: %q, want drop or displace", p.Geo)
	}
	if p.RowGroupRows < 0 {
		return fmt.Errorf("profile: row_group_rows: %d, want a positive number", p.RowGroupRows)
	}
	d := p.design()
	for _, q := range p.QuasiIdentifiers {
		if q == d.ID || q == d.Weight || q == d.Stratum || q == d.PSU || q == d.FPC {
			return fmt.Errorf("profile: quasi_identifiers: %s is a design variable", q)
		}
	}
	for _, table := range sortedKeys(p.PersonQuasiIdentifiers) {
		key := "person_quasi_identifiers." + table
		if err := uniqueNames(key, p.PersonQuasiIdentifiers[table]); err != nil {
			return err
		}
		if len(p.PersonQuasiIdentifiers[table]) > 64-len(p.QuasiIdentifiers) {
			return fmt.Errorf("profile: %s: too many quasi-identifiers", key)
		}
		for _, q := range p.PersonQuasiIdentifiers[table] {
			if q == d.ID || q == d.Weight || q == d.Stratum || q == d.PSU || q == d.FPC {
				return fmt.Errorf("profile: %s: %s is a design variable", key, q)
			}
		}
	}
	if ki := p.KeyIndicators; ki != nil {
		if ki.Table == "" || len(ki.Means) == 0 {
			return errors.New("profile: key_indicators: want {table: T, means: [columns], by: column}")
		}
		if err := uniqueNames("key_indicators.means", ki.Means); err != nil {
			return err
		}
	}
	for _, name := range p.Direct {
		if name == d.Weight || name == d.Stratum || name == d.PSU || name == d.ID {
			return fmt.Errorf("profile: direct: %s is a design variable (it is pseudonymized, not dropped)", name)
		}
	}
	return nil
}

func uniqueNames(key string, names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("profile: %s: empty name", key)
		}
		if seen[n] {
			return fmt.Errorf("profile: %s: %s listed twice", key, n)
		}
		seen[n] = true
	}
	return nil
}

// design returns p.Design with the canonical defaults filled in.
func (p *Profile) design() Design {
	d := p.Design
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&d.ID, "household_id")
	def(&d.Stratum, "stratum")
	def(&d.PSU, "psu")
	def(&d.Weight, "weight")
	def(&d.FPC, "fpc")
	def(&d.Urban, "urban")
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
