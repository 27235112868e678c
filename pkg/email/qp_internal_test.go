package email

import (
	"bytes"
	"mime/quotedprintable"
	"strings"
	"testing"
	"time"

	"hookline/pkg/pipeline"
)

// FuzzQuotedPrintable: qpEncoder appends what mime/quotedprintable's Writer writes for the same
// Writes and Close, after any bytes already in the slice.
func FuzzQuotedPrintable(f *testing.F) {
	long := strings.Repeat("x", 200)
	for _, s := range []string{
		"", "a", "a=b", "tail \n", "tail\t", "tail ", " \r\n \r \n", "\r=\n", "\r\r\n\n",
		long, long + " ", strings.Repeat("y", 74) + "=z", strings.Repeat("y", 72) + "é" + long,
		strings.Repeat("y", 75) + " \n", strings.Repeat("ab ", 60), "{\n  \"pad\": \"" + long + "\"\n}\n",
		"\x00\x01\x7f\x80\xff", strings.Repeat("=", 40),
	} {
		f.Add("Subject: x\r\n\r\n", s, 0)
		f.Add("", s, len(s)/2)
	}
	f.Fuzz(func(t *testing.T, prefix, text string, split int) {
		if split < 0 || split > len(text) {
			split = len(text) / 2
		}
		var want bytes.Buffer
		want.WriteString(prefix)
		w := quotedprintable.NewWriter(&want)
		_, _ = w.Write([]byte(text[:split]))
		_, _ = w.Write([]byte(text[split:]))
		_ = w.Close()
		got := []byte(prefix)
		e := newQPEncoder(got)
		got = e.append(got, []byte(text[:split]))
		got = e.append(got, []byte(text[split:]))
		got = e.close(got)
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("qpEncoder(%q | %q):\n%q\nmime/quotedprintable:\n%q", text[:split], text[split:], got, want.Bytes())
		}
	})
}

// BenchmarkMboxRecord: an outbox record of an email like the load generator's (its 1 KiB body
// indented in the text), into a reused buffer as Send renders it.
func BenchmarkMboxRecord(b *testing.B) {
	text := "github push received 2026-12-03T06:00:00Z\n\nEvent: 0b7c6f2e-4f0a-4c55-9a53-3c1d2e4f5a6b\nSource: demo\n\n" +
		"{\n  \"delivery\": \"0b7c6f2e-4f0a-4c55-9a53-3c1d2e4f5a6b\",\n  \"pad\": \"" + strings.Repeat("x", 964) + "\"\n}\n"
	m := pipeline.Email{EventID: "e1", Source: "demo", Type: "push", Subject: "[hookline] push", Text: text}
	date := time.Unix(0, 0)
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = mboxRecord(buf[:0], m, DefaultFrom, DefaultTo, date); err != nil {
			b.Fatal(err)
		}
	}
}
