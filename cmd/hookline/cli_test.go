package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hookline/internal/ci"
)

// commandPaths lists every command of the tree as its arguments ("events", "list").
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	root := (&app{getenv: noenv, stdout: io.Discard, stderr: io.Discard}).rootCmd()
	var out [][]string
	var walk func(cmd *cobra.Command, path []string)
	walk = func(cmd *cobra.Command, path []string) {
		out = append(out, path)
		for _, sub := range cmd.Commands() {
			if sub.Hidden {
				continue
			}
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(root, nil)
	if len(out) < 12 {
		t.Fatalf("only %d commands found: %v", len(out), out)
	}
	return out
}

// TestHelpEverywhere: --help and -h on every command print its usage to stdout and succeed.
func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	for _, path := range commandPaths(t) {
		for _, flag := range []string{"--help", "-h"} {
			args := append(append([]string(nil), path...), flag)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				var stdout, stderr bytes.Buffer
				err := run(context.Background(), args, noenv, strings.NewReader(""), &stdout, &stderr)
				if code := exitCode(&stderr, err); code != exitOK {
					t.Fatalf("exit %d: %v\n%s", code, err, stderr.String())
				}
				if stderr.Len() > 0 {
					t.Errorf("stderr: %s", stderr.String())
				}
				want := "Usage:\n  hookline " + strings.Join(path, " ")
				if !strings.Contains(stdout.String(), strings.TrimSpace(want)) {
					t.Errorf("stdout does not contain %q:\n%s", want, stdout.String())
				}
			})
		}
	}
}

// TestRootHelp: `hookline --help` (and `hookline help`) name every command and every variable
// of the environment table, with the exit statuses.
func TestRootHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"help"}} {
		out, err := cli(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"local ", "events ", "send ", "dlq ", "version ", "completion ", "Exit status: 0 done; 1 failed"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: no %q in:\n%s", args, want, out)
			}
		}
		for _, v := range environment {
			if !regexp.MustCompile(`(?m)^  ` + v.Name + ` +` + regexp.QuoteMeta(v.Commands) + ` +` + regexp.QuoteMeta(v.Usage)).MatchString(out) {
				t.Errorf("%v: %s is not listed with its commands and usage:\n%s", args, v.Name, out)
			}
		}
	}
	// Only the root command carries the table.
	out, _ := cli(t, "events", "list", "--help")
	if strings.Contains(out, "Environment (") {
		t.Errorf("events list --help repeats the environment table:\n%s", out)
	}
	if !strings.Contains(out, "(env HOOKLINE_DATA)") || !strings.Contains(out, "(env HOOKLINE_TABLE)") {
		t.Errorf("events list --help does not name the variables of its flags:\n%s", out)
	}
}

var hooklineName = regexp.MustCompile(`HOOKLINE_[A-Z0-9_]+`)

// TestEnvTable: the environment table is the one place this command names a HOOKLINE_*
// variable, and everything in it is read: bound to a flag, or read directly.
func TestEnvTable(t *testing.T) {
	t.Parallel()
	inTable := map[string]bool{}
	for _, v := range environment {
		if inTable[v.Name] {
			t.Errorf("%s is in the table twice", v.Name)
		}
		inTable[v.Name] = true
	}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "env.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			for _, m := range hooklineName.FindAllString(s, -1) {
				if !inTable[m] {
					t.Errorf("%s: %s is not in the environment table (env.go)", fset.Position(lit.Pos()), m)
				}
			}
			return true
		})
	}
	// Every entry is used: bound to a flag of some command, or marked Direct (and then read
	// with app.env, which TestSMTP* exercise).
	bound := map[string]bool{}
	root := (&app{getenv: noenv, stdout: io.Discard, stderr: io.Discard}).rootCmd()
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			for _, n := range f.Annotations[envAnnotation] {
				bound[n] = true
			}
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, v := range environment {
		if !bound[v.Name] && !v.Direct {
			t.Errorf("%s is documented but no flag reads it and it is not Direct", v.Name)
		}
		if bound[v.Name] && v.Direct {
			t.Errorf("%s is bound to a flag and marked Direct", v.Name)
		}
	}
}

