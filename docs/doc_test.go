// Package docs tests the shell examples of README.md and docs/*.md: every fenced `console`
// block is run, against a `hookline local` started the way that file tells the reader to start
// it, and its output must match what the file shows. A doc that drifts from the code fails
// `make test`.
//
// How a file's examples run:
//   - The first `hookline local …` (or `bin/hookline local …`) line in any fenced block of the
//     file gives the server's flags; the test adds --addr 127.0.0.1:0 and runs the built binary
//     in a fresh directory holding bin/hookline and a copy of examples/, so `--sources
//     examples/sources.json`, `.hookline/` and relative files work as they do for a reader in
//     the repository root.
//   - Each `$ ` line (with `\` continuations) runs in bash, in that directory, with bin/ on PATH,
//     HOOKLINE_URL pointing at the server and `127.0.0.1:8080` replaced by its address. Before
//     each command the test waits until the pipeline is idle (queues empty, every event emailed),
//     which is what "within a second" means in the prose.
//   - The lines after it, up to the next `$ ` line, are the expected output (stdout and stderr).
//     A command must exit 0: a doc shows a failure as `…; echo "exit $?"`.
//
// How output is compared (the shape, not the bytes that change from run to run):
//   - runs of spaces count as one (tables are aligned to their content);
//   - a UUID matches any UUID, but the same UUID in the doc must be the same one in the run, and
//     a later command that names a doc UUID gets the run's instead;
//   - timestamps (RFC 3339, or `2026-12-01 14:43:06.667 UTC`) and durations (`+9ms`, `-397ms`)
//     match any;
//   - `…` inside a line matches any text, a line that is only `…` any number of lines.
//
// Blocks tagged `sh` are shown, not run: what needs AWS (deploy, --table, --queue-url) or runs
// until Ctrl-C. A block of `$ ` lines that is not tagged `console` fails the test.
package docs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hookline/internal/testenv"
)

// docFiles are the files whose examples run: README.md and every docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join("..", "README.md")}, files...)
}

type block struct {
	lang  string
	line  int // 1-based line of the opening fence
	lines []string
}

// fence matches an opening or closing fence, indented or not (docs/postman.md has blocks in lists).
var fence = regexp.MustCompile("^(\\s*)```\\s*([A-Za-z0-9_-]*)\\s*$")

func parseBlocks(text string) ([]block, error) {
	var blocks []block
	var cur *block
	indent := ""
	for i, l := range strings.Split(text, "\n") {
		m := fence.FindStringSubmatch(l)
		switch {
		case cur == nil && m != nil:
			cur, indent = &block{lang: m[2], line: i + 1}, m[1]
		case cur != nil && m != nil && m[2] == "":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, strings.TrimPrefix(l, indent))
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("block at line %d is never closed", cur.line)
	}
	return blocks, nil
}

type step struct {
	line    int // 1-based line of the `$ ` in the file
	command string
	want    []string
}

// steps splits a console block into commands and their expected output.
func steps(b block) []step {
	var out []step
	for i := 0; i < len(b.lines); i++ {
		l := b.lines[i]
		if !strings.HasPrefix(l, "$ ") {
			if len(out) > 0 {
				out[len(out)-1].want = append(out[len(out)-1].want, l)
			}
			continue
		}
		s := step{line: b.line + 1 + i, command: strings.TrimPrefix(l, "$ ")}
		for strings.HasSuffix(s.command, "\\") && i+1 < len(b.lines) {
			i++
			s.command += "\n" + b.lines[i]
		}
		out = append(out, s)
	}
	for i := range out {
		for len(out[i].want) > 0 && strings.TrimSpace(out[i].want[len(out[i].want)-1]) == "" {
			out[i].want = out[i].want[:len(out[i].want)-1]
		}
	}
	return out
}

// serverLine finds the reader's `hookline local` command in a file's blocks.
var serverLine = regexp.MustCompile(`^(?:\$ )?(?:bin/)?hookline local((?:\s+[^#\s]+)*)\s*(?:#.*)?$`)

func serverArgs(blocks []block) ([]string, bool) {
	for _, b := range blocks {
		for _, l := range b.lines {
			if m := serverLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				return strings.Fields(m[1]), true
			}
		}
	}
	return nil, false
}

