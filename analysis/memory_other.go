//go:build !linux

package analysis

// bigMake is make([]T, n, c) (see the Linux version).
func bigMake[T any](n, c int) []T { return make([]T, n, c) }
