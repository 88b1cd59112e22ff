package linux

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// UtmpSize is the size of one utmp/wtmp record written by glibc on 64-bit
// Linux (x86_64, arm64): struct utmp with 32-bit time fields.
const UtmpSize = 384

// utmp record types (utmp(5)).
const (
	UtmpBootTime    = 2
	UtmpUserProcess = 7
	UtmpDeadProcess = 8
)

// UtmpRecord is one decoded utmp/wtmp record.
type UtmpRecord struct {
	Type int16
	PID  int32
	Line string // terminal: "pts/0", "tty1"
	User string
	Host string
	Time time.Time
}

// Offsets in struct utmp (little-endian).
const (
	offType = 0
	offPID  = 4
	offLine = 8   // char[32]
	offUser = 44  // char[32]
	offHost = 76  // char[256]
	offSec  = 340 // int32 tv_sec
	offUsec = 344 // int32 tv_usec
)

// ParseUtmpRecord decodes one 384-byte record.
func ParseUtmpRecord(b []byte) (UtmpRecord, error) {
	if len(b) != UtmpSize {
		return UtmpRecord{}, fmt.Errorf("utmp record: %d bytes, want %d", len(b), UtmpSize)
	}
	le := binary.LittleEndian
	r := UtmpRecord{
		Type: int16(le.Uint16(b[offType:])),
		PID:  int32(le.Uint32(b[offPID:])),
		Line: cstring(b[offLine : offLine+32]),
		User: cstring(b[offUser : offUser+32]),
		Host: cstring(b[offHost : offHost+256]),
	}
	sec := int64(int32(le.Uint32(b[offSec:])))
	usec := int64(int32(le.Uint32(b[offUsec:])))
	if sec != 0 {
		r.Time = time.Unix(sec, usec*1000).UTC()
	}
	if r.Type < 0 || r.Type > 9 {
		return r, fmt.Errorf("utmp record: unknown type %d (not a utmp file of this architecture?)", r.Type)
	}
	return r, nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// ParseUtmp decodes a whole utmp or wtmp file. A size that is not a
// multiple of the record size, or a record of unknown type, is an error.
func ParseUtmp(b []byte) ([]UtmpRecord, error) {
	if len(b)%UtmpSize != 0 {
		return nil, fmt.Errorf("utmp: %d bytes is not a multiple of the %d-byte record", len(b), UtmpSize)
	}
	out := make([]UtmpRecord, 0, len(b)/UtmpSize)
	for i := 0; i < len(b); i += UtmpSize {
		r, err := ParseUtmpRecord(b[i : i+UtmpSize])
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i/UtmpSize, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// LastLogin returns the last user login in wtmp records (the last
// USER_PROCESS record), and false when there is none.
func LastLogin(recs []UtmpRecord) (UtmpRecord, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Type == UtmpUserProcess && recs[i].User != "" {
			return recs[i], true
		}
	}
	return UtmpRecord{}, false
}

// Sessions returns the logged-on sessions of a utmp file: its
// USER_PROCESS records.
func Sessions(recs []UtmpRecord) []UtmpRecord {
	var out []UtmpRecord
	for _, r := range recs {
		if r.Type == UtmpUserProcess && r.User != "" {
			out = append(out, r)
		}
	}
	return out
}

// EncodeUtmpRecord is the inverse of ParseUtmpRecord, used to build test
// fixtures in the documented format.
func EncodeUtmpRecord(r UtmpRecord) []byte {
	b := make([]byte, UtmpSize)
	le := binary.LittleEndian
	le.PutUint16(b[offType:], uint16(r.Type))
	le.PutUint32(b[offPID:], uint32(r.PID))
	copy(b[offLine:offLine+31], r.Line)
	copy(b[offUser:offUser+31], r.User)
	copy(b[offHost:offHost+255], r.Host)
	if !r.Time.IsZero() {
		le.PutUint32(b[offSec:], uint32(int32(r.Time.Unix())))
		le.PutUint32(b[offUsec:], uint32(int32(r.Time.Nanosecond()/1000)))
	}
	return b
}
