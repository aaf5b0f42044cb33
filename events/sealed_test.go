package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

func sealedSeeds(t testing.TB) [][]byte {
	doc := &Document{Number: "123/QĐ-UBND", Date: "2024-12-30", Issuer: "UBND tỉnh Hà Nam"}
	evs := []*Event{
		{ID: "01J0000000000000000000000A", Type: CriterionAssessed, Unit: "13306", OccurredAt: "2024-10-01", RecordedAt: "2026-01-01T00:00:00Z",
			Actor: Actor{ID: "u1", Role: "district", Name: "Phòng Nông nghiệp"}, Data: json.RawMessage(`{"criterion":"17.1","status":"met","tier":"ntm","value":92.5}`), Version: 3, PrevHash: strings.Repeat("ab", 32)},
		{ID: "01J0000000000000000000000B", Type: RecognitionGranted, Unit: "13306", OccurredAt: "2024-12-30", RecordedAt: "2026-01-01T00:00:00Z",
			Actor: Actor{ID: "ubnd-35", Role: "province"}, Document: doc, Data: json.RawMessage(`{"tier":"ntm"}`), Version: 1},
		{ID: "01J0000000000000000000000C", Type: UnitRegistered, Unit: "35", OccurredAt: "2015-01-01", RecordedAt: "2026-01-01T00:00:00Z",
			Actor: Actor{ID: "sys", Role: "system"}, Document: &Document{Number: ""}, Version: 18446744073709551615},
		{ID: "01J0000000000000000000000D", Type: CriterionAssessed, Unit: "13306", OccurredAt: "2024-10-01", RecordedAt: "2026-01-01T00:00:00Z",
			Actor: Actor{ID: "u\"1", Role: "district", Name: "tab\there \u2028"}, Data: json.RawMessage(`{"note":"a\\"b"}`), Version: 4, PrevHash: strings.Repeat("cd", 32)},
	}
	var out [][]byte
	for _, ev := range evs {
		b, err := Seal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// reseal replaces the hash at the end of b, if it has one, by the hash of
// the bytes before it: what someone writing to the stream directly could
// do to make a body of their own consistent with its hash field.
func reseal(b []byte) []byte {
	const hashKey = `,"hash":"`
	n := len(b)
	k := n - 2 - 64 - len(hashKey)
	if k < 0 || string(b[k:k+len(hashKey)]) != hashKey || !strings.HasSuffix(string(b), `"}`) {
		return b
	}
	pre := append(append([]byte(nil), b[:k]...), '}')
	sum := sha256.Sum256(pre)
	out := append([]byte(nil), b[:k+len(hashKey)]...)
	out = append(out, hex.EncodeToString(sum[:])...)
	return append(out, '"', '}')
}

// TestDecodeSealedReadsWhatSealWrote: every sealed body takes the fast path
// and reads back as the general decoder reads it; bodies with escapes,
// other layouts or a wrong hash do not take it.
func TestDecodeSealedReadsWhatSealWrote(t *testing.T) {
	for i, b := range sealedSeeds(t) {
		ev := decodeSealed(b)
		escaped := strings.Contains(string(b), `\`)
		if escaped {
			if ev != nil {
				t.Fatalf("body %d has escapes and took the fast path: %s", i, b)
			}
			continue
		}
		if ev == nil {
			t.Fatalf("sealed body %d did not take the fast path: %s", i, b)
		}
		checkSameAsGeneral(t, b, ev)
		spaced := reseal([]byte(strings.Replace(string(b), `,"version":`, `, "version":`, 1)))
		if decodeSealed(spaced) != nil {
			t.Fatalf("body %d with a space took the fast path", i)
		}
		altered := []byte(string(b))
		altered[10]++
		if decodeSealed(altered) != nil {
			t.Fatalf("body %d altered took the fast path", i)
		}
	}
}

func checkSameAsGeneral(t *testing.T, b []byte, ev *Event) {
	t.Helper()
	var g Event
	if err := jsonv2.Unmarshal(b, &g, jsonv2.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("fast path accepted what the general decoder rejects (%v): %q", err, b)
	}
	fast, _ := json.Marshal(ev)
	general, _ := json.Marshal(&g)
	if string(fast) != string(general) {
		t.Fatalf("fast path and general decoder disagree on %q:\nfast    %s\ngeneral %s", b, fast, general)
	}
	h, err := Hash(&g)
	if err != nil || h != ev.Hash {
		t.Fatalf("fast path accepted a body whose fields hash to %s, not its hash %s (%v): %q", h, ev.Hash, err, b)
	}
}

// FuzzDecodeSealed: whatever the fast path accepts — even a body made
// consistent with its own hash field — the general decoder reads the same,
// and its fields hash to its hash: the fast path never accepts a body the
// chain check of the decoded fields would refuse.
func FuzzDecodeSealed(f *testing.F) {
	for _, b := range sealedSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, body := range [][]byte{b, reseal(b)} {
			if ev := decodeSealed(body); ev != nil {
				checkSameAsGeneral(t, body, ev)
			}
		}
	})
}

// FuzzCanonicalAsIs: what canonicalAsIs passes as it is, the full decode
// and rewrite gives back byte for byte.
func FuzzCanonicalAsIs(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,false,null,"x"],"c":{"d":-0.5e+10}}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`,
		`[1, 2]`, `"Việt\u00e9"`, `{"criterion":"17.1","stage":"district","status":"met","tier":"ntm","value":92.5}`, `01`, `1.`, `-`, `{"":0}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !canonicalAsIs(raw) {
			return
		}
		slow, err := canonicalSlow(raw)
		if err != nil || string(slow) != string(raw) {
			t.Fatalf("passed as canonical: %q; decoded and written again: %q (%v)", raw, slow, err)
		}
	})
}

func TestCanonicalAsIs(t *testing.T) {
	for s, want := range map[string]bool{
		`{"a":1,"b":[true,false,null,"x"],"c":{"d":-0.5e+10}}`:          true,
		`{"criterion":"17.1","status":"met","tier":"ntm","value":92.5}`: true,
		`{"b":1,"a":2}`: false, `{"a":1,"a":2}`: false, `[1, 2]`: false, `"\u00e9"`: false,
		`01`: false, `1.`: false, `{"a":1}x`: false, "\"\xff\"": false, "\"\u2028\"": false, `{"a":}`: false,
	} {
		if got := canonicalAsIs([]byte(s)); got != want {
			t.Errorf("canonicalAsIs(%q) = %v, want %v", s, got, want)
		}
		if want {
			if slow, err := canonicalSlow([]byte(s)); err != nil || string(slow) != s {
				t.Errorf("%q written again: %q (%v)", s, slow, err)
			}
		}
	}
}

func TestIsLowerHex(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
		alone := []byte{byte(c)}
		middle := []byte{'0', '0', 'f', byte(c), 'a', '9'}
		last := append([]byte(strings.Repeat("0f", 31)), byte(c))
		for _, b := range [][]byte{alone, middle, last} {
			if got := isLowerHex(b); got != want {
				t.Errorf("isLowerHex(%q) = %v, want %v", b, got, want)
			}
		}
	}
	if !isLowerHex(nil) || !isLowerHex([]byte(strings.Repeat("0123456789abcdef", 4))) {
		t.Error("isLowerHex rejects lowercase hex")
	}
}

// FuzzCanonicalReorder: what canonicalReorder writes, the full decode and
// rewrite writes too.
func FuzzCanonicalReorder(f *testing.F) {
	for _, s := range []string{`{"tier":"ntm","criterion":"4","status":"met","stage":"self"}`, ` { "b" : [ 1 , {"d":2,"c":[]} ] , "a" : {} } `,
		`{"a":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `[ ]`, `{"b":"\u00e9","a":1}`, `{"b":01,"a":1}`, "{\"b\":\"\xff\",\"a\":1}", `{"a":1}x`, `{"z":{"y":{"x":1,"w":2},"v":3},"u":4}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, ok := canonicalReorder(raw)
		if !ok {
			return
		}
		slow, err := canonicalSlow(raw)
		if err != nil || string(slow) != string(out) {
			t.Fatalf("reordered %q into %q; decoded and written again: %q (%v)", raw, out, slow, err)
		}
	})
}

func TestCanonicalReorder(t *testing.T) {
	for s, want := range map[string]string{
		`{"tier":"ntm","criterion":"4","status":"met","stage":"self"}`: `{"criterion":"4","stage":"self","status":"met","tier":"ntm"}`,
		` { "b" : [ 1 , {"d":2,"c":[ ]} ] , "a" : { } } `:              `{"a":{},"b":[1,{"c":[],"d":2}]}`,
		`{"z":{"y":{"x":1,"w":2},"v":3},"u":[true,false,null,-1.5e3]}`: `{"u":[true,false,null,-1.5e3],"z":{"v":3,"y":{"w":2,"x":1}}}`,
		"\t\"Việt\"\n": `"Việt"`,
		// Left to the full rewrite.
		`{"a":1,"a":2}`: "", `{"b":1,"a":2,"b":3}`: "", `{"b":"\u00e9","a":1}`: "", `{"b":01,"a":1}`: "",
		"{\"b\":\"\xff\",\"a\":1}": "", `{"a":1}x`: "", `{"a":}`: "", `{"a" 1}`: "", `[1,]`: "", ``: "", ` `: "",
		strings.Repeat("[", maxAsIsDepth+1) + strings.Repeat("]", maxAsIsDepth+1): "",
	} {
		out, ok := canonicalReorder([]byte(s))
		if ok != (want != "") || string(out) != want {
			t.Errorf("canonicalReorder(%q) = %q, %v; want %q", s, out, ok, want)
		}
		if ok {
			if slow, err := canonicalSlow([]byte(s)); err != nil || string(slow) != want {
				t.Errorf("%q written again: %q (%v)", s, slow, err)
			}
		}
	}
}
