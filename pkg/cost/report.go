package cost

import (
	"fmt"
	"math"
)

// Report is what `hookline cost --json` prints: hookline's bill line by line, with and without
// email, and the tutorial's computed the same way.
type Report struct {
	EventsPerMonth float64 `json:"events_per_month"`
	EventsPerSec   float64 `json:"events_per_second"`
	PayloadBytes   int     `json:"payload_bytes"`
	EmailRatio     float64 `json:"email_ratio"`
	Region         string  `json:"region"`
	PricesRead     string  `json:"prices_read"`

	ItemBytes int `json:"item_bytes"` // the item the codec makes of the payload

	BillJSON
	Tutorial BillJSON `json:"tutorial"`
}

// BillJSON is one design's bill: per-event lines at email ratio 0 and at the asked ratio,
// and the monthly costs that do not grow with events.
type BillJSON struct {
	Design string     `json:"design"`
	Lines  []LineJSON `json:"lines"`
	Fixed  []Line     `json:"fixed_monthly"`

	TotalPerMillionWithoutEmail float64 `json:"total_usd_per_million_without_email"`
	TotalPerMillionWithEmail    float64 `json:"total_usd_per_million_with_email"`
	// MonthlyUSD is the month at the asked email ratio, fixed costs included.
	MonthlyUSD float64 `json:"monthly_usd"`
}

// LineJSON is one line of both bills.
type LineJSON struct {
	Name                     string  `json:"name"`
	Unit                     string  `json:"unit"`
	UnitUSD                  float64 `json:"unit_usd"`
	QuantityWithoutEmail     float64 `json:"quantity_without_email"`
	QuantityWithEmail        float64 `json:"quantity_with_email"`
	USDPerMillionWithoutMail float64 `json:"usd_per_million_without_email"`
	USDPerMillionWithEmail   float64 `json:"usd_per_million_with_email"`
	MonthlyUSD               float64 `json:"monthly_usd"`
	Detail                   string  `json:"detail"`
}

// Estimate computes the report for p from a template (full or pruned) and the measured logs.
func Estimate(p Params, template []byte, logs Measured) (Report, error) {
	if err := p.Validate(); err != nil {
		return Report{}, err
	}
	s, err := ReadTemplate(template)
	if err != nil {
		return Report{}, err
	}
	d, err := FromTemplate(s, p.PayloadBytes, logs)
	if err != nil {
		return Report{}, err
	}
	r := Report{
		EventsPerMonth: p.EventsPerMonth, EventsPerSec: round(p.Rate(), 4), PayloadBytes: p.PayloadBytes,
		EmailRatio: p.EmailRatio, Region: Region, PricesRead: PricesRead, ItemBytes: d.Table.ItemBytes,
	}
	r.BillJSON = bill(d, p)
	r.Tutorial = bill(Tutorial(p.PayloadBytes), p)
	return r, nil
}

// Bills computes design d at email ratio 0 and at p.EmailRatio.
func Bills(d Design, p Params) (without, with Bill) {
	return Compute(d, p, 0), Compute(d, p, p.EmailRatio)
}

func bill(d Design, p Params) BillJSON {
	without, with := Bills(d, p)
	perMillion := 1e6 / p.EventsPerMonth
	b := BillJSON{Design: d.Name, Fixed: with.Fixed}
	for i, l := range with.Lines {
		w := without.Lines[i]
		b.Lines = append(b.Lines, LineJSON{
			Name: l.Name, Unit: l.Unit, UnitUSD: unitPrice(l),
			QuantityWithoutEmail: round(w.Quantity, 6), QuantityWithEmail: round(l.Quantity, 6),
			USDPerMillionWithoutMail: round(w.USD*perMillion, 4), USDPerMillionWithEmail: round(l.USD*perMillion, 4),
			MonthlyUSD: round(l.USD, 4), Detail: l.Detail,
		})
	}
	for i := range b.Fixed {
		b.Fixed[i].USD = round(b.Fixed[i].USD, 4)
		b.Fixed[i].Quantity = round(b.Fixed[i].Quantity, 6)
	}
	b.TotalPerMillionWithoutEmail = round(without.Variable()*perMillion, 2)
	b.TotalPerMillionWithEmail = round(with.Variable()*perMillion, 2)
	b.MonthlyUSD = round(with.Monthly(), 2)
	return b
}

func unitPrice(l Line) float64 {
	if l.Quantity == 0 {
		return 0
	}
	return l.USD / l.Quantity
}

// round rounds half away from zero to places decimals, so totals print as they are compared.
func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// usd formats dollars with cents, or with more digits under ten cents.
func usd(x float64) string {
	switch {
	case x == 0:
		return "0.00"
	case math.Abs(x) < 0.1:
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.2f", x)
}
