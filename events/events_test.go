package events_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ntmledger/ntmledger/events"
)

const good = `{"type":"criterion.assessed","unit":"13306","occurred_at":"2024-10-01","actor":{"id":"u1","role":"district","name":"Phòng Nông nghiệp"},"data":{"tier":"ntm","criterion":"17.1","status":"basically_met","stage":"district","value":92.5}}`

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		name  string
		json  string
		field string
	}{
		{"malformed JSON", `{"type":`, ""},
		{"unknown envelope field", `{"type":"unit.registered","unit":"35","ocurred_at":"2020-01-01"}`, "ocurred_at"},
		{"missing type", `{"unit":"35","occurred_at":"2020-01-01","actor":{"id":"a","role":"system"},"data":{}}`, "type"},
		{"unknown type", strings.Replace(good, "criterion.assessed", "criterion.guessed", 1), "type"},
		{"bad unit code", strings.Replace(good, `"13306"`, `"13.06"`, 1), "unit"},
		{"bad date", strings.Replace(good, "2024-10-01", "01/10/2024", 1), "occurred_at"},
		{"impossible date", strings.Replace(good, "2024-10-01", "2024-02-30", 1), "occurred_at"},
		{"missing actor", strings.Replace(good, `"actor":{"id":"u1","role":"district","name":"Phòng Nông nghiệp"},`, "", 1), "actor"},
		{"bad role", strings.Replace(good, `"role":"district"`, `"role":"mayor"`, 1), "actor.role"},
		{"bad status", strings.Replace(good, "basically_met", "nearly", 1), "data.status"},
		{"bad stage", strings.Replace(good, `"stage":"district"`, `"stage":"village"`, 1), "data.stage"},
		{"bad criterion code", strings.Replace(good, `"17.1"`, `"seventeen"`, 1), "data.criterion"},
		{"value not a number", strings.Replace(good, "92.5", `"high"`, 1), "data.value"},
		{"unknown data field", strings.Replace(good, `"stage":"district"`, `"stage":"district","score":3`, 1), "data.score"},
		{"missing data", `{"type":"satisfaction.surveyed","unit":"13306","occurred_at":"2024-10-01","actor":{"id":"a","role":"commune"}}`, "data"},
		{"percent out of range", `{"type":"satisfaction.surveyed","unit":"13306","occurred_at":"2024-10-01","actor":{"id":"a","role":"commune"},"data":{"percent":104}}`, "data.percent"},
		{"grant without document", `{"type":"recognition.granted","unit":"13306","occurred_at":"2024-12-20","actor":{"id":"a","role":"province"},"data":{"tier":"ntm"}}`, "document"},
		{"document without number", `{"type":"recognition.granted","unit":"13306","occurred_at":"2024-12-20","actor":{"id":"a","role":"province"},"document":{"date":"2024-12-20"},"data":{"tier":"ntm"}}`, "document.number"},
		{"revocation reason", `{"type":"recognition.revoked","unit":"13306","occurred_at":"2024-12-20","actor":{"id":"a","role":"province"},"document":{"number":"1/QĐ"},"data":{"tier":"ntm","reason":"bored"}}`, "data.reason"},
		{"kind does not match code", `{"type":"unit.registered","unit":"13306","occurred_at":"2015-01-01","actor":{"id":"a","role":"system"},"data":{"name":"X","kind":"district","parent":"35"}}`, "data.kind"},
		{"province with parent", `{"type":"unit.registered","unit":"35","occurred_at":"2015-01-01","actor":{"id":"a","role":"system"},"data":{"name":"X","kind":"province","parent":"01"}}`, "data.parent"},
		{"bad region", `{"type":"unit.registered","unit":"35","occurred_at":"2015-01-01","actor":{"id":"a","role":"system"},"data":{"name":"X","kind":"province","region":"north"}}`, "data.region"},
		{"bad flag", `{"type":"unit.registered","unit":"35","occurred_at":"2015-01-01","actor":{"id":"a","role":"system"},"data":{"name":"X","kind":"province","flags":["rich"]}}`, "data.flags[0]"},
		{"bad id", strings.Replace(good, `{"type"`, `{"id":"not-a-ulid","type"`, 1), "id"},
		{"retraction target", `{"type":"entry.retracted","unit":"13306","occurred_at":"2024-12-20","actor":{"id":"a","role":"province"},"data":{"target":"x","reason":"typo"}}`, "data.target"},
		{"target year", `{"type":"target.set","unit":"80","occurred_at":"2021-03-01","actor":{"id":"a","role":"province"},"document":{"number":"1416/KH-UBND"},"data":{"year":225,"level":"commune","tier":"advanced","count":12}}`, "data.year"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := events.DecodeInput([]byte(tc.json))
			if err == nil {
				_, err = events.Validate(in)
			}
			var fe *events.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("err = %v, want a FieldError", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("field = %q (%v), want %q", fe.Field, err, tc.field)
			}
		})
	}
}

