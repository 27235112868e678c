// Package listing writes what a list command found: for people an aligned table under a
// header line (one sentence instead when nothing was found), for scripts one JSON value per
// line. hookline events list, rejected list, dlq list and sources print through it; the
// packages that know the items (historycli, rejectedcli, rotation, the dlq command) say
// which columns and which JSON shape.
package listing

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"hookline/pkg/render"
)

// Table is how items of type T are listed.
type Table[T any] struct {
	Header []string         // the column names
	Row    func(T) []string // an item's cells, one per column
	Empty  string           // the sentence printed instead of a table without rows
	JSON   func(T) any      // an item's JSON shape; nil encodes the item itself
}

// Write lists the items each calls its func with (an error from the func ends each, and
// Write returns it): with asJSON one JSON value per line as they come, else the table, which
// is held until the last row so every column is as wide as its widest cell.
func (t Table[T]) Write(w io.Writer, asJSON bool, each func(func(T) error) error) error {
	if asJSON {
		enc := json.NewEncoder(w)
		return each(func(v T) error {
			if t.JSON != nil {
				return enc.Encode(t.JSON(v))
			}
			return enc.Encode(v)
		})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Header, "\t"))
	n := 0
	err := each(func(v T) error {
		n++
		row := t.Row(v)
		for i, c := range row {
			row[i] = render.Terminal(c, false) // a sender's text: no escape sequence, tab or line break
		}
		_, err := fmt.Fprintln(tw, strings.Join(row, "\t"))
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		_, err := fmt.Fprintln(w, t.Empty)
		return err
	}
	return tw.Flush()
}

// All is each for a slice: it calls its func with every item of s in order.
func All[T any](s []T) func(func(T) error) error {
	return func(fn func(T) error) error {
		for _, v := range s {
			if err := fn(v); err != nil {
				return err
			}
		}
		return nil
	}
}
