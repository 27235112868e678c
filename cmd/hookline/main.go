// Command hookline is the command line of the hookline webhook pipeline: `hookline local` runs
// the whole pipeline in one process; events, send and dlq operate it, locally or on AWS. It
// only wires: the work is done in pkg/.
//
// Commands are spf13/cobra commands, built afresh by every call of run, so tests call run
// with their own arguments, environment and streams, as main does with the process's.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Commands are listed in the order they are added (most used first), not sorted.
func init() { cobra.EnableCommandSorting = false }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(os.Stderr, err))
}

// Exit statuses, as gh and most Unix tools use them.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed: a 401 from send, a file it cannot read
	exitUsage   = 2 // the command was called wrongly: unknown command or flag, a bad value
)

// usageError marks a mistake in how a command was called: exit 2 and a hint to --help.
// Everything else a command returns is an operational failure: exit 1.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// commandError is what run returns: the error and the command it came from.
type commandError struct {
	path string // "hookline events get"
	err  error
}

func (e *commandError) Error() string { return e.path + ": " + e.err.Error() }
func (e *commandError) Unwrap() error { return e.err }

// exitCode reports err on stderr the way main does and returns the exit status: a usage error
// gets one line and a hint, anything else its message.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if !errors.As(err, &ue) {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	path := "hookline"
	var ce *commandError
	if errors.As(err, &ce) {
		path = ce.path
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	fmt.Fprintln(stderr, msg)
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", path)
	return exitUsage
}

// app is what run was given. Commands read their environment and streams from it, never
// from os, so a test's run is the whole program.
type app struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// env reads a variable of the environment table that no flag stands for (credentials, which
// would show in ps and shell history as flags).
func (c *app) env(name string) string {
	return c.getenv(lookupEnv(name).Name)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := &app{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	root := c.rootCmd()
	root.SetArgs(goStyleFlags(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return nil
	}
	if cmd == nil {
		cmd = root
	}
	return &commandError{path: cmd.CommandPath(), err: err}
}

const rootLong = `hookline receives webhooks, verifies them, stores each one once and emails when done.
The same handlers run on AWS (Lambda, SNS, SQS, DynamoDB) and on a laptop: hookline local.`

func (c *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "hookline",
		Short: "receive webhooks, verify them, store them once, email when done",
		Long:  rootLong,
		// main reports errors (exitCode); cobra would print them and the whole usage again.
		SilenceErrors:              true,
		SilenceUsage:               true,
		Annotations:                map[string]string{"environment": envHelp()},
		Args:                       cobra.ArbitraryArgs,
		RunE:                       c.dispatchError,
		SuggestionsMinimumDistance: 2,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags(), c.getenv)
		},
	}
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetUsageTemplate(usageTemplate)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		c.localCmd(),
		c.eventsCmd(),
		c.sendCmd(),
		c.dlqCmd(),
		c.rejectedCmd(),
		c.replayCmd(),
		c.notifyCmd(),
		c.sourcesCmd(),
		c.costCmd(),
		c.versionCmd(),
	)
	// cobra adds these when it executes; adding them now lets them follow the rules below.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, cmd := range root.Commands() {
		switch cmd.Name() {
		case "help":
			cmd.Short = "help about any command"
		case "completion":
			cmd.Short = "print the shell completion script: bash, zsh (also fish, powershell)"
			cmd.Args, cmd.RunE = cobra.ArbitraryArgs, c.dispatchError
		}
	}
	argsAreUsageErrors(root)
	return root
}

// argsAreUsageErrors makes what every command's positional-argument check returns a usage
// error, cobra's own checks (completion, help) included.
func argsAreUsageErrors(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			var ue *usageError
			if err != nil && !errors.As(err, &ue) {
				err = &usageError{err}
			}
			return err
		}
	}
	for _, sub := range cmd.Commands() {
		argsAreUsageErrors(sub)
	}
}

// groupCmd is a command that only holds subcommands (events, dlq).
func (c *app) groupCmd(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Long: long, Args: cobra.ArbitraryArgs, RunE: c.dispatchError, SuggestionsMinimumDistance: 2}
	cmd.AddCommand(subs...)
	return cmd
}

// leafCmd is a command that runs (groupCmd's counterpart): its usage line, help (long may
// be empty), the positional arguments it takes and what it does. Flags go on the result.
func leafCmd(use, short, long string, args cobra.PositionalArgs, run func(cmd *cobra.Command, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: long, Args: args, RunE: run}
}

// listCmd is a list subcommand: no arguments, and --limit (def unless given), which must be
// a positive number before run lists at most that many.
func listCmd(short string, def int, limitUsage string, run func(cmd *cobra.Command, limit int) error) *cobra.Command {
	var limit int
	cmd := leafCmd("list [flags]", short, "", positional(0, 0, ""), func(cmd *cobra.Command, _ []string) error {
		if limit < 1 {
			return usageErrorf("--limit: %d is not a positive number", limit)
		}
		return run(cmd, limit)
	})
	cmd.Flags().IntVar(&limit, "limit", def, limitUsage)
	return cmd
}

// dispatchError is the RunE of commands that only dispatch: being run at all means no
// subcommand, or an unknown one, was named.
func (c *app) dispatchError(cmd *cobra.Command, args []string) error {
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	list := strings.Join(names, ", ")
	if len(args) == 0 {
		return usageErrorf("no command given: one of %s", list)
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usageErrorf("unknown command %q: did you mean %q?", args[0], s[0])
	}
	return usageErrorf("unknown command %q: one of %s", args[0], list)
}

// positional checks the number of positional arguments with a usage error that names the
// command's argument.
func positional(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return usageErrorf("missing %s", what)
		case len(args) > max && max == 0:
			return usageErrorf("unexpected argument %q", args[0])
		case len(args) > max:
			return usageErrorf("unexpected argument %q: give one %s (quote it if it has spaces)", args[max], what)
		}
		return nil
	}
}

// goStyleFlags rewrites "-name" to "--name" where name is a long flag of the command args
// select. hookline parsed flags with the standard flag package before it used cobra, which
// takes both forms; scripts written then keep working.
func goStyleFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil {
		return args
	}
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			if name, _, _ := strings.Cut(a[1:], "="); cmd.Flags().Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// usageTemplate is cobra's, with the environment table and the exit statuses in the root
// command's help: the one place that lists every HOOKLINE_* variable.
const usageTemplate = `Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} <command> [flags]{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if not .HasParent}}

Environment (a flag given on the command line wins over its variable):
{{index .Annotations "environment"}}

AWS commands (--table, --queue-url) use the AWS SDK's default credentials and region
(AWS_PROFILE, AWS_REGION, ...).

Exit status: 0 done; 1 failed (a rejected send, a file that cannot be read, AWS errors);
2 called wrongly (unknown command or flag, a bad value).{{end}}{{if .HasAvailableSubCommands}}

Run "{{.CommandPath}} <command> --help" for more about a command.{{end}}
`