func TestValidateAcceptsEveryType(t *testing.T) {
	for _, s := range []string{
		good,
		`{"type":"unit.registered","unit":"13306-2","occurred_at":"2015-01-01","actor":{"id":"a","role":"system"},"data":{"name":"Thôn Đông","kind":"village","parent":"13306"}}`,
		`{"type":"unit.classified","unit":"13306","occurred_at":"2022-01-01T08:00:00+07:00","actor":{"id":"a","role":"province"},"data":{"flags":["especially_difficult"],"group":3}}`,
		`{"type":"unit.reorganized","unit":"13307","occurred_at":"2025-07-01","actor":{"id":"a","role":"national"},"document":{"number":"1656/NQ-UBTVQH15"},"data":{"from":["13306","13309"],"resolution":"1656/NQ-UBTVQH15","effective":"2025-07-01"}}`,
		`{"type":"rulebook.published","unit":"10","occurred_at":"2022-06-01","actor":{"id":"a","role":"province"},"document":{"number":"10/QĐ-UBND"},"data":{"id":"vn-2021-2025/10","base":"vn-2021-2025","effective_from":"2022-06-01","thresholds":{"10":{"min":45}}}}`,
		`{"type":"target.set","unit":"80","occurred_at":"2021-03-01","actor":{"id":"a","role":"province"},"document":{"number":"1416/KH-UBND"},"data":{"year":2025,"level":"commune","tier":"advanced","count":12,"cumulative_percent":88}}`,
		`{"type":"satisfaction.surveyed","unit":"13306","occurred_at":"2024-10-01","actor":{"id":"a","role":"commune"},"data":{"percent":95.2,"respondents":420}}`,
		`{"type":"recognition.requested","unit":"13306","occurred_at":"2024-10-01","actor":{"id":"a","role":"commune"},"data":{"tier":"advanced"}}`,
		`{"type":"recognition.granted","unit":"13306","occurred_at":"2024-12-20","actor":{"id":"a","role":"province"},"document":{"number":"3000/QĐ-UBND","date":"2024-12-20","issuer":"UBND tỉnh"},"data":{"tier":"advanced","rulebook":"vn-2021-2025"}}`,
		`{"type":"recognition.revoked","unit":"13306","occurred_at":"2024-12-20","actor":{"id":"a","role":"province"},"document":{"number":"1/QĐ"},"data":{"tier":"ntm","reason":"not_maintained","basis":"18/2022/QĐ-TTg","revokes":"3000/QĐ-UBND"}}`,
		`{"type":"entry.retracted","unit":"13306","occurred_at":"2024-12-20","actor":{"id":"a","role":"province"},"data":{"target":"01J92P0V00KYQCTE960QW9W0F4","reason":"typo"}}`,
	} {
		in, err := events.DecodeInput([]byte(s))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if _, err := events.Validate(in); err != nil {
			t.Errorf("%s: %v", in.Type, err)
		}
	}
}

func TestCanonicalEncodingAndHash(t *testing.T) {
	a := &events.Event{
		ID: "01J92P0V00KYQCTE960QW9W0F4", Type: events.CriterionAssessed, Unit: "13306",
		OccurredAt: "2024-10-01", RecordedAt: "2026-01-02T03:04:05.123Z",
		Actor:   events.Actor{ID: "u", Role: "district", Name: "Phòng <NN> & \"PTNT\""},
		Data:    json.RawMessage(` { "status" : "met", "tier":"ntm" ,"criterion":"1","stage":"self","value":1.50} `),
		Version: 7, PrevHash: "ab",
	}
	b := *a
	b.Data = json.RawMessage(`{"criterion":"1","stage":"self","status":"met","tier":"ntm","value":1.50}`)
	canon, err := events.Canonical(a.Data)
	if err != nil {
		t.Fatal(err)
	}
	a.Data = canon
	ba, err := events.Seal(a)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := events.Seal(&b)
	if err != nil {
		t.Fatal(err)
	}
	if string(ba) != string(bb) || a.Hash != b.Hash {
		t.Fatalf("the same content encodes differently:\n%s\n%s", ba, bb)
	}
	if !strings.Contains(string(ba), `"Phòng <NN> & \"PTNT\""`) {
		t.Errorf("Vietnamese and symbols not kept as text: %s", ba)
	}
	// Decode → Encode is the identity on stored bodies, and Verify agrees.
	d, err := events.Decode(ba)
	if err != nil {
		t.Fatal(err)
	}
	again, err := events.Encode(d)
	if err != nil || string(again) != string(ba) {
		t.Fatalf("re-encoding changed the body (%v):\n%s\n%s", err, ba, again)
	}
	if err := events.Verify(d, "ab"); err != nil {
		t.Fatal(err)
	}
	// Any change of content breaks the hash; a wrong predecessor breaks the chain.
	d.Version = 8
	if err := events.Verify(d, "ab"); err == nil {
		t.Error("a changed version verified")
	}
	d.Version = 7
	if err := events.Verify(d, "cd"); err == nil {
		t.Error("a wrong prev_hash verified")
	}
}

