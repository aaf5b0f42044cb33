package projections

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/ntmledger/ntmledger/internal/projector"
)

// loadName reads the name a summary holds wherever it stands, escapes
// included, without decoding the rest; a unit without a summary has none.
func TestLoadName(t *testing.T) {
	db, err := projector.OpenDB(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	written, err := json.Marshal(&UnitSummary{Unit: "13306", Name: `Xã "Phù Vân" <mới>`, Kind: "commune", Criteria: map[string]CriteriaCount{"ntm": {Met: 19, Total: 19}}})
	if err != nil {
		t.Fatal(err)
	}
	for unit, body := range map[string]string{
		"13306": string(written),
		"13426": `{"unit":"13426","kind":"commune","criteria":{"ntm":{"met":1,"total":19}},"eligible":[],"name":"Xã Kim B\u00ecnh"}`,
		"13427": `{"unit":"13427","kind":"commune"}`,
	} {
		if err := db.Set(summaryKey(unit), []byte(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	for unit, want := range map[string]string{"13306": `Xã "Phù Vân" <mới>`, "13426": "Xã Kim Bình", "13427": "", "99999": ""} {
		got, err := loadName(db, unit)
		if err != nil || got != want {
			t.Errorf("loadName(%s) = %q, %v; want %q", unit, got, err, want)
		}
	}
	if err := db.Set(summaryKey("bad"), []byte(`{"unit":"bad","name":7}`), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := loadName(db, "bad"); err == nil {
		t.Error("a name that is not a string was read")
	}
}
