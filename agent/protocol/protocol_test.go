package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckinResponseDecoding(t *testing.T) {
	cases := []struct {
		body    string
		want    string // Command + params, or the error
		invalid string
	}{
		{body: `{"id":0,"command":"nop","params":[],"config":{"checkin_interval":3600,"scan_interval":12},"new_field":1}`, want: "nop[]"},
		{body: `{"id":4,"command":"reboot","params":[60]}`, want: "reboot[60]"},
		{body: `{"id":4,"command":"x","params":["a",1.5,true]}`, want: "x[a 1.5 true]"},
		{body: `{"id":4,"command":"x","params":null}`, want: "x[]"},
		{body: `{"id":4,"command":"x","params":[{"a":1}]}`, invalid: "params[0]: want a string"},
		{body: `{"id":4,"command":"x","params":"GetOS"}`, invalid: "want a JSON array"},
		{body: `{"id":0,"params":[]}`, invalid: `"command" is missing`},
		{body: `{"id":0,"command":"scan"}`, invalid: `has no "id"`},
		{body: `{"id":-1,"command":"nop"}`, invalid: "negative"},
	}
	for _, tc := range cases {
		var r CheckinResponse
		err := json.Unmarshal([]byte(tc.body), &r)
		if err == nil {
			err = r.Validate()
		}
		if tc.invalid != "" {
			if err == nil || !strings.Contains(err.Error(), tc.invalid) {
				t.Errorf("%s: err %v, want %q", tc.body, err, tc.invalid)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if got := r.Command + strings.Replace(strings.Trim(strings.Join([]string{"[", strings.Join(r.Params, " "), "]"}, ""), " "), " ]", "]", 1); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.body, got, tc.want)
		}
	}
}

func TestParamsMarshalAsArray(t *testing.T) {
	b, _ := json.Marshal(CheckinResponse{Command: CmdNop})
	if !strings.Contains(string(b), `"params":[]`) {
		t.Fatalf("nil params encode as %s, want []", b)
	}
}
