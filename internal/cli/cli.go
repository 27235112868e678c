// Package cli is the start of the flag-driven developer commands (hookline-bench,
// hookline-load): the command is a run function of its arguments and streams, so a test calls
// it as main does, and main turns its error into the exit status those commands have always
// had: 0, 1 for a failed run, 2 for a bad flag or value.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// Run is a command: its arguments (without the program name) and where it writes.
type Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs run on the process's arguments, with a context cancelled on interrupt, and exits
// with the status Exit gives its error.
func Main(name string, run Run) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(Exit(os.Stderr, name, err))
}

// usageError is a bad flag or value: exit status 2. reported: the flag set has printed it (and
// the usage) already.
type usageError struct {
	err      error
	reported bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// Usagef is a bad value, found after parsing: Exit prints it and returns 2.
func Usagef(format string, a ...any) error {
	return &usageError{err: fmt.Errorf(format, a...)}
}

// Parse parses args with fs (flag.ContinueOnError, its output the command's stderr), which
// reports a bad flag and the usage itself: -h ends the command with status 0, any other
// problem with 2, neither printed again.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return &usageError{err: err, reported: true}
	}
	return nil
}

// Exit reports err on stderr after the command's name and returns the exit status: 0 for none
// or -h, 2 for a usage error (Usagef, Parse), 1 for anything else.
func Exit(stderr io.Writer, name string, err error) int {
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		if !usage.reported {
			fmt.Fprintln(stderr, name+":", err)
		}
		return 2
	default:
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
}
