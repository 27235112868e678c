package localrun

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHostSet(t *testing.T) {
	t.Parallel()
	loop, err := newHostSet("127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	named, err := newHostSet("hookline.lan:8080")
	if err != nil {
		t.Fatal(err)
	}
	lan, err := newHostSet("192.168.7.20:8080")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		set   hostSet
		host  string
		allow bool
	}{
		{loop, "127.0.0.1:8080", true},
		{loop, "127.0.0.2", true},
		{loop, "[::1]:8080", true},
		{loop, "localhost:8080", true},
		{loop, "LOCALHOST", true},
		{loop, "attacker.example:8080", false}, // DNS rebinding: a name that now points here
		{loop, "localhost.attacker.example", false},
		{loop, "192.168.7.20:8080", false},
		{loop, "", false},
		{named, "hookline.lan:8080", true},
		{named, "HookLine.LAN", true},
		{named, "other.lan", false},
		{lan, "192.168.7.20:8080", true},
		{lan, "192.168.7.21:8080", false},
		{lan, "localhost:8080", true},
	} {
		if got := tt.set.allows(tt.host); got != tt.allow {
			t.Errorf("%+v allows(%q) = %v, want %v", tt.set.names, tt.host, got, tt.allow)
		}
	}
	// Listening on every interface, the loopback interface's own address is one of them.
	all, err := newHostSet("0.0.0.0:8080")
	if err != nil {
		t.Fatal(err)
	}
	if !all.allows("127.0.0.1:8080") || all.allows("attacker.example:8080") {
		t.Errorf("0.0.0.0: %v", all.ips)
	}
}

func TestCheckAccess(t *testing.T) {
	t.Parallel()
	const token = "admin-token-0123456789"
	for _, tt := range []struct {
		addr        string
		allowRemote bool
		token, want string
	}{
		{"127.0.0.1:8080", false, "", ""},
		{"localhost:8080", false, "", ""},
		{"[::1]:8080", false, "", ""},
		{"127.0.0.1:8080", false, token, ""},
		{"0.0.0.0:8080", false, "", "--allow-remote"},
		{":8080", false, "", "--allow-remote"},
		{"192.168.7.20:8080", false, token, "--allow-remote"},
		{"hookline.lan:8080", false, "", "--allow-remote"},
		{"0.0.0.0:8080", true, "", "HOOKLINE_ADMIN_TOKEN"},
		{"0.0.0.0:8080", true, "short", "at least 16"},
		{"0.0.0.0:8080", true, token, ""},
	} {
		err := checkAccess(tt.addr, tt.allowRemote, tt.token)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("checkAccess(%s, %v, %q) = %v, want %q", tt.addr, tt.allowRemote, tt.token, err, tt.want)
		}
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	hosts, _ := newHostSet("127.0.0.1:8080")
	sum := sha256.Sum256([]byte("admin-token-0123456789"))
	reached := 0
	g := &guard{hosts: hosts, tokenSum: &sum, next: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reached++ })}
	for _, tt := range []struct {
		name, method, target, host, auth string
		status                           int
	}{
		{"history without token", "GET", "/events", "127.0.0.1:8080", "", 401},
		{"web view without token", "GET", "/", "127.0.0.1:8080", "", 401},
		{"event without token", "GET", "/events/x", "127.0.0.1:8080", "", 401},
		{"health without token", "GET", "/healthz", "127.0.0.1:8080", "", 401},
		{"wrong token", "GET", "/events", "127.0.0.1:8080", "Bearer admin-token-0123456780", 401},
		{"token as basic user", "GET", "/events", "127.0.0.1:8080", "Basic YWRtaW4tdG9rZW4tMDEyMzQ1Njc4OTo=", 401},
		{"bearer", "GET", "/events", "127.0.0.1:8080", "Bearer admin-token-0123456789", 200},
		{"basic password (browsers)", "GET", "/", "127.0.0.1:8080", "Basic b3BzOmFkbWluLXRva2VuLTAxMjM0NTY3ODk=", 200},
		{"webhook needs no admin token", "POST", "/webhooks/github", "127.0.0.1:8080", "", 200},
		{"rebinding", "GET", "/events", "attacker.example:8080", "Bearer admin-token-0123456789", 421},
		{"rebinding on a webhook", "POST", "/webhooks/github", "attacker.example:8080", "", 421},
	} {
		req := httptest.NewRequest(tt.method, tt.target, nil)
		req.Host = tt.host
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		w := httptest.NewRecorder()
		before := reached
		g.ServeHTTP(w, req)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, w.Code, tt.status)
		}
		if passed := reached > before; passed != (tt.status == 200) {
			t.Errorf("%s: reached the server = %v", tt.name, passed)
		}
		if tt.status != 200 {
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if w.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != tt.status || p.Detail == "" {
				t.Errorf("%s: not a problem: %s %s", tt.name, w.Header().Get("Content-Type"), w.Body)
			}
			if strings.Contains(w.Body.String(), "admin-token-0123456789") {
				t.Errorf("%s: the answer shows the token", tt.name)
			}
		}
		if tt.status == 401 && !strings.Contains(w.Header().Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: WWW-Authenticate = %q", tt.name, w.Header().Get("WWW-Authenticate"))
		}
	}
}
