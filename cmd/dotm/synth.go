package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/dotm-survey/dotm/fieldsim"
	"github.com/dotm-survey/dotm/internal/outfile"
	"github.com/dotm-survey/dotm/sampling"
	"github.com/dotm-survey/dotm/synth"
)

// runSynth is `dotm synth households|frame|listing`: synthetic files to try
// every step of a round on.
func runSynth(e *env, args []string) error {
	return dispatch(e, "synth", []subcommand{
		{"households", "a synthetic household survey file (stratified two-stage design, migrant oversampling, weights)", runSynthHouseholds},
		{"frame", "a simulated census frame of enumeration areas (and its census margins), to draw a sample from", runSynthFrame},
		{"listing", "the listing and screening of the PSUs a sample selected from a synth frame", runSynthListing},
	}, "", `dotm synth frame --eas 600 --seed 2026 --out frame.csv --margins margins.csv
dotm synth listing --eas 600 --seed 2026 --psus psus.csv --out listing.csv
dotm synth households --n 1000000 --seed 1 --out households.csv`, args)
}

// runSynthHouseholds is `dotm synth households --n N --seed S --out FILE.csv|.parquet`.
func runSynthHouseholds(e *env, args []string) error {
	fs := newFlags(e, "synth households", "synth households --n N --seed S --out FILE.csv|FILE.parquet",
		"dotm synth households --n 1000000 --seed 1 --out households.csv")
	n := fs.Int("n", 10000, "number of households")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same file)")
	out := fs.String("out", "", "output file: .csv or .parquet")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if *out == "" || (ext != ".csv" && ext != ".parquet") {
		fmt.Fprintln(e.stderr, "synth: --out FILE.csv or FILE.parquet is required")
		return exitError{code: 2}
	}
	start := time.Now()
	h, err := synth.Generate(*n, *seed)
	if err != nil {
		return err
	}
	write := writeHouseholdsCSV
	if ext == ".parquet" {
		write = writeHouseholdsParquet
	}
	if err := writeAtomic(*out, func(w io.Writer) error { return write(w, h) }); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if isTerminal(e.stderr) {
		fmt.Fprintf(e.stderr, "wrote %d households to %s in %s\n", h.Len(), *out, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// writeAtomic writes through a temporary file in the target's directory
// and renames it into place, so a failed run leaves no half-written file.
func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := outfile.Temp(path, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

var householdHeader = []string{"household_id", "stratum", "psu", "weight", "fpc", "region", "urban", "migrant", "hh_size",
	"head_sex", "head_female", "head_age", "n_migrants", "dest_country", "remit_received", "remit_amount", "cons_pc",
	"food_exp", "educ_exp", "health_exp", "housing_exp", "bank_account", "savings", "mobile_money", "health_insurance",
	"children_6_17", "children_enrolled", "women_decide", "interview_date"}

func writeHouseholdsCSV(w io.Writer, h *synth.Households) error {
	buf := make([]byte, 0, 512)
	buf = append(buf, strings.Join(householdHeader, ",")...)
	buf = append(buf, '\n')
	if _, err := w.Write(buf); err != nil {
		return err
	}
	f := func(b []byte, x float64) []byte {
		if math.IsNaN(x) {
			return append(b, ',')
		}
		return append(strconv.AppendFloat(b, x, 'g', -1, 64), ',')
	}
	d := func(b []byte, x int) []byte { return append(strconv.AppendInt(b, int64(x), 10), ',') }
	s := func(b []byte, x string) []byte { return append(append(b, x...), ',') }
	for i := 0; i < h.Len(); i++ {
		b := buf[:0]
		b = s(b, h.HouseholdID[i])
		b = s(b, h.Stratum[i])
		b = s(b, h.PSU[i])
		b = f(b, h.Weight[i])
		b = f(b, h.FPC[i])
		b = s(b, h.Region[i])
		b = d(b, h.Urban[i])
		b = s(b, h.Migrant[i])
		b = d(b, h.HHSize[i])
		b = s(b, h.HeadSex[i])
		b = d(b, h.HeadFemale[i])
		b = d(b, h.HeadAge[i])
		b = d(b, h.NMigrants[i])
		b = s(b, h.DestCountry[i])
		b = d(b, h.RemitReceived[i])
		b = f(b, h.RemitAmount[i])
		b = f(b, h.ConsPC[i])
		b = f(b, h.FoodExp[i])
		b = f(b, h.EducExp[i])
		b = f(b, h.HealthExp[i])
		b = f(b, h.HousingExp[i])
		b = d(b, h.BankAccount[i])
		b = d(b, h.Savings[i])
		b = d(b, h.MobileMoney[i])
		b = d(b, h.HealthInsurance[i])
		b = d(b, h.Children6to17[i])
		b = d(b, h.ChildrenEnroll[i])
		b = d(b, h.WomenDecide[i])
		b = append(b, h.InterviewDate[i]...)
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
		buf = b
	}
	return nil
}

// householdRow is the Parquet schema of the synthetic household file.
type householdRow struct {
	HouseholdID     string   `parquet:"household_id"`
	Stratum         string   `parquet:"stratum,dict"`
	PSU             string   `parquet:"psu,dict"`
	Weight          float64  `parquet:"weight"`
	FPC             float64  `parquet:"fpc"`
	Region          string   `parquet:"region,dict"`
	Urban           int32    `parquet:"urban"`
	Migrant         string   `parquet:"migrant,dict"`
	HHSize          int32    `parquet:"hh_size"`
	HeadSex         string   `parquet:"head_sex,dict"`
	HeadFemale      int32    `parquet:"head_female"`
	HeadAge         int32    `parquet:"head_age"`
	NMigrants       int32    `parquet:"n_migrants"`
	DestCountry     string   `parquet:"dest_country,dict"`
	RemitReceived   int32    `parquet:"remit_received"`
	RemitAmount     float64  `parquet:"remit_amount"`
	ConsPC          *float64 `parquet:"cons_pc,optional"`
	FoodExp         float64  `parquet:"food_exp"`
	EducExp         float64  `parquet:"educ_exp"`
	HealthExp       float64  `parquet:"health_exp"`
	HousingExp      float64  `parquet:"housing_exp"`
	BankAccount     int32    `parquet:"bank_account"`
	Savings         int32    `parquet:"savings"`
	MobileMoney     int32    `parquet:"mobile_money"`
	HealthInsurance int32    `parquet:"health_insurance"`
	Children6to17   int32    `parquet:"children_6_17"`
	ChildrenEnroll  int32    `parquet:"children_enrolled"`
	WomenDecide     int32    `parquet:"women_decide"`
	InterviewDate   int32    `parquet:"interview_date,date"`
}

func writeHouseholdsParquet(w io.Writer, h *synth.Households) error {
	pw := parquet.NewGenericWriter[householdRow](w, parquet.MaxRowsPerRowGroup(128*1024))
	rows := make([]householdRow, 0, 4096)
	epoch := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	flush := func() error {
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		rows = rows[:0]
		return nil
	}
	for i := 0; i < h.Len(); i++ {
		day, err := time.Parse("2006-01-02", h.InterviewDate[i])
		if err != nil {
			return fmt.Errorf("row %d: interview_date: %w", i+1, err)
		}
		r := householdRow{
			HouseholdID: h.HouseholdID[i], Stratum: h.Stratum[i], PSU: h.PSU[i], Weight: h.Weight[i], FPC: h.FPC[i],
			Region: h.Region[i], Urban: int32(h.Urban[i]), Migrant: h.Migrant[i], HHSize: int32(h.HHSize[i]),
			HeadSex: h.HeadSex[i], HeadFemale: int32(h.HeadFemale[i]), HeadAge: int32(h.HeadAge[i]),
			NMigrants: int32(h.NMigrants[i]), DestCountry: h.DestCountry[i], RemitReceived: int32(h.RemitReceived[i]),
			RemitAmount: h.RemitAmount[i], FoodExp: h.FoodExp[i], EducExp: h.EducExp[i], HealthExp: h.HealthExp[i],
			HousingExp: h.HousingExp[i], BankAccount: int32(h.BankAccount[i]), Savings: int32(h.Savings[i]),
			MobileMoney: int32(h.MobileMoney[i]), HealthInsurance: int32(h.HealthInsurance[i]),
			Children6to17: int32(h.Children6to17[i]), ChildrenEnroll: int32(h.ChildrenEnroll[i]),
			WomenDecide: int32(h.WomenDecide[i]), InterviewDate: int32(day.Sub(epoch).Hours() / 24),
		}
		if c := h.ConsPC[i]; !math.IsNaN(c) {
			r.ConsPC = &c
		}
		rows = append(rows, r)
		if len(rows) == cap(rows) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return pw.Close()
}

// runSynthFrame is `dotm synth frame`: the census frame the demo samples
// from (fieldsim), as a CSV that `dotm sample psus` reads with its default
// column names, and optionally its census household totals by region and
// urban for `dotm weights calibrate --margins`.
func runSynthFrame(e *env, args []string) error {
	fs := newFlags(e, "synth frame", "synth frame --eas N --seed S --out FRAME.csv [--margins MARGINS.csv]",
		"dotm synth frame --eas 600 --seed 2026 --out frame.csv --margins margins.csv")
	eas := fs.Int("eas", 600, "enumeration areas, about (spread over 5 regions × urban/rural)")
	seed := fs.Uint64("seed", 2026, "random seed (same seed and --eas, same country)")
	out := fs.String("out", "", "frame CSV: psu_id,stratum,size,region,urban")
	margins := fs.String("margins", "", "also write the census totals: variable,category,total (by region and urban, coded as in the frame)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *out == "" {
		return exitError{code: 2, msg: "synth frame: --out is required"}
	}
	if *eas < 10 || *eas > 1_000_000 {
		return exitError{code: 2, msg: fmt.Sprintf("synth frame: --eas %d: want 10 to 1000000", *eas)}
	}
	c := fieldsim.NewCountry(*eas, *seed)
	if err := writeAtomic(*out, func(w io.Writer) error { _, err := w.Write(c.FrameCSV()); return err }); err != nil {
		return fmt.Errorf("synth frame: %w", err)
	}
	if *margins != "" {
		ms := c.Margins()
		for i := range ms {
			if ms[i].Variable == "urban" { // coded as the frame codes it
				ms[i].Category = map[string]string{"1": "yes", "0": "no"}[ms[i].Category]
			}
		}
		if err := writeAtomic(*margins, func(w io.Writer) error { _, err := w.Write(fieldsim.MarginsCSV(ms)); return err }); err != nil {
			return fmt.Errorf("synth frame: %w", err)
		}
	}
	fmt.Fprintf(e.stderr, "wrote %d enumeration areas (%d households at the census) to %s\n", len(c.EAs), c.Households(), *out)
	return nil
}

// runSynthListing is `dotm synth listing`: the field team's listing of the
// PSUs a sample selected, each household screened as current migrant,
// return migrant or non-migrant, as `dotm sample households` reads it.
func runSynthListing(e *env, args []string) error {
	fs := newFlags(e, "synth listing", "synth listing --eas N --seed S --psus PSUS.csv --out LISTING.csv",
		"dotm synth listing --eas 600 --seed 2026 --psus psus.csv --out listing.csv")
	eas := fs.Int("eas", 600, "enumeration areas of the synth frame the sample came from")
	seed := fs.Uint64("seed", 2026, "the synth frame's seed")
	psus := fs.String("psus", "", "the PSU sample (output of dotm sample psus)")
	out := fs.String("out", "", "listing CSV: psu_id,household_id,class")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *psus == "" || *out == "" {
		return exitError{code: 2, msg: "synth listing: --psus and --out are required"}
	}
	sample, err := readWith(*psus, sampling.ReadPSUSample)
	if err != nil {
		return err
	}
	c := fieldsim.NewCountry(*eas, *seed)
	var b strings.Builder
	b.WriteString("psu_id,household_id,class\n")
	listed, n := 0, 0
	for i, d := range sample.Draws {
		if !d.Selected {
			continue
		}
		ea, ok := c.EA(d.ID)
		if !ok {
			return fmt.Errorf("synth listing: PSU %s of %s is not in the synth frame of --eas %d --seed %d: give the frame's --eas and --seed", d.ID, *psus, *eas, *seed)
		}
		for _, h := range fieldsim.List(ea, rand.New(rand.NewPCG(*seed, uint64(i)+100))) {
			fmt.Fprintf(&b, "%s,%s,%s\n", ea.ID, h.ID, h.Class)
			listed++
		}
		n++
	}
	if err := writeAtomic(*out, func(w io.Writer) error { _, err := io.WriteString(w, b.String()); return err }); err != nil {
		return fmt.Errorf("synth listing: %w", err)
	}
	fmt.Fprintf(e.stderr, "listed %d households in %d PSUs; wrote %s\n", listed, n, *out)
	return nil
}
