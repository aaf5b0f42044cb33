package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ntmledger/ntmledger/internal/httpapi"
	"github.com/ntmledger/ntmledger/internal/node"
)

func startAPI(t *testing.T) (*httptest.Server, *node.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := node.Start(ctx, node.Config{DataDir: t.TempDir(), NATSListen: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ts := httptest.NewServer(httpapi.New(n, nil))
	t.Cleanup(ts.Close)
	return ts, n
}

const (
	province = `{"type":"unit.registered","unit":"35","occurred_at":"2015-01-01","actor":{"id":"a","role":"system"},"data":{"name":"Tỉnh Hà Nam","kind":"province"}}`
	district = `{"type":"unit.registered","unit":"347","occurred_at":"2015-01-01","actor":{"id":"a","role":"system"},"data":{"name":"Thành phố Phủ Lý","kind":"district","parent":"35"}}`
	commune  = `{"type":"unit.registered","unit":"13306","occurred_at":"2015-01-01","actor":{"id":"a","role":"system"},"data":{"name":"Xã Phù Vân","kind":"commune","parent":"347"}}`
	assessed = `{"type":"criterion.assessed","unit":"13306","occurred_at":"2019-10-01","actor":{"id":"a","role":"district"},"data":{"tier":"ntm","criterion":"10","status":"met","stage":"district"}}`
	granted  = `{"type":"recognition.granted","unit":"13306","occurred_at":"2019-12-20","actor":{"id":"a","role":"province"},"document":{"number":"3000/QĐ-UBND","date":"2019-12-20","issuer":"UBND tỉnh Hà Nam"},"data":{"tier":"ntm"}}`
)

func do(t *testing.T, method, url, ct, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %s", method, url, b)
	}
	return resp.StatusCode, m
}

func TestPostEventsForms(t *testing.T) {
	ts, _ := startAPI(t)
	code, body := do(t, "POST", ts.URL+"/v1/events", "application/json", province)
	if code != 201 {
		t.Fatalf("object: %d %v", code, body)
	}
	code, body = do(t, "POST", ts.URL+"/v1/events", "application/json", "["+district+"]")
	if code != 201 {
		t.Fatalf("array: %d %v", code, body)
	}
	code, body = do(t, "POST", ts.URL+"/v1/events", "application/x-ndjson", commune+"\n"+assessed+"\n"+granted+"\n")
	if code != 201 {
		t.Fatalf("json lines: %d %v", code, body)
	}
	evs := body["events"].([]any)
	last := evs[2].(map[string]any)
	if len(evs) != 3 || last["seq"].(float64) != 5 || last["version"].(float64) != 3 || last["unit"] != "13306" {
		t.Fatalf("results: %v", evs)
	}
	code, st := do(t, "GET", ts.URL+"/v1/units/13306?min_seq=5", "", "")
	if code != 200 || st["tier"] != "ntm" || st["as_of_seq"].(float64) != 5 || st["name"] != "Xã Phù Vân" || st["province"] != "35" {
		t.Fatalf("status: %d %v", code, st)
	}
	code, st = do(t, "GET", ts.URL+"/v1/units/13306?as_of=2019-11-01", "", "")
	if code != 200 || st["tier"] != "" || st["as_of"] != "2019-11-01" {
		t.Fatalf("status as of a date before the grant: %d %v", code, st)
	}
	code, h := do(t, "GET", ts.URL+"/v1/units/13306/history?type=recognition.granted", "", "")
	if code != 200 || len(h["events"].([]any)) != 1 || h["as_of_seq"].(float64) != 5 {
		t.Fatalf("history: %d %v", code, h)
	}
	code, _ = do(t, "GET", ts.URL+"/v1/units/99999", "", "")
	if code != 404 {
		t.Fatalf("unknown unit: %d", code)
	}
}

// Bad requests get a 4xx whose body names the field, and nothing is written.
func TestBadRequestsNameTheFieldAndWriteNothing(t *testing.T) {
	ts, n := startAPI(t)
	for _, e := range []string{province, district, commune} {
		if code, b := do(t, "POST", ts.URL+"/v1/events", "", e); code != 201 {
			t.Fatalf("setup: %d %v", code, b)
		}
	}
	cases := []struct {
		name  string
		body  string
		code  int
		field string
		index float64
	}{
		{"malformed JSON", `{"type":"criterion.assessed",`, 400, "", 0},
		{"unknown type", strings.Replace(assessed, "criterion.assessed", "criterion.rated", 1), 422, "type", 0},
		{"bad date", strings.Replace(assessed, "2019-10-01", "2019-10-32", 1), 422, "occurred_at", 0},
		{"unknown unit", strings.Replace(assessed, "13306", "13999", 1), 422, "unit", 0},
		{"missing document", "[" + assessed + "," + strings.Replace(granted, `"document":{"number":"3000/QĐ-UBND","date":"2019-12-20","issuer":"UBND tỉnh Hà Nam"},`, "", 1) + "]", 422, "document", 1},
		{"percent outside 0-100", `{"type":"satisfaction.surveyed","unit":"13306","occurred_at":"2019-10-01","actor":{"id":"a","role":"commune"},"data":{"percent":120}}`, 422, "data.percent", 0},
		{"advanced without ntm", strings.Replace(granted, `"tier":"ntm"`, `"tier":"advanced"`, 1), 422, "data.tier", 0},
	}
	before, _ := n.StreamLastSeq(context.Background())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, "POST", ts.URL+"/v1/events", "", tc.body)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %v", code, tc.code, body)
			}
			if msg, _ := body["error"].(string); msg == "" {
				t.Fatalf("no error message: %v", body)
			}
			if tc.field != "" && (body["field"] != tc.field || body["index"] != tc.index) {
				t.Fatalf("field %v index %v, want %s at %v: %v", body["field"], body["index"], tc.field, tc.index, body["error"])
			}
			if after, _ := n.StreamLastSeq(context.Background()); after != before {
				t.Fatalf("stream grew from %d to %d", before, after)
			}
		})
	}
	// A stale expected_version is a 409.
	stale := strings.Replace(assessed, `"unit":"13306"`, `"unit":"13306","expected_version":7`, 1)
	if code, body := do(t, "POST", ts.URL+"/v1/events", "", stale); code != 409 || body["field"] != "expected_version" {
		t.Fatalf("stale expected_version: %d %v", code, body)
	}
	if code, body := do(t, "GET", ts.URL+"/v1/units/13306?as_of=yesterday", "", ""); code != 400 || !strings.Contains(body["error"].(string), "as_of") {
		t.Fatalf("bad as_of: %d %v", code, body)
	}
}
