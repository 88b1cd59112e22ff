package server

import (
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// BenchmarkCheckin measures the server side of one check-in (handler and
// database, no network) with 10,000 registered devices.
func BenchmarkCheckin(b *testing.B) {
	for _, tc := range []struct {
		name string
		open func(testing.TB, int) []store.Store
	}{{"sqlite", store.OpenTestSQLite}, {"postgres", store.OpenTestPostgres}} {
		b.Run(tc.name, func(b *testing.B) {
			st := tc.open(b, 1)[0]
			ctx := b.Context()
			st.SetSetting(ctx, fleet.SettingAccessKeyHash, hashHex(testAccessKey))
			st.SetSetting(ctx, fleet.SettingAdminTokenHash, hashHex(testAdminToken))
			s, err := New(ctx, Config{Store: st})
			if err != nil {
				b.Fatal(err)
			}
			const n = 10000
			devs := make([]store.NewDevice, n)
			toks := make([]string, n)
			for i := range devs {
				toks[i] = fleet.NewToken()
				devs[i] = store.NewDevice{UUID: uuid.NewString(), Hostname: fmt.Sprint("h", i), TokenHash: fleet.HashToken(toks[i])}
			}
			if err := st.RegisterDevices(ctx, devs, time.Now()); err != nil {
				b.Fatal(err)
			}
			h := s.Handler()
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1)) % n
					req := httptest.NewRequest("POST", "/checkin?uptime=1&ver=1&tz=%2B0000", nil)
					req.Header.Set("Authorization", "Bearer "+toks[i])
					req.Header.Set(protocol.HeaderDeviceUUID, devs[i].UUID)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
			b.StopTimer()
			if err := s.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
