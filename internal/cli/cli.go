// Package cli is the start of the flag-driven developer commands (hookline-bench,
// hookline-load): a Command is a name and a run function of its flag set, arguments and
// streams, so a test calls it as main does (Call), and its error becomes the exit status those
// commands have always had: 0, 1 for a failed run, 2 for a bad flag or value.
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

// Command is a flag-driven command: its name, said once, and its run. Run gets a flag set made
// for it (the command's name, ContinueOnError, its output the command's stderr), defines its
// flags on it and parses args with Parse; so usage and flag errors go where the rest of the
// command's errors go, and a test sees them as a user would.
type Command struct {
	Name string
	Run  func(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error
}

// Main calls the command on the process's arguments, with a context cancelled on interrupt,
// and exits with the status Call returns.
func (c Command) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	status := c.Call(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(status)
}

// Call runs the command as Main does (args without the program name) and returns its exit
// status, its error reported on stderr as Exit does.
func (c Command) Call(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return Exit(stderr, c.Name, c.Run(ctx, fs, args, stdout, stderr))
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
