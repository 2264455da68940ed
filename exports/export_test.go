package exports

// PerTable returns o with the linked disclosure analysis turned off: each
// table protected on its own, as releases were made before it. The
// attacker test uses it as its positive control.
func PerTable(o Options) Options {
	o.perTable = true
	return o
}
