// Command dotm runs a household migration survey end to end: questionnaire,
// collection API, sample and weights, design-based analysis and anonymized
// Parquet releases. Run `dotm help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv("DOTM_CPUPROFILE"))
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	if err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			if ex.msg != "" {
				fmt.Fprintln(os.Stderr, "dotm:", ex.msg)
			}
			os.Exit(ex.code)
		}
		fmt.Fprintln(os.Stderr, "dotm:", userMessage(err))
		os.Exit(1)
	}
}

// startProfile writes a CPU profile of the whole command to file when
// DOTM_CPUPROFILE names one (for `go tool pprof`; BENCHMARKS.md says where
// the time goes from such profiles). It returns the function that ends it.
func startProfile(file string) func() {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dotm: DOTM_CPUPROFILE:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "dotm: DOTM_CPUPROFILE:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
