package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDatabaseEnv names the environment variable with the PostgreSQL URL
// the tests use.
const TestDatabaseEnv = "AMPLATFORM_TEST_DATABASE_URL"

// OpenTestSQLite opens n handles on one fresh SQLite database in a
// temporary directory, as n replicas would.
func OpenTestSQLite(t testing.TB, n int) []Store {
	t.Helper()
	dir := t.TempDir()
	return openTestN(t, n, "OpenSQLite", func() (Store, error) { return OpenSQLite(context.Background(), dir) })
}

// OpenTestPostgres opens n handles on a fresh schema of the database named
// by AMPLATFORM_TEST_DATABASE_URL. Without it the test is skipped, except
// when CI=true, where it fails: CI must run the PostgreSQL suite.
func OpenTestPostgres(t testing.TB, n int) []Store {
	t.Helper()
	u := TestPostgresURL(t)
	return openTestN(t, n, "OpenPostgres", func() (Store, error) { return OpenPostgres(context.Background(), u) })
}

// openTestN opens n handles, each closed when the test ends.
func openTestN(t testing.TB, n int, what string, open func() (Store, error)) []Store {
	t.Helper()
	out := make([]Store, n)
	for i := range out {
		s, err := open()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Cleanup(func() { s.Close() })
		out[i] = s
	}
	return out
}

// TestPostgresURL makes a fresh schema in the database named by
// AMPLATFORM_TEST_DATABASE_URL, dropped when the test ends, and returns
// the URL that selects it (skipping or failing as OpenTestPostgres does).
func TestPostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(TestDatabaseEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set but CI=true: the PostgreSQL tests must run in CI", TestDatabaseEnv)
		}
		t.Skipf("%s is not set; PostgreSQL tests skipped", TestDatabaseEnv)
	}
	schema := fmt.Sprintf("t_%d", time.Now().UnixNano())
	u, err := PostgresSchemaURL(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			db.Close()
		}
	})
	return u
}

// PostgresSchemaURL makes schema in the database at base unless it is
// there, and returns the URL that selects it.
func PostgresSchemaURL(base, schema string) (string, error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA IF NOT EXISTS ` + schema); err != nil {
		return "", fmt.Errorf("postgres: create schema %s: %w", schema, err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, nil
}
