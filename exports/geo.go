package exports

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// geoPair is a latitude and longitude column of one point (gps_lat,
// gps_lon; lat, lon; latitude, longitude).
type geoPair struct{ lat, lon *Column }

var latSuffixes = []string{"latitude", "lat"}
var lonSuffixes = []string{"longitude", "lon", "lng"}

// geoColumns finds the coordinate pairs of t by name: X_lat with X_lon (or
// _latitude/_longitude, _lng), or bare lat/lon. A latitude without its
// longitude (or the reverse) is an error: half a point cannot be displaced.
func geoColumns(t *Table) ([]geoPair, error) {
	var pairs []geoPair
	used := map[string]bool{}
	for _, c := range t.Columns {
		prefix, ok := cutSuffix(c.Name, latSuffixes)
		if !ok {
			continue
		}
		var lon *Column
		for _, s := range lonSuffixes {
			if l := t.Column(prefix + s); l != nil {
				lon = l
				break
			}
		}
		if lon == nil {
			return nil, fmt.Errorf("table %s: column %s: latitude without a longitude column", t.Name, c.Name)
		}
		pairs = append(pairs, geoPair{c, lon})
		used[c.Name], used[lon.Name] = true, true
	}
	for _, c := range t.Columns {
		if _, ok := cutSuffix(c.Name, lonSuffixes); ok && !used[c.Name] {
			return nil, fmt.Errorf("table %s: column %s: longitude without a latitude column", t.Name, c.Name)
		}
	}
	return pairs, nil
}

func cutSuffix(name string, suffixes []string) (string, bool) {
	for _, s := range suffixes {
		if name == s {
			return "", true
		}
		if p, ok := strings.CutSuffix(name, "_"+s); ok {
			return p + "_", true
		}
	}
	return "", false
}

// Displacement limits of the DHS programme (Burgert et al. 2013, DHS Spatial
// Analysis Reports 7): urban points up to 2 km, rural points up to 5 km, and
// a random 1% of rural points up to 10 km.
const (
	UrbanMaxKm     = 2.0
	RuralMaxKm     = 5.0
	RuralFarMaxKm  = 10.0
	RuralFarShare  = 0.01
	kmPerDegreeLat = 111.32 // km per degree of latitude
)

// Displace moves a point by distance km in direction angle (radians from
// north) on a local flat-earth approximation (adequate for ≤ 10 km).
func Displace(lat, lon, km, angle float64) (float64, float64) {
	dlat := km * math.Cos(angle) / kmPerDegreeLat
	dlon := km * math.Sin(angle) / (kmPerDegreeLat * math.Cos(lat*math.Pi/180))
	lon += dlon
	if lon > 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	return math.Max(-90, math.Min(90, lat+dlat)), lon
}

// displacement draws one DHS displacement: a uniform direction and a
// uniform distance up to the limit for the point's urban/rural class.
func displacement(rng *rand.Rand, urban bool) (km, angle float64) {
	max := UrbanMaxKm
	if !urban {
		max = RuralMaxKm
		if rng.Float64() < RuralFarShare {
			max = RuralFarMaxKm
		}
	}
	// A distance of exactly zero is redrawn: every point moves.
	for km == 0 {
		km = rng.Float64() * max
	}
	return km, rng.Float64() * 2 * math.Pi
}

func isUrban(c *Column, i int) bool {
	if c == nil || c.IsNull(i) {
		return false
	}
	switch c.Type {
	case String:
		s := strings.ToLower(c.Strings[i])
		return s == "urban" || s == "1" || s == "yes" || s == "true"
	case Bool:
		return c.Bools[i]
	}
	return c.Float(i) == 1
}

// geoStep drops or displaces coordinates. Displacement is drawn once per
// PSU when the table has a PSU column (all of a cluster's points move
// together, as DHS displaces cluster centroids), else once per record; a
// record is urban when the urban column says 1, true, yes or urban.
func geoStep(t *Table, p *Profile, d Design, rng *rand.Rand, tr *TableReport) error {
	pairs, err := geoColumns(t)
	if err != nil {
		return err
	}
	if len(pairs) == 0 {
		return nil
	}
	if p.Geo != "displace" {
		for _, g := range pairs {
			for _, c := range []*Column{g.lat, g.lon} {
				t.remove(c.Name)
				tr.Dropped = append(tr.Dropped, Dropped{c.Name, "coordinates (geo: drop)"})
			}
		}
		return nil
	}
	urban := t.Column(d.Urban)
	psu := t.Column(d.PSU)
	for _, g := range pairs {
		for _, c := range []*Column{g.lat, g.lon} {
			if c.Type != Float {
				return fmt.Errorf("table %s: column %s: coordinates must be numbers, not %s", t.Name, c.Name, c.Type)
			}
		}
		type move struct{ km, angle float64 }
		perPSU := map[string]move{}
		for i := 0; i < t.Rows(); i++ {
			if g.lat.IsNull(i) || g.lon.IsNull(i) {
				continue
			}
			var m move
			if psu != nil && !psu.IsNull(i) {
				var ok bool
				if m, ok = perPSU[psu.Format(i)]; !ok {
					m.km, m.angle = displacement(rng, isUrban(urban, i))
					perPSU[psu.Format(i)] = m
				}
			} else {
				m.km, m.angle = displacement(rng, isUrban(urban, i))
			}
			g.lat.Floats[i], g.lon.Floats[i] = Displace(g.lat.Floats[i], g.lon.Floats[i], m.km, m.angle)
		}
		note := fmt.Sprintf("displaced (DHS practice): urban up to %v km, rural up to %v km, %v%% of rural up to %v km; uniform direction and distance",
			UrbanMaxKm, RuralMaxKm, RuralFarShare*100, RuralFarMaxKm)
		g.lat.Meta.Transforms = append(g.lat.Meta.Transforms, note)
		g.lon.Meta.Transforms = append(g.lon.Meta.Transforms, note)
	}
	return nil
}
