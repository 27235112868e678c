package testenv

import (
	"io"
	"net/http"
	"testing"
)

// Get sends GET url with the default client and returns the status code and the body; the
// test fails if the request or the read of the body does.
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}
