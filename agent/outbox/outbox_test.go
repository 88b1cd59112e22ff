package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/state"
)

func TestOrderAndRestart(t *testing.T) {
	dir := t.TempDir()
	st, _ := state.NewFileStore(dir)
	log := slog.New(slog.DiscardHandler)
	o, err := Open(st, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if err := o.Add(KindResult, fmt.Sprintf("/commands/%d/result", i), []byte(`{"status":"ok"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Add(KindScan, "/scan", []byte(`{"scan_id":"s"}`)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(st.Path(Key)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("outbox file %v %v", fi, err)
	}
	// Delivery fails after the first item: the rest stays.
	var paths []string
	n, err := o.Flush(t.Context(), func(_ context.Context, it Item) error {
		if len(paths) == 1 {
			return errors.New("connection refused")
		}
		paths = append(paths, it.Path)
		return nil
	})
	if n != 1 || err == nil || o.Len() != 3 {
		t.Fatalf("n=%d err=%v len=%d", n, err, o.Len())
	}
	// A restart keeps the order.
	o2, err := Open(st, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o2.Flush(t.Context(), func(_ context.Context, it Item) error { paths = append(paths, it.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	want := "/commands/1/result /commands/2/result /commands/3/result /scan"
	if got := strings.Join(paths, " "); got != want || o2.Len() != 0 {
		t.Fatalf("delivered %q, want %q (left %d)", got, want, o2.Len())
	}
	// And a new item after a restart gets a fresh sequence number.
	o2.Add(KindResult, "/commands/9/result", []byte(`{}`))
	if it := o2.Items()[0]; it.Seq <= 4 {
		t.Fatalf("seq reused: %d", it.Seq)
	}
}

func TestBoundDropsOldestScansFirst(t *testing.T) {
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	body := []byte(`"` + strings.Repeat("x", 900) + `"`)
	o, _ := Open(state.NewMemStore(), 5*(int64(len(body))+itemOverhead+20), log)
	o.Add(KindResult, "/commands/1/result", body)
	o.Add(KindScan, "/scan#1", body)
	o.Add(KindResult, "/commands/2/result", body)
	o.Add(KindScan, "/scan#2", body)
	o.Add(KindScan, "/scan#3", body) // 5 items fit
	o.Add(KindResult, "/commands/3/result", body)
	o.Add(KindResult, "/commands/4/result", body)
	var got []string
	for _, it := range o.Items() {
		got = append(got, it.Path)
	}
	want := "/commands/1/result /commands/2/result /scan#3 /commands/3/result /commands/4/result"
	if strings.Join(got, " ") != want {
		t.Fatalf("kept %v, want %s", got, want)
	}
	if c := strings.Count(logBuf.String(), "outbox full: dropped oldest report"); c != 2 || !strings.Contains(logBuf.String(), "path=/scan#1") {
		t.Fatalf("drops not logged: %s", logBuf.String())
	}
	// Only results left to drop: the oldest result goes.
	o.Add(KindResult, "/commands/5/result", body)
	o.Add(KindResult, "/commands/6/result", body)
	if first := o.Items()[0].Path; first != "/commands/2/result" {
		t.Fatalf("first is %s", first)
	}
	// An item larger than the whole outbox is refused.
	if err := o.Add(KindScan, "/scan", []byte(`"`+strings.Repeat("y", 10000)+`"`)); err == nil {
		t.Fatal("huge item accepted")
	}
	if err := o.Add(KindScan, "/scan", []byte(`not json`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}

func TestPermanentFailureDropped(t *testing.T) {
	o, _ := Open(state.NewMemStore(), 0, slog.New(slog.DiscardHandler))
	o.Add(KindResult, "/a", []byte(`1`))
	o.Add(KindResult, "/b", []byte(`2`))
	var sent []string
	n, err := o.Flush(t.Context(), func(_ context.Context, it Item) error {
		if it.Path == "/a" {
			return fmt.Errorf("400: %w", ErrPermanent)
		}
		sent = append(sent, it.Path)
		return nil
	})
	if err != nil || n != 1 || o.Len() != 0 || len(sent) != 1 {
		t.Fatalf("n=%d err=%v len=%d", n, err, o.Len())
	}
}

func TestCorruptOutbox(t *testing.T) {
	dir := t.TempDir()
	st, _ := state.NewFileStore(dir)
	st.Write(Key, []byte("{not json"))
	var logBuf bytes.Buffer
	o, err := Open(st, 0, slog.New(slog.NewTextHandler(&logBuf, nil)))
	if err != nil || o.Len() != 0 {
		t.Fatalf("%v %d", err, o.Len())
	}
	if _, err := os.Stat(st.Path(Key) + ".corrupt"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logBuf.String(), "outbox state file is corrupt") {
		t.Fatal(logBuf.String())
	}
}