func TestDecodeRequestForms(t *testing.T) {
	one := good
	arr := "[" + good + "," + good + "]"
	lines := good + "\n\n# comment\n" + good + "\n"
	for name, tc := range map[string]struct {
		body string
		n    int
	}{"object": {one, 1}, "array": {arr, 2}, "json lines": {lines, 2}} {
		ins, err := events.DecodeRequest([]byte(tc.body))
		if err != nil || len(ins) != tc.n {
			t.Errorf("%s: %d events, err %v; want %d", name, len(ins), err, tc.n)
		}
	}
	_, err := events.DecodeRequest([]byte(good + "\n" + `{"type":1}`))
	var fe *events.FieldError
	if !errors.As(err, &fe) || fe.Index != 1 || fe.Field != "type" || !strings.Contains(fe.Reason, "line 2") {
		t.Fatalf("bad second line: %v", err)
	}
	if _, err := events.DecodeRequest([]byte("  ")); err == nil {
		t.Error("empty body accepted")
	}
}

// TestStoredBodyIsHashedAsSealed: an event decoded from its stored body
// passes the chain check with the hash Seal gave it, for every shape of
// event; a body altered before its hash, carrying another hash, or laid out
// otherwise with a hash of its own bytes fails it.
func TestStoredBodyIsHashedAsSealed(t *testing.T) {
	doc := &events.Document{Number: "123/QĐ-UBND", Date: "2024-12-30", Issuer: "UBND tỉnh \"Hà Nam\""}
	cases := []*events.Event{
		{ID: "01J0000000000000000000000A", Type: events.CriterionAssessed, Unit: "13306", OccurredAt: "2024-10-01", RecordedAt: "2026-01-01T00:00:00Z",
			Actor: events.Actor{ID: "u1", Role: "district", Name: "Phòng Nông nghiệp\u2028"}, Data: json.RawMessage(`{"criterion":"17.1","status":"met","tier":"ntm"}`), Version: 3, PrevHash: strings.Repeat("ab", 32)},
		{ID: "01J0000000000000000000000B", Type: events.RecognitionGranted, Unit: "13306", OccurredAt: "2024-12-30", RecordedAt: "2026-01-01T00:00:00Z",
			Actor: events.Actor{ID: "ubnd-35", Role: "province"}, Document: doc, Data: json.RawMessage(`{"tier":"ntm"}`), Version: 1},
		{ID: "01J0000000000000000000000C", Type: events.UnitRegistered, Unit: "35", OccurredAt: "2015-01-01", RecordedAt: "2026-01-01T00:00:00Z",
			Actor: events.Actor{ID: "sys", Role: "system"}, Version: 1},
	}
	for _, ev := range cases {
		body, err := events.Seal(ev)
		if err != nil {
			t.Fatal(err)
		}
		read := func(b []byte) *events.Event {
			t.Helper()
			d, err := events.Decode(b)
			if err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			d.Precompute()
			return d
		}
		if !json.Valid(body) || !strings.HasSuffix(string(body), `,"hash":"`+ev.Hash+`"}`) {
			t.Fatalf("sealed body is not JSON ending in its hash: %s", body)
		}
		if err := events.Verify(read(body), ev.PrevHash); err != nil {
			t.Fatalf("%s as sealed, hashed from its fields: %v", ev.Type, err)
		}
		again := *read(body)
		again.Hash, again.Raw = "", nil
		if b2, err := events.Seal(&again); err != nil || string(b2) != string(body) {
			t.Fatalf("%s sealed again from its decoded fields: %v\n%s\n%s", ev.Type, err, b2, body)
		}
		if err := events.Link(read(body), ev.Version-1, ev.PrevHash); err != nil {
			t.Fatalf("%s as sealed: %v", ev.Type, err)
		}
		// Altered content keeps its hash field: the check must fail.
		i := strings.Index(string(body), `"unit":"`) + len(`"unit":"`)
		altered := []byte(string(body))
		altered[i]++
		if err := events.Link(read(altered), ev.Version-1, ev.PrevHash); err == nil {
			t.Fatalf("%s altered in its unit passes the chain check: %s", ev.Type, altered)
		}
		// The hash replaced by that of another event.
		other := strings.Replace(string(body), ev.Hash, strings.Repeat("0", 64), 1)
		if err := events.Link(read([]byte(other)), ev.Version-1, ev.PrevHash); err == nil {
			t.Fatalf("%s with another hash passes the chain check", ev.Type)
		}
		// Not stored the canonical way (whitespace): hashed from its fields.
		spaced := strings.Replace(string(body), `,"version":`, `, "version":`, 1)
		if err := events.Link(read([]byte(spaced)), ev.Version-1, ev.PrevHash); err != nil {
			t.Fatalf("%s stored with other whitespace: %v", ev.Type, err)
		}
		// The same, with the hash of its own bytes: the hash is not that of
		// its fields, so the chain check fails.
		pre := strings.TrimSuffix(spaced, `,"hash":"`+ev.Hash+`"}`) + "}"
		sum := sha256.Sum256([]byte(pre))
		forged := strings.Replace(spaced, ev.Hash, hex.EncodeToString(sum[:]), 1)
		if f := read([]byte(forged)); events.Link(f, ev.Version-1, ev.PrevHash) == nil {
			t.Fatalf("%s laid out otherwise, with the hash of its own bytes, passes the chain check: %s", ev.Type, forged)
		}
	}
}
