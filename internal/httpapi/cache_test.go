package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/ntmledger/ntmledger/internal/node"
)

func getBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %v", url, resp.StatusCode, err)
	}
	return b
}

// Current statuses are served from a cache of encoded responses; whatever
// is appended afterwards — to the unit or to another unit its status
// depends on — is in the next read that waits for it.
func TestCachedStatusesFollowEveryAppend(t *testing.T) {
	ts, _ := startNode(t, node.Config{})
	res := post(t, ts.URL, hierarchy(t)...)
	seq := res[len(res)-1].Seq
	district := func(minSeq uint64) (string, int, uint64) {
		var st struct {
			Children map[string]struct {
				Total int `json:"total"`
			} `json:"children"`
			AsOfSeq uint64 `json:"as_of_seq"`
		}
		url := fmt.Sprintf("%s/v1/units/347?min_seq=%d", ts.URL, minSeq)
		getJSON(t, url, &st)
		return string(getBody(t, url)), st.Children["commune"].Total, st.AsOfSeq
	}
	first, n, at := district(seq)
	if n != 3 || at < seq {
		t.Fatalf("district before: %d communes at seq %d, want 3 at %d or later", n, at, seq)
	}
	if again, _, _ := district(seq); again != first {
		t.Errorf("two reads with nothing appended differ:\n%s\n%s", first, again)
	}

	// A commune registered under the district changes the district's
	// status, though no event is the district's own.
	res = post(t, ts.URL, reg(t, "13310", "Xã Tiên Tân", "commune", "347"))
	if _, n, at := district(res[0].Seq); n != 4 || at < res[0].Seq {
		t.Errorf("district after a new commune: %d communes at seq %d, want 4 at %d or later", n, at, res[0].Seq)
	}

	// The unit's own events.
	var before struct{ Version uint64 }
	getJSON(t, ts.URL+"/v1/units/13306", &before)
	res = post(t, ts.URL, assess(t, "13306", "1", "met"))
	var after struct {
		Version uint64
		AsOfSeq uint64 `json:"as_of_seq"`
	}
	getJSON(t, fmt.Sprintf("%s/v1/units/13306?min_seq=%d", ts.URL, res[0].Seq), &after)
	if after.Version != before.Version+1 || after.AsOfSeq < res[0].Seq {
		t.Errorf("commune after an assessment: version %d at seq %d, want %d at %d or later", after.Version, after.AsOfSeq, before.Version+1, res[0].Seq)
	}
}
