package listing_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"hookline/pkg/listing"
)

type item struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

var table = listing.Table[item]{
	Header: []string{"NAME", "N"},
	Row:    func(i item) []string { return []string{i.Name, strconv.Itoa(i.N)} },
	Empty:  "nothing here",
}

func write(t *testing.T, tb listing.Table[item], asJSON bool, items ...item) string {
	t.Helper()
	var b strings.Builder
	if err := tb.Write(&b, asJSON, listing.All(items)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestTableAlignsColumns(t *testing.T) {
	got := write(t, table, false, item{"a", 1}, item{"longer", 22})
	want := "NAME    N\na       1\nlonger  22\n"
	if got != want {
		t.Errorf("table:\n%q\nwant\n%q", got, want)
	}
}

func TestEmptyIsOneSentence(t *testing.T) {
	if got := write(t, table, false); got != "nothing here\n" {
		t.Errorf("no rows: %q, want the Empty sentence alone", got)
	}
	if got := write(t, table, true); got != "" {
		t.Errorf("no rows as JSON: %q, want nothing", got)
	}
}

func TestJSONLines(t *testing.T) {
	if got, want := write(t, table, true, item{"a", 1}, item{"b", 2}), "{\"name\":\"a\",\"n\":1}\n{\"name\":\"b\",\"n\":2}\n"; got != want {
		t.Errorf("JSON of the items: %q, want %q", got, want)
	}
	shaped := table
	shaped.JSON = func(i item) any { return map[string]string{"id": i.Name} }
	if got, want := write(t, shaped, true, item{"a", 1}), "{\"id\":\"a\"}\n"; got != want {
		t.Errorf("JSON through Table.JSON: %q, want %q", got, want)
	}
}

func TestWalkErrorEndsTheList(t *testing.T) {
	boom := errors.New("boom")
	for _, asJSON := range []bool{false, true} {
		var b strings.Builder
		err := table.Write(&b, asJSON, func(fn func(item) error) error {
			if err := fn(item{"a", 1}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("asJSON=%v: err %v, want the walk's", asJSON, err)
		}
		if !asJSON && b.Len() != 0 {
			t.Errorf("a failed walk printed a partial table: %q", b.String())
		}
	}
}

func TestCellsAreOneLineOfText(t *testing.T) {
	got := write(t, table, false, item{"a\tb\nc\x1b[2J", 1}, item{"d", 2})
	want := "NAME            N\na\\tb\\nc\\x1b[2J  1\nd               2\n"
	if got != want {
		t.Errorf("table:\n%q\nwant\n%q", got, want)
	}
}
