package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// SQLite on small and full disks (issue 10 finding 6). In WAL mode every
// write goes to amplatform.db-wal first and is copied into the database
// by a checkpoint. SQLite's default checkpoints only after 1,000 pages
// (4 MiB), never shrinks the log, and cannot checkpoint while a reader
// holds an old snapshot: on a 4 MiB volume the log alone filled the disk,
// and since every later write failed, no checkpoint ever ran again, even
// after space was freed. So:
//
//   - a checkpoint is attempted after every walAutoCheckpoint pages
//     (PASSIVE, by the committing connection, SQLite's own mechanism);
//   - journalSizeLimit truncates the log when a checkpoint rewinds it, so
//     that the log's file stays near that size instead of its high mark;
//   - every CheckpointInterval the writer runs wal_checkpoint(TRUNCATE),
//     which waits for readers and empties the log file whatever its size:
//     it is what catches up after a long reader, and what frees the log's
//     space after a failed write, so that writes resume without a restart
//     once the disk has room.
//
// A write that fails for lack of space returns its error (the agent keeps
// the report in its outbox and sends it again); nothing is left half
// written, since SQLite rolls the transaction back.
const (
	walAutoCheckpoint = 256     // pages of 4 KiB: 1 MiB
	journalSizeLimit  = 1 << 20 // bytes
	busyTimeoutMS     = 10000   // the DSN's busy_timeout

	sqliteMmapSize = 1 << 30 // bytes of the file read through a memory map
	sqliteCacheKiB = 16 << 10
)

// CheckpointInterval is how often an SQLite store truncates its log.
var CheckpointInterval = 10 * time.Second

// startCheckpoints runs checkpoint every interval until the returned
// stop is called.
func (s *sqlStore) startCheckpoints(every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = s.checkpoint(ctx)
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// checkpoint copies the write-ahead log into the database and truncates
// it (SQLite only). It runs on the writer's connection with no busy wait:
// a TRUNCATE checkpoint that waited for a long reader would hold every
// write back meanwhile, so it does what it can now and the next one
// finishes the job.
func (s *sqlStore) checkpoint(ctx context.Context) error {
	if s.d.name != "sqlite" {
		return nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeoutMS))
	var busy, frames, done int
	return conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done)
}
