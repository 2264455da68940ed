package analysis

import (
	"testing"
)

func BenchmarkMeanByMigrant(b *testing.B) {
	t := &testing.T{}
	tb := synthTable(t, 200000, 1)
	d, err := NewDesign(tb, synthSpec)
	if err != nil {
		b.Fatal(err)
	}
	y, _ := tb.numeric("cons_pc")
	mig, _ := tb.Column("migrant")
	f := asFactor(mig)
	masks := make([][]bool, len(f.levels))
	for k := range masks {
		masks[k] = make([]bool, tb.Len())
		for i, c := range f.codes {
			masks[k][i] = c == int32(k)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Mean("cons_pc", y, nil, true, 0); err != nil {
			b.Fatal(err)
		}
		for _, m := range masks {
			if _, err := d.Mean("cons_pc", y, m, true, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(4*tb.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

func BenchmarkParseCSV(b *testing.B) {
	t := &testing.T{}
	tb := synthTable(t, 50000, 1)
	var buf []byte
	buf = append(buf, "stratum,psu,weight,cons_pc\n"...)
	st, _ := tb.Column("stratum")
	ps, _ := tb.Column("psu")
	w, _ := tb.numeric("weight")
	c, _ := tb.numeric("cons_pc")
	for i := 0; i < tb.Len(); i++ {
		buf = append(buf, st.Levels[st.Codes[i]]...)
		buf = append(buf, ',')
		buf = append(buf, ps.Levels[ps.Codes[i]]...)
		buf = append(buf, ',')
		buf = append(buf, strconvG(w[i])...)
		buf = append(buf, ',')
		if c[i] == c[i] {
			buf = append(buf, strconvG(c[i])...)
		}
		buf = append(buf, '\n')
	}
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParseCSV(buf, nil); err != nil {
			b.Fatal(err)
		}
	}
}
