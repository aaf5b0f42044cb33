package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/oklog/ulid/v2"
)

// spec describes what a type requires beyond the envelope.
type spec struct {
	document bool                                 // a legal document is required
	data     func() any                           // a fresh value to decode data into
	check    func(v any, unit string) *FieldError // type-specific checks
}

var specs = map[Type]spec{
	UnitRegistered:       {data: func() any { return new(Registration) }, check: checkRegistration},
	UnitClassified:       {data: func() any { return new(Classification) }, check: checkClassification},
	UnitReorganized:      {document: true, data: func() any { return new(Reorganization) }, check: checkReorganization},
	RulebookPublished:    {document: true, data: func() any { return new(RulebookAdaptation) }, check: checkRulebook},
	TargetSet:            {document: true, data: func() any { return new(Target) }, check: checkTarget},
	CriterionAssessed:    {data: func() any { return new(Assessment) }, check: checkAssessment},
	SatisfactionSurveyed: {data: func() any { return new(Survey) }, check: checkSurvey},
	RecognitionRequested: {data: func() any { return new(Request) }, check: checkRequest},
	RecognitionGranted:   {document: true, data: func() any { return new(Grant) }, check: checkGrant},
	RecognitionRevoked:   {document: true, data: func() any { return new(Revocation) }, check: checkRevocation},
	EntryRetracted:       {data: func() any { return new(Retraction) }, check: checkRetraction},
}

// Unit codes are GSO codes. A unit created by a reorganization whose GSO
// code reuses the code of an older unit (the 2025 reform gave new communes
// and provinces the codes of one of the units merged into them) carries the
// year of that reorganization as a suffix: "00004@2025" is the post-reform
// Phường Ba Đình, "00004" the pre-reform Phường Trúc Bạch. The suffix keeps
// codes unique forever and is safe in NATS subjects and URL paths.
var (
	reProvince = regexp.MustCompile(`^[0-9]{2}(@[0-9]{4})?$`)
	reDistrict = regexp.MustCompile(`^[0-9]{3}(@[0-9]{4})?$`)
	reCommune  = regexp.MustCompile(`^[0-9]{5}(@[0-9]{4})?$`)
	reVillage  = regexp.MustCompile(`^[0-9]{5}(@[0-9]{4})?-[0-9]{1,4}$`)
)

// Country is the code of the country as a whole. It exists without being
// registered, so national targets and rulebooks have a unit to live on.
const Country = "VN"

// UnitKind returns the kind a unit code denotes ("province", "district",
// "commune", "village", "country"), or "" if the code is malformed.
func UnitKind(code string) string {
	switch {
	case code == Country:
		return "country"
	case reProvince.MatchString(code):
		return "province"
	case reDistrict.MatchString(code):
		return "district"
	case reCommune.MatchString(code):
		return "commune"
	case reVillage.MatchString(code):
		return "village"
	}
	return ""
}

// ParseDate parses a business date: YYYY-MM-DD or RFC 3339.
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD or RFC 3339)", s)
	}
	return t, nil
}

// DecodeInput decodes one client-submitted event. Unknown envelope fields are
// rejected, so a misspelt "ocurred_at" is an error rather than a silent gap.
func DecodeInput(b []byte) (*Input, error) {
	var in Input
	if err := strictUnmarshal(b, &in); err != nil {
		return nil, jsonFieldError("", err)
	}
	return &in, nil
}

// Validate checks an input against the contract's structural rules that need
// no ledger state, and returns its decoded data (one of the types in data.go).
// The error is a *FieldError naming the field. On success in.Data is left in
// canonical form (sorted keys, no insignificant space), the form it is
// hashed and stored in.
func Validate(in *Input) (any, error) {
	if in.ID != "" {
		if _, err := ulid.ParseStrict(in.ID); err != nil {
			return nil, fieldErr("id", "%q is not a ULID", in.ID)
		}
	}
	if in.Type == "" {
		return nil, fieldErr("type", "missing")
	}
	sp, ok := specs[in.Type]
	if !ok {
		return nil, fieldErr("type", "unknown type %q (known: %s)", in.Type, typeList())
	}
	if in.Unit == "" {
		return nil, fieldErr("unit", "missing")
	}
	if UnitKind(in.Unit) == "" {
		return nil, fieldErr("unit", "%q is not a unit code (province 2 digits, district 3, commune 5, village <commune>-<n>, or VN; a unit created by a reorganization adds @<year>, e.g. 00004@2025)", in.Unit)
	}
	if in.OccurredAt == "" {
		return nil, fieldErr("occurred_at", "missing")
	}
	if _, err := ParseDate(in.OccurredAt); err != nil {
		return nil, fieldErr("occurred_at", "%v", err)
	}
	if err := checkActor(in.Actor); err != nil {
		return nil, err
	}
	if in.Document != nil {
		if err := checkDocument(in.Document); err != nil {
			return nil, err
		}
	} else if sp.document {
		return nil, fieldErr("document", "required for %s (number, date, issuer of the legal document)", in.Type)
	}
	if len(bytes.TrimSpace(in.Data)) == 0 || bytes.Equal(bytes.TrimSpace(in.Data), []byte("null")) {
		return nil, fieldErr("data", "missing")
	}
	v, err := ParseData(in.Type, in.Data)
	if err != nil {
		return nil, err
	}
	if fe := sp.check(v, in.Unit); fe != nil {
		return nil, fe
	}
	canon, err := Canonical(in.Data)
	if err != nil {
		return nil, fieldErr("data", "malformed JSON: %v", err)
	}
	in.Data = canon
	return v, nil
}

