package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/node"
)

// GET /v1/summary counts units by tier per province, reads its own writes
// with min_seq, and answers a past date; GET / is the dashboard.
func TestSummaryAndDashboardOverHTTP(t *testing.T) {
	ts, _ := startNode(t, node.Config{})
	post(t, ts.URL, hierarchy(t)...)
	doc := &events.Document{Number: "3000/QĐ-UBND", Date: "2019-12-20", Issuer: "UBND tỉnh Hà Nam"}
	res := post(t, ts.URL, line(t, events.RecognitionGranted, "13306", "2019-12-20", doc, map[string]any{"tier": "ntm"}))

	type counts struct {
		Total  int            `json:"total"`
		Tiers  map[string]int `json:"tiers"`
		AtRisk int            `json:"at_risk"`
	}
	var sum struct {
		Country   map[string]counts `json:"country"`
		Provinces []struct {
			Unit  string            `json:"unit"`
			Name  string            `json:"name"`
			Units map[string]counts `json:"units"`
		} `json:"provinces"`
		Recent []struct {
			Unit string `json:"unit"`
		} `json:"recent"`
		AsOfSeq uint64 `json:"as_of_seq"`
	}
	url := fmt.Sprintf("%s/v1/summary?min_seq=%d", ts.URL, res[0].Seq)
	if code := getJSON(t, url, &sum); code != http.StatusOK {
		t.Fatalf("GET %s: %d", url, code)
	}
	c := sum.Country["commune"]
	if c.Total != 3 || c.Tiers["ntm"] != 1 || c.Tiers["none"] != 2 || sum.AsOfSeq < res[0].Seq {
		t.Fatalf("summary: %+v", sum)
	}
	if len(sum.Provinces) != 1 || sum.Provinces[0].Unit != "35" || sum.Provinces[0].Name != "Tỉnh Hà Nam" || sum.Provinces[0].Units["commune"].Tiers["ntm"] != 1 {
		t.Fatalf("provinces: %+v", sum.Provinces)
	}
	if len(sum.Recent) != 1 || sum.Recent[0].Unit != "13306" {
		t.Fatalf("recent: %+v", sum.Recent)
	}
	// The same again comes from the cache, unchanged.
	var again struct {
		AsOfSeq uint64 `json:"as_of_seq"`
	}
	getJSON(t, ts.URL+"/v1/summary", &again)
	if again.AsOfSeq != sum.AsOfSeq {
		t.Errorf("second read at seq %d, first at %d", again.AsOfSeq, sum.AsOfSeq)
	}

	var past struct {
		Country map[string]counts `json:"country"`
	}
	getJSON(t, ts.URL+"/v1/summary?as_of=2019-12-19", &past)
	if got := past.Country["commune"]; got.Tiers["ntm"] != 0 || got.Total != 3 {
		t.Errorf("summary on 2019-12-19: %+v", got)
	}
	var bad struct {
		Error string `json:"error"`
	}
	if code := getJSON(t, ts.URL+"/v1/summary?as_of=19-12-2019", &bad); code != http.StatusBadRequest || !strings.Contains(bad.Error, "as_of") {
		t.Errorf("bad as_of: %d %q", code, bad.Error)
	}

	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "/assets/app.js?v=") {
		t.Errorf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
