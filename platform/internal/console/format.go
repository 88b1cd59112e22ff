package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/amagent/amagent/platform/internal/store"
)

var funcs = template.FuncMap{
	"when":      when,
	"ago":       ago,
	"bytes":     humanBytes,
	"pct":       pct,
	"join":      strings.Join,
	"clip":      clip,
	"short":     func(s string) string { return clip(s, 12) },
	"outcomeOf": outcomeClass,
	"table":     func(p *page, t *Table) tableArgs { return tableArgs{P: p, T: t} },
}

// when shows a time in UTC with how long ago it was; zero is "never".
func when(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC") + " (" + ago(now.Sub(t)) + ")"
}

func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// pct is part of whole in percent, "–" when whole is 0.
func pct(part, whole int) string {
	if whole == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(part)/float64(whole))
}

// clip cuts s to n runes with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// outcomeClass is the CSS class of an outcome or status.
func outcomeClass(status string) string {
	switch status {
	case store.OutcomeCompliant, "succeeded", "ok", "online":
		return "o-ok"
	case store.OutcomeNonCompliant, "failed", "offline":
		return "o-bad"
	case store.OutcomeNotApplicable, "never", "canceled", "queued":
		return "o-na"
	case store.OutcomeQuarantined:
		return "o-q"
	case "":
		return ""
	}
	if strings.HasPrefix(status, "sent") {
		return "o-na"
	}
	return "o-err"
}

// deviceStatus is online, offline or never.
func (c *Console) deviceStatus(lastSeen, now time.Time) string {
	switch {
	case lastSeen.IsZero():
		return store.StatusNever
	case !lastSeen.Before(c.onlineSince(now)):
		return store.StatusOnline
	}
	return store.StatusOffline
}
