package console

import (
	"fmt"
	"time"

	"github.com/amagent/amagent/platform/internal/store"
)

// Charts are SVG drawn on the server: geometry is computed here, the
// template writes rect and text elements with classes (colours come from
// the stylesheet, so light and dark both work, and no style attribute is
// needed under the Content-Security-Policy).

// Rect is one SVG rectangle with a tooltip.
type Rect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// Label is one SVG text.
type Label struct {
	X, Y   float64
	Text   string
	Anchor string // start, middle, end
}

// Chart is a drawn chart.
type Chart struct {
	Width, Height float64
	Desc          string
	Rects         []Rect
	Labels        []Label
	Lines         []Rect // thin grid lines (W or H zero-ish)
	// Stretch lets the chart fill the width whatever its aspect (a bar
	// with no text); charts with text keep theirs.
	Stretch bool
}

var outcomeOrder = []struct {
	name, class string
	get         func(store.Outcomes) int
}{
	{"compliant", "o-ok", func(o store.Outcomes) int { return o.Compliant }},
	{"non-compliant", "o-bad", func(o store.Outcomes) int { return o.NonCompliant }},
	{"error", "o-err", func(o store.Outcomes) int { return o.Error }},
	{"quarantined", "o-q", func(o store.Outcomes) int { return o.Quarantined }},
	{"not applicable", "o-na", func(o store.Outcomes) int { return o.NotApplicable }},
}

// outcomeBar is one horizontal bar split by outcome.
func outcomeBar(o store.Outcomes) Chart {
	ch := Chart{Width: 1000, Height: 28, Stretch: true}
	total := o.Total()
	ch.Desc = fmt.Sprintf("%d outcomes: %d compliant, %d non-compliant, %d error, %d quarantined, %d not applicable",
		total, o.Compliant, o.NonCompliant, o.Error, o.Quarantined, o.NotApplicable)
	if total == 0 {
		ch.Rects = append(ch.Rects, Rect{W: 1000, H: 28, Class: "o-none", Title: "no results yet"})
		return ch
	}
	x := 0.0
	for _, s := range outcomeOrder {
		n := s.get(o)
		if n == 0 {
			continue
		}
		w := 1000 * float64(n) / float64(total)
		ch.Rects = append(ch.Rects, Rect{X: x, W: w, H: 28, Class: s.class, Title: fmt.Sprintf("%d %s (%s)", n, s.name, pct(n, total))})
		x += w
	}
	return ch
}

// trendChart draws one stacked column per UTC day of the last days days:
// the share of each outcome among the scans received that day.
func trendChart(days []store.TrendDay, now time.Time, n int) Chart {
	const colW, plotH, top = 32.0, 150.0, 8.0
	ch := Chart{Width: colW*float64(n) + 40, Height: top + plotH + 24}
	byDay := map[int64]store.TrendDay{}
	for _, d := range days {
		byDay[d.Day.Unix()] = d
	}
	first := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(n - 1))
	for _, p := range []int{0, 50, 100} {
		y := top + plotH*(1-float64(p)/100)
		ch.Lines = append(ch.Lines, Rect{X: 36, Y: y, W: colW * float64(n), H: 1, Class: "grid"})
		ch.Labels = append(ch.Labels, Label{X: 32, Y: y + 4, Text: fmt.Sprintf("%d%%", p), Anchor: "end"})
	}
	withData := 0
	for i := range n {
		day := first.AddDate(0, 0, i)
		x := 40 + colW*float64(i)
		if i == 0 || i == n-1 || i == n/2 {
			anchor := "middle"
			if i == n-1 {
				anchor = "end"
			}
			if i == 0 {
				anchor = "start"
			}
			ch.Labels = append(ch.Labels, Label{X: x + colW/2, Y: top + plotH + 18, Text: day.Format("Jan 2"), Anchor: anchor})
		}
		d, ok := byDay[day.Unix()]
		total := d.Outcomes.Total()
		if !ok || total == 0 {
			continue
		}
		withData++
		y := top + plotH
		for _, s := range outcomeOrder {
			v := s.get(d.Outcomes)
			if v == 0 {
				continue
			}
			h := plotH * float64(v) / float64(total)
			y -= h
			ch.Rects = append(ch.Rects, Rect{X: x + 2, Y: y, W: colW - 4, H: h, Class: s.class,
				Title: fmt.Sprintf("%s: %d %s of %d results (%s) in %d scans", day.Format("2006-01-02"), v, s.name, total, pct(v, total), d.Scans)})
		}
	}
	ch.Desc = fmt.Sprintf("Compliance per day over the last %d days; %d days have scans.", n, withData)
	return ch
}
