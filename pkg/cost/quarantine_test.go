package cost

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"hookline/pkg/ddbstore"
	"hookline/pkg/pipeline"
	"hookline/pkg/sender"
)

// TestQuarantineCost: what docs/operations.md says a million kept refused requests cost on AWS
// is what the model's prices and the stack's own quarantine index make of a typical one (a
// GitHub delivery with a 1 KB body, signed with a wrong secret, its headers as API Gateway
// passes them), as ddbstore writes it: the item, its entry in the sparse index, one counter
// update; stored for the 7 days they are kept.
func TestQuarantineCost(t *testing.T) {
	s, err := ReadTemplate(EmbeddedTemplate())
	if err != nil {
		t.Fatal(err)
	}
	var ix *StackIndex
	for i := range s.Table.Indexes {
		if s.Table.Indexes[i].Name == ddbstore.IndexRejected {
			ix = &s.Table.Indexes[i]
		}
	}
	if ix == nil {
		t.Fatalf("the stack's table has no index %s", ddbstore.IndexRejected)
	}
	body := []byte(`{"action":"opened","issue":{"number":1,"title":"` + strings.Repeat("x", 1024-50) + `"}}`)
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: "rotated-wrongly-0123456789", Body: body, Type: "issues", ContentType: "application/json"})
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{"user-agent": "GitHub-Hookshot/abc123", "accept": "*/*", "x-github-hook-id": "123456789",
		"x-github-hook-installation-target-id": "987654321", "x-github-hook-installation-target-type": "repository",
		"content-length": "1024", "x-forwarded-for": "140.82.115.1", "x-forwarded-port": "443", "x-forwarded-proto": "https",
		"x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678", "host": "abc123.execute-api.us-east-1.amazonaws.com"}
	for k := range h {
		headers[strings.ToLower(k)] = h.Get(k)
	}
	shown, _ := pipeline.Redact(headers)
	// kmsseal's value: version, length, a KMS-wrapped data key (184 B), pkg/seal's version,
	// nonce and tag around the secret headers' JSON (about 80 B).
	sealed := make([]byte, 3+184+1+12+80+16)
	// A fixed time: the item's expires_at is a number, and DynamoDB sizes a number by its
	// significant digits, so a clock reading whose Unix seconds end in zeros made the item a
	// byte smaller and the test fail now and then.
	receivedAt := time.Date(2026, 11, 27, 12, 34, 56, 789000000, time.UTC)
	item, err := ddbstore.MarshalRejection(&pipeline.Rejection{ID: "01a2a000-0000-7000-8000-000000000001", Source: "github",
		Reason: pipeline.ReasonUnauthorized, Detail: "no matching signature: x-hub-signature-256 matches no secret",
		ReceivedAt: receivedAt, SourceIP: "140.82.115.1", RawPath: "/webhooks/github", Header: shown, Sealed: sealed, Body: body, BodySize: len(body)})
	if err != nil {
		t.Fatal(err)
	}
	entry, in := indexEntry(s.Table.Keys, *ix, item)
	if !in {
		t.Fatal("a kept rejection is not in the quarantine index")
	}
	const counterBytes = 42 // id "~kept#<minute>#github", n, expires_at
	wru := writeUnits(ItemSize(item)) + writeUnits(ItemSize(entry)) + writeUnits(counterBytes)
	perMillion := 1e6 * wru * Prices.DynamoWRU.Each()
	stored := 1e6 * float64(ItemSize(item)+100+ItemSize(entry)+100) / gigabyte * pipeline.KeptFor.Hours() / 24 / 30
	docs, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("a kept one is a %s-byte item (%g WRU), a\n%d-byte index entry (%g WRU) and one counter update (%g WRU): **%g WRU, $%.2f per million kept**",
			comma(ItemSize(item)), writeUnits(ItemSize(item)), ItemSize(entry), writeUnits(ItemSize(entry)), writeUnits(counterBytes), wru, perMillion),
		fmt.Sprintf("(about %.2f GB-month per million, **$%.2f**", stored, stored*Prices.DynamoStorage.Each()),
	} {
		if !strings.Contains(string(docs), want) {
			t.Errorf("docs/operations.md does not say %q", want)
		}
	}
}

func comma(n int) string {
	if n < 1000 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d,%03d", n/1000, n%1000)
}
