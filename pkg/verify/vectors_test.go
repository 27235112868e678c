package verify

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hookline/internal/ci"
	"hookline/pkg/verify/verifytest"
)

// verifierFor builds provider's verifier with one secret (a test vector's, a fuzz target's), or
// fails tb.
func verifierFor(t testing.TB, provider, secret string) Verifier {
	t.Helper()
	var v Verifier
	var err error
	switch provider {
	case "github":
		v, err = NewGitHub([]string{secret})
	case "stripe":
		v, err = NewStripe([]string{secret}, 0)
	case "standard-webhooks", "svix":
		v, err = NewStandardWebhooks([]string{secret}, 0)
	case "intdash":
		v, err = NewHMAC(Intdash([]string{secret}))
	case "slack":
		v, err = NewHMAC(Slack([]string{secret}, 0))
	case "zoom":
		v, err = NewHMAC(Zoom([]string{secret}, 0))
	case "shopify":
		v, err = NewHMAC(Shopify([]string{secret}))
	case "meta":
		v, err = NewHMAC(Meta([]string{secret}))
	case "twilio":
		v, err = NewTwilio([]string{secret})
	default:
		t.Fatalf("unknown provider %q", provider)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVectors(t *testing.T) {
	vs := verifytest.Load(t)
	seen := map[string]int{}
	for _, vec := range vs {
		seen[vec.Provider]++
		t.Run(vec.Name, func(t *testing.T) {
			v := verifierFor(t, vec.Provider, vec.Secret)
			now := time.Unix(vec.Timestamp, 0)
			h := vectorHeader(vec)
			res, err := v.Verify(h, []byte(vec.Body), now)
			if err != nil {
				t.Fatalf("provider-signed vector rejected: %v", err)
			}
			switch vec.Provider {
			case "stripe", "standard-webhooks", "svix", "slack", "zoom":
				if !res.Timestamp.Equal(now) {
					t.Fatalf("Result.Timestamp = %v, want %v", res.Timestamp, now)
				}
			default:
				if !res.Timestamp.IsZero() {
					t.Fatalf("Result.Timestamp = %v, want zero", res.Timestamp)
				}
			}
			for name, body := range map[string]string{"appended byte": vec.Body + "x", "trimmed": trimLast(vec.Body)} {
				if body == vec.Body {
					continue
				}
				if _, err := v.Verify(h, []byte(body), now); !errors.Is(err, ErrNoMatch) {
					t.Fatalf("tampered body (%s): got %v, want ErrNoMatch", name, err)
				}
			}
			other := verifierFor(t, vec.Provider, otherSecret(vec.Provider))
			if _, err := other.Verify(h, []byte(vec.Body), now); !errors.Is(err, ErrNoMatch) {
				t.Fatalf("wrong secret: got %v, want ErrNoMatch", err)
			}
		})
	}
	for _, p := range []string{"github", "stripe", "standard-webhooks", "svix", "intdash", "slack", "shopify", "meta", "twilio", "zoom"} {
		if seen[p] == 0 {
			t.Errorf("testdata/vectors.json has no %s case", p)
		}
	}
}

// urlHdr is a Header that knows the request URL (Twilio signs it).
type urlHdr struct {
	hdr
	url string
}

func (h urlHdr) URL() string { return h.url }

// vectorHeader is the request's headers as ingest sees them: Content-Type included, and the
// URL for the schemes that sign it.
func vectorHeader(v verifytest.Vector) Header {
	h := hdr{}
	for k, val := range v.Headers {
		h[k] = val
	}
	if v.ContentType != "" {
		h["content-type"] = v.ContentType
	}
	if v.URL != "" {
		return urlHdr{h, v.URL}
	}
	return h
}

func trimLast(s string) string {
	if s == "" {
		return s
	}
	return s[:len(s)-1]
}

func otherSecret(provider string) string {
	if provider == "standard-webhooks" || provider == "svix" {
		return "whsec_b3RoZXIta2V5LW5vdC10aGUtc2VuZGVycw=="
	}
	return "whsec_not_the_senders_secret"
}

// repoRoot walks up from the package directory to the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
}

// TestVectorsUpToDate re-runs the signing script and requires its output to equal the
// checked-in testdata/vectors.json byte for byte. It needs node and .tools/node_modules
// (npm ci in .tools): without them it skips, and under CI=true it fails (internal/ci). The
// script is offline.
func TestVectorsUpToDate(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		ci.Missing(t, "node not on PATH; cannot regenerate testdata/vectors.json (checked-in vectors are still verified by TestVectors)")
	}
	tools := filepath.Join(repoRoot(t), ".tools")
	if _, err := os.Stat(filepath.Join(tools, "node_modules")); err != nil {
		ci.Missing(t, ".tools/node_modules missing (run `npm ci --prefix .tools`); cannot regenerate testdata/vectors.json")
	}
	cmd := exec.Command(node, filepath.Join("vectors", "sign.mjs"))
	cmd.Dir = tools
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("node vectors/sign.mjs: %v\n%s", err, stderr.Bytes())
	}
	want, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("testdata/vectors.json is stale; regenerate from .tools with:\n  node vectors/sign.mjs > ../pkg/verify/testdata/vectors.json\n(got %d bytes, checked in %d)", len(got), len(want))
	}
}
