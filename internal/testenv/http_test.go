package testenv_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"hookline/internal/testenv"
)

// TestGet: the status code and the whole body come back as the server sent them, whatever
// the status.
func TestGet(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("method %s, want GET", r.Method)
		}
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout: "+r.URL.Path)
	}))
	defer srv.Close()
	if code, body := testenv.Get(t, srv.URL+"/pot"); code != http.StatusTeapot || body != "short and stout: /pot" {
		t.Errorf("Get = %d %q, want 418 %q", code, body, "short and stout: /pot")
	}
}
