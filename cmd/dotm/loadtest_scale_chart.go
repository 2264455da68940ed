package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/dotm-survey/dotm/loadtest"
)

// readCheckpoints reads the JSON lines `dotm loadtest scale --out` wrote.
func readCheckpoints(path string) ([]loadtest.Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cps []loadtest.Checkpoint
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c loadtest.Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		cps = append(cps, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(cps) == 0 {
		return nil, fmt.Errorf("%s: no checkpoints", path)
	}
	return cps, nil
}

// scaleCharts draws two PNG charts of a scale run: the requests' median
// latency by stored submissions at path, and the store's growth rate,
// disk and memory at path with "-store" before its extension.
func scaleCharts(cps []loadtest.Checkpoint, path string) error {
	lat := plot.New()
	lat.Title.Text = "request latency (median) by stored submissions"
	lat.X.Label.Text = "submissions (thousands)"
	lat.Y.Label.Text = "ms"
	lat.Add(plotter.NewGrid())
	var lines []any
	for i, q := range cps[0].Requests {
		var xy plotter.XYs
		for _, c := range cps {
			if i < len(c.Requests) && c.Requests[i].N > 0 {
				xy = append(xy, plotter.XY{X: float64(c.Submissions) / 1000, Y: float64(c.Requests[i].P50) / 1e6})
			}
		}
		lines = append(lines, q.Name, xy)
	}
	if err := plotutil.AddLinePoints(lat, lines...); err != nil {
		return err
	}
	lat.Legend.Top, lat.Legend.Left = true, true
	lat.Legend.TextStyle.Font.Size = vg.Points(7)
	if err := lat.Save(9*vg.Inch, 5.5*vg.Inch, path); err != nil {
		return err
	}
	st := plot.New()
	st.Title.Text = "embedded store by stored submissions"
	st.X.Label.Text = "submissions (thousands)"
	st.Add(plotter.NewGrid())
	var grow, burst, disk, rss, start plotter.XYs
	for _, c := range cps {
		x := float64(c.Submissions) / 1000
		grow = append(grow, plotter.XY{X: x, Y: c.GrowRate})
		burst = append(burst, plotter.XY{X: x, Y: c.Burst.SubmissionsPerSecond()})
		disk = append(disk, plotter.XY{X: x, Y: float64(c.DiskBytes) / 1e8})
		rss = append(rss, plotter.XY{X: x, Y: float64(c.RSSPeakKB) / 1024 / 10})
		start = append(start, plotter.XY{X: x, Y: c.Startup.Seconds() * 10})
	}
	if err := plotutil.AddLinePoints(st, "growth (submissions/s)", grow, "ingest burst (submissions/s)", burst,
		"disk (100 MB)", disk, "server peak RSS (10 MB)", rss, "start-up (0.1 s)", start); err != nil {
		return err
	}
	st.Legend.Top, st.Legend.Left = true, true
	st.Legend.TextStyle.Font.Size = vg.Points(8)
	ext := path[strings.LastIndex(path, "."):]
	return st.Save(9*vg.Inch, 4.5*vg.Inch, strings.TrimSuffix(path, ext)+"-store"+ext)
}