func TestExamples(t *testing.T) {
	bin := buildCLI(t)
	examples, err := filepath.Abs(filepath.Join("..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, file := range docFiles(t) {
		blocks, err := parseBlocks(readText(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var console []block
		for _, b := range blocks {
			switch {
			case b.lang == "console":
				console = append(console, b)
			case b.lang != "sh" && b.lang != "bash" && b.lang != "shell" && hasPrompt(b):
				t.Errorf("%s:%d: a block with `$ ` commands must be tagged console (it runs as a test) or sh (shown only)", file, b.line)
			}
		}
		if len(console) == 0 {
			continue
		}
		args, ok := serverArgs(blocks)
		if !ok {
			t.Errorf("%s: has console examples but never says how to start `hookline local` for them", file)
			continue
		}
		ran++
		t.Run(filepath.Base(file), func(t *testing.T) {
			runFile(t, file, bin, examples, args, console)
		})
	}
	if ran == 0 {
		t.Fatal("no file with console examples: the parser or the docs are broken")
	}
}

func hasPrompt(b block) bool {
	for _, l := range b.lines {
		if strings.HasPrefix(l, "$ ") {
			return true
		}
	}
	return false
}

func runFile(t *testing.T, file, bin, examples string, args []string, console []block) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(t, os.Symlink(bin, filepath.Join(dir, "bin", "hookline")))
	must(t, os.CopyFS(filepath.Join(dir, "examples"), os.DirFS(examples)))

	addr := startServer(t, dir, args)
	env := commandEnv(dir, addr)
	bound := map[string]string{} // doc UUID → run UUID
	for _, b := range console {
		for _, s := range steps(b) {
			waitIdle(t, addr)
			cmd := s.command
			for doc, run := range bound {
				cmd = strings.ReplaceAll(cmd, doc, run)
			}
			cmd = strings.ReplaceAll(cmd, "127.0.0.1:8080", addr)
			got, code := runCommand(t, dir, env, cmd)
			where := fmt.Sprintf("%s:%d: $ %s", file, s.line, s.command)
			if code != 0 {
				t.Errorf("%s\nexit status %d (show a failure as `…; echo \"exit $?\"`); output:\n%s", where, code, strings.Join(got, "\n"))
				continue
			}
			if err := match(substitutePort(s.want, addr), got, bound); err != nil {
				t.Errorf("%s\n%v\n--- the doc shows:\n%s\n--- the run printed:\n%s", where, err, strings.Join(s.want, "\n"), strings.Join(got, "\n"))
			}
		}
	}
}

// commandEnv is a reader's environment: this machine's PATH with bin/ first, no HOOKLINE_*
// settings of the test's own environment, the server's URL.
func commandEnv(dir, addr string) []string {
	env := []string{
		"PATH=" + filepath.Join(dir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir,
		"TZ=UTC",
		"HOOKLINE_URL=http://" + addr,
	}
	return env
}

func runCommand(t *testing.T, dir string, env []string, command string) ([]string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", command)
	c.Dir, c.Env = dir, env
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			t.Fatalf("$ %s: %v (context: %v)\n%s", command, err, ctx.Err(), out.String())
		}
		code = ee.ExitCode()
	}
	text := strings.TrimRight(out.String(), "\n")
	if text == "" {
		return nil, code
	}
	return strings.Split(text, "\n"), code
}

func startServer(t *testing.T, dir string, args []string) string {
	t.Helper()
	var flags []string
	for i := 0; i < len(args); i++ { // the test chooses the address
		if args[i] == "--addr" {
			i++
			continue
		}
		if !strings.HasPrefix(args[i], "--addr=") {
			flags = append(flags, args[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := exec.CommandContext(ctx, filepath.Join(dir, "bin", "hookline"), append([]string{"local", "--addr", "127.0.0.1:0", "--log-level", "warn"}, flags...)...)
	c.Dir = dir
	c.Env = commandEnv(dir, "127.0.0.1:0")
	testenv.DiesWithParent(c)
	stdout, err := c.StdoutPipe()
	must(t, err)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	must(t, c.Start())
	done := make(chan struct{})
	t.Cleanup(func() {
		_ = c.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cancel()
			<-done
		}
		cancel()
		if t.Failed() {
			t.Logf("hookline local %s log:\n%s", strings.Join(flags, " "), stderr.String())
		}
	})
	addrc := make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "hookline local is listening on http://"); ok {
				select { // never block: the scanner must keep draining stdout
				case addrc <- a:
				default:
				}
			}
		}
		_ = c.Wait()
	}()
	select {
	case a := <-addrc:
		return a
	case <-done:
		t.Fatalf("hookline local %s exited before listening:\n%s", strings.Join(flags, " "), stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("hookline local %s did not print its address within 60s:\n%s", strings.Join(flags, " "), stderr.String())
	}
	return ""
}

// waitIdle waits until nothing is queued or in flight and every stored event is emailed: what
// a reader who looks "a second later" sees. It gives up after a bound that only catches a hang,
// and then the comparison shows what was missing.
func waitIdle(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		idle, why := isIdle(addr)
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("pipeline not idle after 30s: %s", why)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isIdle(addr string) (bool, string) {
	var health struct {
		Queue struct {
			Visible  int `json:"visible"`
			InFlight int `json:"in_flight"`
		} `json:"queue"`
	}
	if err := getJSON("http://"+addr+"/healthz", &health); err != nil {
		return false, err.Error()
	}
	if health.Queue.Visible+health.Queue.InFlight > 0 {
		return false, fmt.Sprintf("queue: %d visible, %d in flight", health.Queue.Visible, health.Queue.InFlight)
	}
	var list struct {
		Events []struct {
			ID         string `json:"id"`
			NotifiedAt string `json:"notified_at"`
		} `json:"events"`
	}
	if err := getJSON("http://"+addr+"/events?limit=1000", &list); err != nil {
		return false, err.Error()
	}
	for _, e := range list.Events {
		if e.NotifiedAt == "" {
			return false, "event " + e.ID + " not emailed yet"
		}
	}
	return true, ""
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// substitutePort puts the run's address where the doc shows the default 127.0.0.1:8080.
func substitutePort(want []string, addr string) []string {
	_, port, _ := strings.Cut(addr, ":")
	out := make([]string, len(want))
	for i, l := range want {
		l = strings.ReplaceAll(l, "127.0.0.1:8080", addr)
		out[i] = strings.ReplaceAll(l, `"8080"`, `"`+port+`"`)
	}
	return out
}

// buildCLI builds the CLI the console blocks run (without go on PATH the build fails, and so
// does the test).
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookline")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/hookline").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestExampleSourcesAreDocumented: examples/sources.json, which the docs tell readers to start
// with, is the sources example docs/sources.md shows and explains, byte for byte.
func TestExampleSourcesAreDocumented(t *testing.T) {
	t.Parallel()
	example := readText(t, filepath.Join("..", "examples", "sources.json"))
	if !strings.Contains(readText(t, "sources.md"), "```json\n"+example+"```\n") {
		t.Error("docs/sources.md does not show examples/sources.json as a json block: update one from the other")
	}
}

// readText reads a file the test needs; a missing one fails the test.
func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
