package checkin

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/amagent/amagent/agent/protocol"
)

// Commands interrupted by the agent's shutdown, and commands offered again.
//
// A command whose run the agent's own shutdown cut short gets no result:
// an error saying "context canceled" would end it on the platform, which
// should instead hand it to the agent again. Every check-in names the
// agent's run (Client.Run, the X-Agent-Run header, new at every start),
// and the platform offers again at once a command it handed to an earlier
// run that never answered it (platform/DESIGN.md). A command that
// finished before the shutdown is reported as usual (its result waits in
// the outbox): if the platform offers it again before the outbox is
// delivered, the loop delivers the result and does not run the command a
// second time.

// interrupted says whether a result is the shutdown's doing rather than
// the command's: an error, or a worklet run the agent canceled.
func interrupted(res protocol.CommandResult) bool {
	if res.Status == protocol.StatusError {
		return true
	}
	var w struct {
		ErrorKind string `json:"error_kind"`
	}
	return json.Unmarshal(res.Output, &w) == nil && w.ErrorKind == "canceled"
}

// resultWaiting says whether the outbox holds a result for the command.
func (l *Loop) resultWaiting(id int64) bool {
	if l.o.Outbox == nil {
		return false
	}
	path := fmt.Sprintf(protocol.PathResult, id)
	for _, it := range l.o.Outbox.Items() {
		if it.Path == path {
			return true
		}
	}
	return false
}

// answeredSet remembers the last commands this run answered, so that one
// offered again (its result was late past the platform's timeout) is not
// run twice.
type answeredSet struct {
	mu    sync.Mutex
	ids   map[int64]bool
	order []int64
}

const maxAnswered = 256

func (s *answeredSet) add(id int64) {
	if id == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[int64]bool{}
	}
	if s.ids[id] {
		return
	}
	s.ids[id] = true
	s.order = append(s.order, id)
	if len(s.order) > maxAnswered {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
}

func (s *answeredSet) has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}
