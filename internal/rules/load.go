package rules

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed data/*.yaml
var dataFS embed.FS

// Strings is a YAML value that is one string or a list of them.
type Strings []string

// UnmarshalYAML accepts a scalar or a sequence.
func (s *Strings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Strings{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// Load reads the embedded national rulebooks and checks them.
func Load() (*Set, error) { return LoadFS(dataFS, "data") }

// LoadFS reads the rulebooks of a directory (every *.yaml but
// sources.yaml, which defines the source keys they cite) and checks them.
func LoadFS(fsys fs.FS, dir string) (*Set, error) {
	var src struct {
		Sources map[string]string `yaml:"sources"`
	}
	raw, err := fs.ReadFile(fsys, dir+"/sources.yaml")
	if err != nil {
		return nil, fmt.Errorf("rulebook sources: %w", err)
	}
	if err := yaml.Unmarshal(raw, &src); err != nil {
		return nil, fmt.Errorf("rulebook sources: %w", err)
	}
	names, err := fs.Glob(fsys, dir+"/*.yaml")
	if err != nil {
		return nil, err
	}
	s := &Set{}
	for _, name := range names {
		if strings.HasSuffix(name, "/sources.yaml") {
			continue
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var b Book
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		if err := dec.Decode(&b); err != nil {
			return nil, fmt.Errorf("rulebook %s: %w", name, err)
		}
		if err := b.check(src.Sources); err != nil {
			return nil, fmt.Errorf("rulebook %s: %w", name, err)
		}
		s.books = append(s.books, &b)
	}
	if len(s.books) == 0 {
		return nil, fmt.Errorf("no rulebooks in %s", dir)
	}
	slices.SortFunc(s.books, func(a, b *Book) int { return strings.Compare(a.EffectiveFrom, b.EffectiveFrom) })
	for i, b := range s.books {
		for _, from := range b.CountsAssessmentsFrom {
			if _, ok := s.ByID(from); !ok {
				return nil, fmt.Errorf("rulebook %s: counts_assessments_from names unknown rulebook %q", b.ID, from)
			}
		}
		if i > 0 && s.books[i-1].ID == b.ID {
			return nil, fmt.Errorf("rulebook %s defined twice", b.ID)
		}
	}
	return s, nil
}

var confidences = []string{Confirmed, Likely, Unverified}

func checkDate(field, v string, required bool) error {
	if v == "" && !required {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return fmt.Errorf("%s: %q is not a date (YYYY-MM-DD)", field, v)
	}
	return nil
}

// check validates a book and fills in what is derived (Tier.Criteria).
func (b *Book) check(keys map[string]string) error {
	if b.ID == "" {
		return fmt.Errorf("missing id")
	}
	if err := checkDate("effective_from", b.EffectiveFrom, true); err != nil {
		return err
	}
	if err := checkDate("effective_to", b.EffectiveTo, false); err != nil {
		return err
	}
	checkSrc := func(where string, s Source, required bool) error {
		if s.Confidence == "" && s.Ref == "" && len(s.Keys) == 0 {
			if required {
				return fmt.Errorf("%s: missing source", where)
			}
			return nil
		}
		if !slices.Contains(confidences, s.Confidence) {
			return fmt.Errorf("%s: confidence %q is not one of %v", where, s.Confidence, confidences)
		}
		for _, k := range s.Keys {
			if _, ok := keys[k]; !ok {
				return fmt.Errorf("%s: source key %q is not defined in sources.yaml", where, k)
			}
		}
		return nil
	}
	if err := checkSrc("source", b.Source, true); err != nil {
		return err
	}
	switch b.ThresholdsBy {
	case "region", "group":
	default:
		return fmt.Errorf("thresholds_by %q is not region or group", b.ThresholdsBy)
	}
	for i, o := range b.ColumnOverrides {
		if !slices.Contains(b.Columns, o.Column) {
			return fmt.Errorf("column_overrides[%d]: %q is not a column", i, o.Column)
		}
		if err := checkSrc(fmt.Sprintf("column_overrides[%d]", i), o.Source, true); err != nil {
			return err
		}
	}
	for i := range b.RevocationRules {
		r := &b.RevocationRules[i]
		where := "revocation rule " + r.ID
		if r.ID == "" || r.Basis == "" || r.NameEN == "" || r.NameVI == "" {
			return fmt.Errorf("revocation_rules[%d]: id, basis, name_en and name_vi are required", i)
		}
		if r.Measure != MeasureCriteria && r.Measure != MeasureRevoked {
			return fmt.Errorf("%s: measure %q", where, r.Measure)
		}
		if r.GTEPercent == nil {
			return fmt.Errorf("%s: gte_percent is required (a rule without its share is not a rule)", where)
		}
		if err := checkDate(where+": effective_from", r.EffectiveFrom, false); err != nil {
			return err
		}
		if err := checkSrc(where, r.Source, true); err != nil {
			return err
		}
		if r.Grace != nil {
			if err := checkSrc(where+" grace", r.Grace.Source, true); err != nil {
				return err
			}
		}
	}
	for kind, tiers := range b.Tiers {
		for i := range tiers {
			t := &tiers[i]
			where := fmt.Sprintf("%s tier %q", kind, t.Name)
			if t.Name == "" || t.Rank < 1 {
				return fmt.Errorf("%s: name and a rank ≥ 1 are required", where)
			}
			if t.Requires != "" {
				if _, ok := b.Tier(kind, t.Requires); !ok {
					return fmt.Errorf("%s: requires unknown tier %q", where, t.Requires)
				}
			}
			if err := checkSrc(where, t.Source, true); err != nil {
				return err
			}
			if err := checkSrc(where+" requires", t.RequiresSource, false); err != nil {
				return err
			}
			if t.Open != (len(t.Set) == 0) {
				return fmt.Errorf("%s: a tier is open exactly when the rulebook lists no criteria for it", where)
			}
			t.Criteria = nil
			for j := range t.Set {
				c := &t.Set[j]
				if c.Code == "" || strings.Contains(c.Code, ".") || slices.Contains(t.Criteria, c.Code) {
					return fmt.Errorf("%s: criterion %q is empty, an indicator code, or repeated", where, c.Code)
				}
				t.Criteria = append(t.Criteria, c.Code)
				if c.Source != nil {
					if err := checkSrc(where+" criterion "+c.Code, *c.Source, false); err != nil {
						return err
					}
				}
				for _, ind := range c.Indicators {
					if h, _, _ := strings.Cut(ind.Code, "."); h != c.Code {
						return fmt.Errorf("%s: indicator %q is not under criterion %s", where, ind.Code, c.Code)
					}
					if ind.Source != nil {
						if err := checkSrc(where+" indicator "+ind.Code, *ind.Source, false); err != nil {
							return err
						}
					}
				}
			}
			for _, c := range t.Conditions {
				switch c.Type {
				case CondAllCriteria, CondMinSatisfaction, CondChildren, CondDeclared:
				default:
					return fmt.Errorf("%s: condition %s has unknown type %q", where, c.ID, c.Type)
				}
				if err := checkSrc(where+" condition "+c.ID, c.Source, true); err != nil {
					return err
				}
			}
			for _, id := range t.Revocation {
				r := b.Rule(id)
				if r == nil {
					return fmt.Errorf("%s: unknown revocation rule %q", where, id)
				}
				if r.Kind != kind {
					return fmt.Errorf("%s: revocation rule %s is for a %s", where, id, r.Kind)
				}
			}
		}
		slices.SortStableFunc(tiers, func(a, b Tier) int { return a.Rank - b.Rank })
	}
	return nil
}
