package command

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/protocol"
)

func TestNewTableRefusesDuplicatesAndIncompleteEntries(t *testing.T) {
	run := func(context.Context, []string) (any, error) { return nil, nil }
	if _, err := NewTable(Handler{Type: "scan", Run: run}, Handler{Type: "scan", Run: run}); err == nil || !strings.Contains(err.Error(), `duplicate command type "scan"`) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := NewTable(Handler{Type: "scan"}); err == nil {
		t.Fatal("entry without Run accepted")
	}
	tbl, err := NewTable(Handler{Type: "b", Run: run}, Handler{Type: "a", Run: run, Processor: ProcessorWasm})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tbl.Types(), ","); got != "a,b" {
		t.Fatalf("Types = %s", got)
	}
	if h, _ := tbl.Lookup("b"); h.Processor != ProcessorLegacy {
		t.Fatalf("default processor %q, want legacy", h.Processor)
	}
}

// The seed's three lines, keys in its order.
var seedLines = []*regexp.Regexp{
	regexp.MustCompile(`^time=\S+ level=INFO msg="accepted command" command_id=7 command_type=execCmd command_processor=legacy command_name=GetOS command=execCmd$`),
	regexp.MustCompile(`^time=\S+ level=INFO msg="executing command" start_time=2026-11-25T12:00:00.000Z command_id=7 command_type=execCmd command_processor=legacy command_name=GetOS command=execCmd$`),
	regexp.MustCompile(`^time=\S+ level=INFO msg="command end" elapsed=1.5s command_id=7 command_type=execCmd command_processor=legacy command_name=GetOS command=execCmd$`),
}

func clock(ts ...time.Time) func() time.Time {
	i := 0
	return func() time.Time { t := ts[i]; i++; return t }
}

func TestExecuteLogsTheSeedLines(t *testing.T) {
	var buf bytes.Buffer
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tbl, _ := NewTable(Handler{Type: protocol.CmdExec, Run: func(_ context.Context, p []string) (any, error) {
		return map[string]string{"ran": p[0]}, nil
	}})
	p := &Processor{Log: slog.New(slog.NewTextHandler(&buf, nil)), Table: tbl, Now: clock(start, start.Add(1500*time.Millisecond))}
	res := p.Execute(t.Context(), Command{ID: 7, Type: protocol.CmdExec, Params: []string{"GetOS"}})
	if res.Status != protocol.StatusOK || string(res.Output) != `{"ran":"GetOS"}` || res.ElapsedMS != 1500 || !res.StartedAt.Equal(start) {
		t.Fatalf("result %+v", res)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got:\n%s", buf.String())
	}
	for i, re := range seedLines {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d\n got  %s\n want %s", i+1, lines[i], re)
		}
	}
}

func TestExecuteFailuresGiveErrorResults(t *testing.T) {
	tbl, _ := NewTable(
		Handler{Type: "fails", Run: func(context.Context, []string) (any, error) { return nil, errors.New("disk on fire") }},
		Handler{Type: "panics", Run: func(context.Context, []string) (any, error) { panic("boom") }},
		Handler{Type: "unencodable", Run: func(context.Context, []string) (any, error) { return func() {}, nil }},
		Handler{Type: "runWorklet", Processor: ProcessorWasm, Run: func(context.Context, []string) (any, error) { return nil, nil }},
	)
	for _, tc := range []struct {
		cmd      Command
		wantErr  string
		wantLine string
	}{
		{Command{ID: 1, Type: "nosuch"}, `unknown command "nosuch"`, `msg="command failed"`},
		{Command{ID: 2, Type: "fails"}, "disk on fire", `msg="command failed"`},
		{Command{ID: 3, Type: "panics"}, "panicked: boom", `msg="command panicked"`},
		{Command{ID: 4, Type: "unencodable"}, "encoding output", `msg="command failed"`},
		{Command{ID: 5, Type: "runWorklet", Params: []string{"ssh-no-root-login", "evaluate"}}, "", `command_processor=wasm command_name=ssh-no-root-login command=runWorklet`},
	} {
		var buf bytes.Buffer
		p := &Processor{Log: slog.New(slog.NewTextHandler(&buf, nil)), Table: tbl}
		res := p.Execute(t.Context(), tc.cmd)
		if tc.wantErr == "" {
			if res.Status != protocol.StatusOK || string(res.Output) != "null" {
				t.Errorf("%s: %+v", tc.cmd.Type, res)
			}
		} else if res.Status != protocol.StatusError || !strings.Contains(res.Error, tc.wantErr) {
			t.Errorf("%s: result %+v, want error containing %q", tc.cmd.Type, res, tc.wantErr)
		}
		if !strings.Contains(buf.String(), tc.wantLine) || !strings.Contains(buf.String(), `msg="command end"`) {
			t.Errorf("%s: log lacks %q or the end line:\n%s", tc.cmd.Type, tc.wantLine, buf.String())
		}
	}
}
