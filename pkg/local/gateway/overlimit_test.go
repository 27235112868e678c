package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOverLimitBodyWrittenWholeGets413: a client that writes its whole body before it reads
// (no Expect: 100-continue) still reads the 413 problem, for a body just over the limit sent
// with a Content-Length and for one sent chunked: the gateway reads what is left (up to a
// bound) before it answers, instead of closing on unread bytes, which resets the connection
// and takes the answer with it.
func TestOverLimitBodyWrittenWholeGets413(t *testing.T) {
	t.Parallel()
	const limit = 4 << 20 // over what the sockets buffer, so unread bytes stay unread
	g := newGateway(&recorder{})
	g.MaxBodyBytes = limit
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	body := bytes.Repeat([]byte("x"), limit+1)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(30 * time.Second)) // a hang fails, not blocks
			w := bufio.NewWriterSize(conn, 64<<10)
			if chunked {
				fmt.Fprintf(w, "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
				for b := body; len(b) > 0; {
					n := min(len(b), 32<<10)
					fmt.Fprintf(w, "%x\r\n", n)
					w.Write(b[:n])
					w.WriteString("\r\n")
					b = b[n:]
				}
				w.WriteString("0\r\n\r\n")
			} else {
				fmt.Fprintf(w, "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
				w.Write(body)
			}
			if err := w.Flush(); err != nil {
				t.Fatalf("writing the whole body: %v (the server closed on it before answering)", err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v, want the 413", err)
			}
			defer resp.Body.Close()
			if p := problemOf(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(fmt.Sprint(p["detail"]), "limit") {
				t.Errorf("%d %v, want a 413 problem naming the limit", resp.StatusCode, p)
			}
		})
	}
}

// TestOverLimitWithExpectContinue: a client that waits for 100 Continue gets the 413 at once
// and is never asked for the body.
func TestOverLimitWithExpectContinue(t *testing.T) {
	t.Parallel()
	g := newGateway(&recorder{})
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", g.MaxBodyBytes+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413 before any body (no 100 Continue)", resp.StatusCode)
	}
}
