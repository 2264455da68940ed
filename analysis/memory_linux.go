package analysis

import (
	"syscall"
	"unsafe"
)

// bigMake is make([]T, n, c) for the arrays of a whole column. Above
// 4 MiB it asks the kernel to back the array's aligned 2 MiB pages with
// transparent huge pages (where the system's setting is "madvise", as on
// Debian): a fresh column of a million rows then costs a few page faults
// instead of a few thousand, which on a virtual machine is much of the
// time it takes to fill it. The advice is given before the memory is
// first written (fresh memory from the system is not touched by make);
// where it is refused nothing changes.
func bigMake[T any](n, c int) []T {
	s := make([]T, n, c)
	var z T
	if uintptr(c)*unsafe.Sizeof(z) >= 4<<20 {
		adviseHuge(unsafe.Pointer(unsafe.SliceData(s)), uintptr(c)*unsafe.Sizeof(z))
	}
	return s
}

func adviseHuge(p unsafe.Pointer, size uintptr) {
	const huge = 2 << 20
	start := uintptr(p)
	lo := (start + huge - 1) &^ (huge - 1)
	hi := (start + size) &^ (huge - 1)
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, lo-start)), hi-lo), 14) // MADV_HUGEPAGE
}
