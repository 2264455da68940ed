package exports

// PerTable returns o with the linked disclosure analysis turned off: each
// table protected on its own, as releases were made before it. The
// attacker test uses it as its positive control.
func PerTable(o Options) Options {
	o.perTable = true
	return o
}

// NoCarrierGuard returns o with person-level suppression free to null
// values another table shows (the head's age in the roster while the
// household table shows head_age): the attacker test's positive control
// for person-level cells.
func NoCarrierGuard(o Options) Options {
	o.noCarrierGuard = true
	return o
}
