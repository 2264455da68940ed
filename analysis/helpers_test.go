package analysis

import "strconv"

func strconvF(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }

func parseFloatStd(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

func strconvG(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
