package host

import (
	"slices"
	"sync"
)

// maxDenials bounds the list kept per run: a module that asks for a
// thousand paths is shown the first ones, then a count.
const maxDenials = 32

// Denials collects what one run asked for and was refused: paths its
// manifest does not declare, and exec requests no pattern matches. It is
// safe for concurrent use (the run's file system and its host calls add
// to it).
type Denials struct {
	mu    sync.Mutex
	items []string
	more  int
}

// Add records one refusal ("/etc/shadow", `exec ["find","/"]`); a repeat
// is kept once. It reports whether the item was new (so that it is logged
// once).
func (d *Denials) Add(item string) bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if slices.Contains(d.items, item) {
		return false
	}
	if len(d.items) >= maxDenials {
		d.more++
		return d.more == 1
	}
	d.items = append(d.items, item)
	return true
}

// List is the refusals in the order they happened; when more than the
// bound were refused, the last entry says how many were left out.
func (d *Denials) List() []string {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := slices.Clone(d.items)
	if d.more > 0 {
		out = append(out, "… and more")
	}
	return out
}
