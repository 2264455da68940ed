//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// Outside the browser the command only says how it is meant to be built.
func main() {
	fmt.Fprintln(os.Stderr, "wasm: build with GOOS=js GOARCH=wasm (see webclient/build.sh)")
	os.Exit(2)
}