// ParseData decodes the data of a type into its struct. Unknown fields are
// rejected.
func ParseData(t Type, raw json.RawMessage) (any, error) {
	sp, ok := specs[t]
	if !ok {
		return nil, fieldErr("type", "unknown type %q", t)
	}
	v := sp.data()
	if err := strictUnmarshal(raw, v); err != nil {
		return nil, jsonFieldError("data", err)
	}
	return v, nil
}

// strictUnmarshal decodes b into v, rejecting unknown fields and trailing
// data. The fast decoder (go-json-experiment/json, strict: exact names, no
// duplicates) answers for well-formed input; whatever it rejects is decoded
// again by encoding/json, whose errors name the field and whose leniency
// (names in any letter case) stays what clients get. FuzzStrictDecoders
// checks that the fast one accepts nothing encoding/json rejects and reads
// the same values.
func strictUnmarshal(b []byte, v any) error {
	if fastStrict(b, v) == nil {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero() // what the fast decoder filled in before it failed
	return stdStrict(b, v)
}

func fastStrict(b []byte, v any) error {
	return jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true))
}

func stdStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// jsonFieldError turns encoding/json's errors into field errors.
func jsonFieldError(prefix string, err error) *FieldError {
	join := func(f string) string {
		if prefix == "" {
			return f
		}
		if f == "" {
			return prefix
		}
		return prefix + "." + f
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fieldErr(join(te.Field), "expected %s, got JSON %s", te.Type.String(), te.Value)
	case errors.As(err, &se):
		return fieldErr(prefix, "malformed JSON at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(join(name), "unknown field")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr(prefix, "malformed JSON: unexpected end of input")
	}
	return fieldErr(prefix, "malformed JSON: %v", err)
}

func typeList() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func oneOf(field, v string, allowed []string) *FieldError {
	if slices.Contains(allowed, v) {
		return nil
	}
	if v == "" {
		return fieldErr(field, "missing (one of %s)", strings.Join(allowed, ", "))
	}
	return fieldErr(field, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

func checkActor(a *Actor) *FieldError {
	if a == nil {
		return fieldErr("actor", "missing (id, role, name of who records the fact)")
	}
	if strings.TrimSpace(a.ID) == "" {
		return fieldErr("actor.id", "missing")
	}
	return oneOf("actor.role", a.Role, Roles)
}

func checkDocument(d *Document) *FieldError {
	if strings.TrimSpace(d.Number) == "" {
		return fieldErr("document.number", "missing")
	}
	if d.Date != "" {
		if _, err := ParseDate(d.Date); err != nil {
			return fieldErr("document.date", "%v", err)
		}
	}
	return nil
}

func checkDate(field, s string, required bool) *FieldError {
	if s == "" {
		if required {
			return fieldErr(field, "missing")
		}
		return nil
	}
	if _, err := ParseDate(s); err != nil {
		return fieldErr(field, "%v", err)
	}
	return nil
}

func checkTier(field, tier string) *FieldError {
	if strings.TrimSpace(tier) == "" {
		return fieldErr(field, "missing")
	}
	return nil
}

func checkFlags(field string, flags []string) *FieldError {
	for i, f := range flags {
		if fe := oneOf(fmt.Sprintf("%s[%d]", field, i), f, Flags); fe != nil {
			return fe
		}
	}
	return nil
}

func checkGroup(field string, g *int) *FieldError {
	if g != nil && (*g < 1 || *g > 3) {
		return fieldErr(field, "%d is not a commune group (1, 2 or 3)", *g)
	}
	return nil
}

func checkRegistration(v any, unit string) *FieldError {
	r := v.(*Registration)
	if strings.TrimSpace(r.Name) == "" {
		return fieldErr("data.name", "missing")
	}
	if fe := oneOf("data.kind", r.Kind, Kinds); fe != nil {
		return fe
	}
	if k := UnitKind(unit); k != r.Kind {
		return fieldErr("data.kind", "%q does not match unit code %q, which denotes a %s", r.Kind, unit, k)
	}
	if r.Kind == "province" {
		if r.Parent != "" {
			return fieldErr("data.parent", "a province has no parent")
		}
	} else {
		if r.Parent == "" {
			return fieldErr("data.parent", "missing (the code of the unit this %s belongs to)", r.Kind)
		}
		if pk := UnitKind(r.Parent); pk == "" {
			return fieldErr("data.parent", "%q is not a unit code", r.Parent)
		}
	}
	if r.Region != "" {
		if fe := oneOf("data.region", r.Region, Regions); fe != nil {
			return fe
		}
	}
	if fe := checkGroup("data.group", r.Group); fe != nil {
		return fe
	}
	return checkFlags("data.flags", r.Flags)
}

func checkClassification(v any, _ string) *FieldError {
	c := v.(*Classification)
	if c.Name == nil && c.Region == nil && c.Group == nil && c.Flags == nil {
		return fieldErr("data", "empty: give at least one of region, group, flags, name")
	}
	if c.Name != nil && strings.TrimSpace(*c.Name) == "" {
		return fieldErr("data.name", "empty")
	}
	if c.Region != nil {
		if fe := oneOf("data.region", *c.Region, Regions); fe != nil {
			return fe
		}
	}
	if fe := checkGroup("data.group", c.Group); fe != nil {
		return fe
	}
	if c.Flags != nil {
		return checkFlags("data.flags", *c.Flags)
	}
	return nil
}

func checkReorganization(v any, unit string) *FieldError {
	r := v.(*Reorganization)
	if len(r.From) == 0 {
		return fieldErr("data.from", "missing (the codes of the units merged or split into this one)")
	}
	for i, f := range r.From {
		if UnitKind(f) == "" {
			return fieldErr(fmt.Sprintf("data.from[%d]", i), "%q is not a unit code", f)
		}
		if f == unit {
			return fieldErr(fmt.Sprintf("data.from[%d]", i), "a unit cannot be reorganized from itself")
		}
	}
	if strings.TrimSpace(r.Resolution) == "" {
		return fieldErr("data.resolution", "missing")
	}
	return checkDate("data.effective", r.Effective, true)
}

func checkRulebook(v any, _ string) *FieldError {
	r := v.(*RulebookAdaptation)
	if strings.TrimSpace(r.ID) == "" {
		return fieldErr("data.id", "missing")
	}
	if strings.TrimSpace(r.Base) == "" {
		return fieldErr("data.base", "missing")
	}
	if fe := checkDate("data.effective_from", r.EffectiveFrom, true); fe != nil {
		return fe
	}
	return checkDate("data.effective_to", r.EffectiveTo, false)
}

func checkTarget(v any, _ string) *FieldError {
	t := v.(*Target)
	if t.Year < 2000 || t.Year > 2100 {
		return fieldErr("data.year", "%d is not a plausible year", t.Year)
	}
	if fe := oneOf("data.level", t.Level, Levels); fe != nil {
		return fe
	}
	if fe := checkTier("data.tier", t.Tier); fe != nil {
		return fe
	}
	if t.Count == nil && t.CumulativePercent == nil {
		return fieldErr("data.count", "missing: give count and/or cumulative_percent")
	}
	if t.Count != nil && *t.Count < 0 {
		return fieldErr("data.count", "%d is negative", *t.Count)
	}
	if p := t.CumulativePercent; p != nil && (*p < 0 || *p > 100) {
		return fieldErr("data.cumulative_percent", "%v is outside 0–100", *p)
	}
	return nil
}

func checkAssessment(v any, _ string) *FieldError {
	a := v.(*Assessment)
	if fe := checkTier("data.tier", a.Tier); fe != nil {
		return fe
	}
	if !criterionCode.MatchString(a.Criterion) {
		if a.Criterion == "" {
			return fieldErr("data.criterion", "missing")
		}
		return fieldErr("data.criterion", "%q is not a criterion number (\"1\"…\"19\") or indicator code (\"17.1\")", a.Criterion)
	}
	if fe := oneOf("data.status", a.Status, Statuses); fe != nil {
		return fe
	}
	return oneOf("data.stage", a.Stage, Stages)
}

var criterionCode = regexp.MustCompile(`^[1-9][0-9]?(\.[1-9][0-9]?)?$`)

func checkSurvey(v any, _ string) *FieldError {
	s := v.(*Survey)
	if s.Percent < 0 || s.Percent > 100 {
		return fieldErr("data.percent", "%v is outside 0–100", s.Percent)
	}
	if s.Respondents != nil && *s.Respondents < 0 {
		return fieldErr("data.respondents", "%d is negative", *s.Respondents)
	}
	return nil
}

func checkRequest(v any, _ string) *FieldError { return checkTier("data.tier", v.(*Request).Tier) }
func checkGrant(v any, _ string) *FieldError   { return checkTier("data.tier", v.(*Grant).Tier) }

func checkRevocation(v any, _ string) *FieldError {
	r := v.(*Revocation)
	if fe := checkTier("data.tier", r.Tier); fe != nil {
		return fe
	}
	return oneOf("data.reason", r.Reason, Reasons)
}

func checkRetraction(v any, _ string) *FieldError {
	r := v.(*Retraction)
	if r.Target == "" {
		return fieldErr("data.target", "missing (the id of the event to retract)")
	}
	if _, err := ulid.ParseStrict(r.Target); err != nil {
		return fieldErr("data.target", "%q is not a ULID", r.Target)
	}
	if strings.TrimSpace(r.Reason) == "" {
		return fieldErr("data.reason", "missing")
	}
	return nil
}
