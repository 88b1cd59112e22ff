package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	_ "modernc.org/sqlite"           // registers the "sqlite" driver
)

// SQLiteFile is the database file name inside a data directory.
const SQLiteFile = "amplatform.db"

// OpenSQLite opens (creating and migrating) the embedded database in dir.
// It uses WAL mode, a busy timeout, one writer connection and a small pool
// of readers.
func OpenSQLite(ctx context.Context, dir string) (Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dir, SQLiteFile)
	// Create the file 0600 first: SQLite gives its -wal and -shm files the
	// database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("database file: %w", err)
	}
	f.Close()
	dsn := func(extra string) string {
		v := url.Values{}
		v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
		v.Add("_pragma", "journal_mode(WAL)")
		v.Add("_pragma", "synchronous(NORMAL)")
		v.Add("_pragma", "foreign_keys(ON)")
		// A bounded write-ahead log (sqlite_disk.go).
		v.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutoCheckpoint))
		v.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
		// Reads through a memory map of the file (shared by every
		// connection, no read call per page) and a larger page cache per
		// connection than the default 2 MiB: the console's fleet-wide
		// pages read tens of thousands of rows at random (issue 13: 2-3x
		// faster at 100,000 devices).
		v.Add("_pragma", fmt.Sprintf("mmap_size(%d)", sqliteMmapSize))
		v.Add("_pragma", fmt.Sprintf("cache_size(%d)", -sqliteCacheKiB))
		if extra != "" {
			v.Add("_txlock", extra)
		}
		return "file:" + path + "?" + v.Encode()
	}
	w, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(2, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	s := &sqlStore{d: sqliteDialect, w: w, r: r}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.stopCheckpoints = s.startCheckpoints(CheckpointInterval)
	return s, nil
}

// OpenPostgres connects to a PostgreSQL database by URL and migrates it.
//
// Its sessions run without parallel query workers unless the URL sets
// max_parallel_workers_per_gather: the platform's queries are short and
// many at once, and starting workers for one of them cost more than it
// saved (the console's worklet and device lists at 100,000 devices took
// 2-20 times longer with them on a 2-core machine).
func OpenPostgres(ctx context.Context, dbURL string) (Store, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("postgres URL: %w", err)
	}
	if _, set := cfg.RuntimeParams["max_parallel_workers_per_gather"]; !set {
		cfg.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(max(8, runtime.GOMAXPROCS(0)*4))
	db.SetMaxIdleConns(max(8, runtime.GOMAXPROCS(0)*4))
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s := &sqlStore{d: postgresDialect, w: db, r: db}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Open opens PostgreSQL when dbURL is set, else SQLite in dataDir.
func Open(ctx context.Context, dataDir, dbURL string) (Store, error) {
	switch {
	case dbURL != "":
		return OpenPostgres(ctx, dbURL)
	case dataDir != "":
		return OpenSQLite(ctx, dataDir)
	}
	return nil, fmt.Errorf("no database: give --data DIR (embedded SQLite) or --database postgres://...")
}