// TestEnvFallback: a variable fills its flag when the flag is not given, the flag wins when it
// is, a bad value is a usage error naming the variable, and help never shows the value.
func TestEnvFallback(t *testing.T) {
	t.Parallel()
	srv := startLocal(t, 5)
	env := func(k string) string {
		return map[string]string{"HOOKLINE_URL": srv.url, "HOOKLINE_SECRET": tokenSecret, "HOOKLINE_SMTP_TLS": "many"}[k]
	}
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"send", "--scheme", "token", "--source", "postman", "{}"}, env, strings.NewReader(""), &stdout, &stdout)
	if err != nil || !strings.HasPrefix(stdout.String(), "202 Accepted") {
		t.Errorf("send from the environment: %v\n%s", err, stdout.String())
	}
	stdout.Reset()
	err = run(context.Background(), []string{"send", "--scheme", "token", "--source", "postman", "--secret", "wrong", "{}"}, env, strings.NewReader(""), &stdout, &stdout)
	if err == nil || !strings.HasPrefix(stdout.String(), "401 Unauthorized") {
		t.Errorf("--secret on the command line must beat HOOKLINE_SECRET: %v\n%s", err, stdout.String())
	}
	stdout.Reset()
	err = run(context.Background(), []string{"send", "--help"}, env, strings.NewReader(""), &stdout, &stdout)
	if err != nil || strings.Contains(stdout.String(), `(default "`+tokenSecret) {
		t.Errorf("help shows the secret from the environment: %v\n%s", err, stdout.String())
	}
	err = run(context.Background(), []string{"local"}, env, strings.NewReader(""), &stdout, &stdout)
	if code := exitCode(&bytes.Buffer{}, err); code != exitUsage || !strings.Contains(err.Error(), `HOOKLINE_SMTP_TLS: strconv.ParseBool: parsing "many"`) {
		t.Errorf("bad HOOKLINE_SMTP_TLS: exit %d, %v", code, err)
	}
}

// TestGoStyleFlags: single-dash long flags, which the standard flag package took, still work.
func TestGoStyleFlags(t *testing.T) {
	t.Parallel()
	srv := startLocal(t, 5)
	out, err := cli(t, "send", "-url", srv.url, "-scheme=token", "-secret", tokenSecret, "-source", "postman", "-json", "-")
	if err != nil || !strings.Contains(out, `"status":202`) {
		t.Errorf("single-dash flags: %v\n%s", err, out)
	}
	// "-" (stdin), negative numbers and anything after "--" are left alone.
	root := (&app{getenv: noenv, stdout: io.Discard, stderr: io.Discard}).rootCmd()
	got := goStyleFlags(root, []string{"events", "list", "-json", "-h", "--until", "-1h", "-", "--", "-json"})
	want := []string{"events", "list", "--json", "-h", "--until", "-1h", "-", "--", "-json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("goStyleFlags = %q, want %q", got, want)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := cli(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "hookline ") || !strings.HasPrefix(lines[1], "commit   ") ||
		lines[2] != "go       "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version output:\n%s", out)
	}
}

// fakeRevision is the commit the shared test binary is stamped with, as `make build` does.
const fakeRevision = "0123456789abcdef0123456789abcdef01234567"

// shared is one build of this command for the tests that run the real binary.
var shared struct {
	once     sync.Once
	dir, bin string
	err      error
}

// sharedCLI builds this command once per test run, stamped like `make build` and with
// GOFLAGS=-buildvcs=false as on this project's machines, and returns its path.
func sharedCLI(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "hookline-cli-test"); shared.err != nil {
			return
		}
		shared.bin = filepath.Join(shared.dir, "hookline")
		cmd := exec.Command(goBin, "build", "-ldflags", "-X main.vcsRevision="+fakeRevision+" -X main.vcsModified=true", "-o", shared.bin, ".")
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			shared.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// TestVersionStamped: the commit `make build` stamps is the one `hookline version` prints,
// though the build info has none (-buildvcs=false).
func TestVersionStamped(t *testing.T) {
	t.Parallel()
	bin := sharedCLI(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "commit   "+fakeRevision+" (modified)\n") {
		t.Errorf("stamped commit not printed:\n%s", out)
	}
	// Exit statuses of the real process, as main maps them.
	for _, tc := range []struct {
		args []string
		code int
	}{{[]string{"--help"}, 0}, {[]string{"local", "--help"}, 0}, {[]string{"version"}, 0}, {[]string{"nope"}, 2}, {[]string{"events", "list", "--data", t.TempDir()}, 1}} {
		c := exec.Command(bin, tc.args...)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		err := c.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("hookline %v: exit %d, want %d\nstdout: %s\nstderr: %s", tc.args, code, tc.code, stdout.String(), stderr.String())
		}
		if tc.code == 0 && (stdout.Len() == 0 || stderr.Len() > 0) {
			t.Errorf("hookline %v: want output on stdout only; stdout %d bytes, stderr: %s", tc.args, stdout.Len(), stderr.String())
		}
	}
}

func TestLogFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	for format, want := range map[string]string{"": `{"time":`, "json": `{"time":`, "text": "time="} {
		buf.Reset()
		log, err := newLogger(&buf, "info", format)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("hello")
		if !strings.HasPrefix(buf.String(), want) {
			t.Errorf("--log-format %q (not a terminal) wrote %q, want it to start with %q", format, buf.String(), want)
		}
	}
}

