// Command profileapi runs a self-hostable Customer Profile API and drives
// its control plane. Run `profileapi --help` for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGHUP, as a closed terminal sends it, drains as the others do
	// rather than cut off the calls in flight. A signal ignored at start
	// stays ignored, as its starter meant (nohup; SIGINT for a script's
	// background job): Notify would otherwise catch it.
	signals := []os.Signal{syscall.SIGTERM}
	for _, s := range []os.Signal{os.Interrupt, syscall.SIGHUP} {
		if !signal.Ignored(s) {
			signals = append(signals, s)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), signals...)
	// The first signal starts a graceful shutdown; from then on a second
	// one (an impatient Ctrl-C) ends the process at once.
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "profileapi:", err)
		os.Exit(1)
	}
}
