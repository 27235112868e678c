package localrun

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"hookline/pkg/pipeline"
	"hookline/pkg/problem"
	"hookline/pkg/source"
)

// guard is `hookline local`'s front gate, before the gateway and the web view:
//
//   - A request whose Host is not the listen address, localhost or a loopback IP gets 421: a web
//     page elsewhere cannot rebind its own host name to this port and read the history.
//   - With an admin token, every route but /webhooks/ (which has its own signatures) requires
//     Authorization: Bearer <token>. Browsers cannot send that for a page, so HTTP Basic with
//     the token as the password is accepted too, and the 401 asks the browser for it.
type guard struct {
	hosts    hostSet
	tokenSum *[sha256.Size]byte // nil: no admin token
	next     http.Handler
}

// hostSet is what a Host header may name.
type hostSet struct {
	names map[string]bool     // lower-case host names (the listen host, "localhost")
	ips   map[netip.Addr]bool // the listen IP, or every local interface's IP when listening on all
}

func (h hostSet) allows(hostport string) bool {
	host := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		return a.IsLoopback() || h.ips[a]
	}
	return host != "" && h.names[strings.ToLower(host)]
}

// newHostSet is the Host names a server bound to addr answers to. Listening on every
// interface, that is each interface address (an IP literal cannot be rebound to another site).
func newHostSet(addr string) (hostSet, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return hostSet{}, fmt.Errorf("--addr %q: %w", addr, err)
	}
	h := hostSet{names: map[string]bool{"localhost": true}, ips: map[netip.Addr]bool{}}
	a, err := netip.ParseAddr(host)
	switch {
	case host == "" || (err == nil && a.IsUnspecified()):
		ifaddrs, err := net.InterfaceAddrs()
		if err != nil {
			return hostSet{}, fmt.Errorf("list the interface addresses for the Host check: %w", err)
		}
		for _, ia := range ifaddrs {
			if p, err := netip.ParsePrefix(ia.String()); err == nil {
				h.ips[p.Addr().Unmap()] = true
			}
		}
	case err == nil:
		h.ips[a.Unmap()] = true
	default:
		h.names[strings.ToLower(host)] = true
	}
	return h, nil
}

// isLoopbackAddr reports whether addr only listens on this machine: localhost or a loopback IP.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// checkAccess decides, before anything listens, whether addr may be used as asked.
func checkAccess(addr string, allowRemote bool, adminToken string) error {
	if !isLoopbackAddr(addr) && !allowRemote {
		return fmt.Errorf("--addr %s reaches beyond this machine: pass --allow-remote (with --admin-token or HOOKLINE_ADMIN_TOKEN), or listen on 127.0.0.1", addr)
	}
	if allowRemote && adminToken == "" {
		return errors.New("--allow-remote: set --admin-token or HOOKLINE_ADMIN_TOKEN; the history and the web view then require it")
	}
	if adminToken != "" && len(adminToken) < source.MinSecretBytes {
		return fmt.Errorf("--admin-token: %d bytes; use at least %d (random) bytes", len(adminToken), source.MinSecretBytes)
	}
	return nil
}

const authChallenge = `Bearer realm="hookline local", Basic realm="hookline local"`

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.hosts.allows(r.Host) {
		problem.Write(w, problem.For(pipeline.Errorf(pipeline.KindMisdirected,
			"this server does not answer to the host %q: use its listen address, localhost or a loopback address", r.Host), r.URL.Path))
		return
	}
	if g.tokenSum != nil && !strings.HasPrefix(r.URL.Path, "/webhooks/") && !g.authorized(r) {
		w.Header().Set("WWW-Authenticate", authChallenge)
		problem.Write(w, problem.For(pipeline.Errorf(pipeline.KindUnauthorized,
			"this hookline local requires Authorization: Bearer <admin token> (or the token as a Basic password) on every route but /webhooks/"), r.URL.Path))
		return
	}
	g.next.ServeHTTP(w, r)
}

// authorized compares digests in constant time, so neither the token nor its length leaks.
func (g *guard) authorized(r *http.Request) bool {
	var got string
	if _, pass, ok := r.BasicAuth(); ok {
		got = pass
	} else if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
		got = strings.TrimSpace(tok)
	}
	if got == "" {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], g.tokenSum[:]) == 1
}