// TestCompletion: the bash script completes commands and flag values through the binary.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh"} {
		out, err := cli(t, "completion", shell)
		if err != nil || !strings.Contains(out, "hookline") || len(out) < 1000 {
			t.Errorf("completion %s: %v (%d bytes)", shell, err, len(out))
		}
	}
	// The scripts ask the binary itself (the hidden __complete command) what fits.
	out, err := cli(t, "__complete", "events", "")
	if err != nil || !strings.Contains(out, "list\t") || !strings.Contains(out, "tail\t") {
		t.Errorf("__complete events: %v\n%s", err, out)
	}
	out, err = cli(t, "__complete", "send", "--scheme", "")
	if err != nil || !strings.Contains(out, "standard-webhooks\n") {
		t.Errorf("__complete send --scheme: %v\n%s", err, out)
	}
}

// TestBashCompletion sources the bash script in a real bash (with bash-completion, which
// cobra's script needs, installed by mk/completion.mk) and completes as a user pressing Tab.
func TestBashCompletion(t *testing.T) {
	t.Parallel()
	const helpers = "/usr/share/bash-completion/bash_completion"
	bash, err := exec.LookPath("bash")
	if _, serr := os.Stat(helpers); err != nil || serr != nil {
		ci.Missing(t, "bash or bash-completion is not installed: apt-get install bash-completion (make test installs it, mk/completion.mk)")
	}
	bin := sharedCLI(t)
	const prog = `source ` + helpers + `
source <(hookline completion bash)
complete_line() {
	COMP_LINE="$*"; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMP_POINT=${#COMP_LINE}
	COMPREPLY=(); __start_hookline
	echo "$* -> ${COMPREPLY[*]}"
}
complete_line hookline ev
complete_line hookline events ""
complete_line hookline send --scheme st
complete_line hookline local --log-format ""
`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.Output() // stderr: compopt complains outside a real completion; harmless
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := `hookline ev -> events
hookline events  -> list get tail
hookline send --scheme st -> stripe standard-webhooks
hookline local --log-format  -> text json
`
	if string(out) != want {
		t.Errorf("completions:\n%s\nwant:\n%s", out, want)
	}
}

// TestSendJSON: `send --json` prints one object a script can read, for a 202 and a 401 alike,
// and the 401 still fails the command (exit 1).
func TestSendJSON(t *testing.T) {
	t.Parallel()
	srv := startLocal(t, 5)
	for _, tc := range []struct {
		secret string
		status int
		code   int
	}{{tokenSecret, 202, exitOK}, {"wrong", 401, exitFailure}} {
		var stdout bytes.Buffer
		err := run(context.Background(), []string{"send", "--url", srv.url, "--scheme", "token", "--secret", tc.secret, "--source", "postman", "--json", `{"type":"json.out"}`},
			noenv, strings.NewReader(""), &stdout, io.Discard)
		if code := exitCode(io.Discard, err); code != tc.code {
			t.Errorf("secret %q: exit %d, want %d (%v)", tc.secret, code, tc.code, err)
		}
		var got struct {
			Status     int             `json:"status"`
			StatusText string          `json:"status_text"`
			EventID    string          `json:"event_id"`
			DurationMS *float64        `json:"duration_ms"`
			Answer     json.RawMessage `json:"answer"`
		}
		dec := json.NewDecoder(&stdout)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil || dec.More() {
			t.Fatalf("not one JSON object: %v\n%s", err, stdout.String())
		}
		var answer map[string]any
		if got.Status != tc.status || got.DurationMS == nil || *got.DurationMS <= 0 || json.Unmarshal(got.Answer, &answer) != nil {
			t.Errorf("secret %q: %+v answer %s", tc.secret, got, got.Answer)
		}
		if tc.status == 202 && (got.EventID == "" || answer["id"] != got.EventID || got.StatusText != "202 Accepted") {
			t.Errorf("202: event_id %q, answer %v", got.EventID, answer)
		}
		if tc.status == 401 && (got.EventID != "" || answer["status"] != float64(401)) {
			t.Errorf("401: event_id %q, answer %v (want the problem document)", got.EventID, answer)
		}
	}
}

// TestLocalProcs: hookline local runs with at least localMinProcs Ps unless GOMAXPROCS chose,
// and never lowers a larger count.
func TestLocalProcs(t *testing.T) {
	was := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })
	for _, tc := range []struct {
		env         string
		start, want int
	}{{"", 1, localMinProcs}, {"", 2, localMinProcs}, {"", localMinProcs + 3, localMinProcs + 3}, {"2", 2, 2}, {"1", 1, 1}} {
		runtime.GOMAXPROCS(tc.start)
		localProcs(func(name string) string {
			if name == "GOMAXPROCS" {
				return tc.env
			}
			return ""
		})
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Errorf("GOMAXPROCS=%q from %d Ps: %d, want %d", tc.env, tc.start, got, tc.want)
		}
	}
}
