package gen

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/units"
)

// Criteria counts of the sets the generator assesses.
var setSize = map[string]int{"ntm": 19, "advanced": 19, "model": 4}

// keyCriteria of the NTM set under Decision 18/2022: Income, Environment
// & food safety, Defence & security.
var keyCriteria = []int{10, 17, 19}

// Model parameters, tuned so that the mid-2025 figures match the national
// ones (see the package doc and TestCalibration).
const (
	pNTM       = 0.21 // chance per round that an unmet NTM criterion is met, times capacity
	pAdvanced  = 0.22
	pModel     = 0.14
	pSlip      = 0.04  // chance per round that a held criterion slips
	pRecover   = 0.45  // chance per round that a slipped criterion recovers
	pShock     = 0.005 // chance per year (from 2022) of a collapse that makes a holder revocable
	pBasically = 0.3   // share of unmet criteria assessed basically_met
)

// commune is one simulated rural commune.
type commune struct {
	code, province, issuer string
	rng                    *rand.Rand
	cap                    float64
	met                    map[string]uint32 // tier → bit c-1 set when criterion c is met
	held                   map[string]string // tier → date granted ("" not held)
	decision               map[string]string // tier → decision number
	since                  map[string]int    // tier → year granted
	shocked                bool
	self, district, prov   *events.Actor

	recognitions, revocations int
}

func issuerOf(provinceName string) string {
	r, n := utf8.DecodeRuneInString(provinceName)
	return "UBND " + string(unicode.ToLower(r)) + provinceName[n:]
}

func newCommune(seed uint64, c *units.Commune, p *units.Province) *commune {
	s := &commune{
		code: c.Code, province: c.Province, issuer: issuerOf(p.Name),
		rng: rand.New(rand.NewPCG(seedFor(seed, c.Code))),
		met: map[string]uint32{}, held: map[string]string{}, decision: map[string]string{}, since: map[string]int{},
		self:     &events.Actor{ID: "gen:" + c.Code, Role: "commune"},
		district: &events.Actor{ID: "gen:" + c.District, Role: "district"},
		prov:     &events.Actor{ID: "gen:" + c.Province, Role: "province"},
	}
	// Capacity: lower in the mountains and highlands, higher in the deltas
	// and the south-east.
	base := map[string]float64{
		"northern_midlands_mountains": 0.55, "central_highlands": 0.65, "north_central": 0.8, "south_central_coast": 0.8,
		"mekong_delta": 0.85, "red_river_delta": 1.0, "southeast": 1.0,
	}[p.Region]
	s.cap = min(1, base*(0.35+0.85*s.rng.Float64()))
	// Standing at the start: 4 to 19 criteria met.
	m := min(19, max(4, int(3+14*s.cap+s.rng.NormFloat64()*2)))
	s.met["ntm"] = s.pickBits(19, m)
	return s
}

// pickBits returns a mask of k of n criteria.
func (s *commune) pickBits(n, k int) uint32 {
	var m uint32
	for _, i := range s.rng.Perm(n)[:k] {
		m |= 1 << i
	}
	return m
}

func full(tier string) uint32 { return 1<<setSize[tier] - 1 }

func (s *commune) count(tier string) int { return bits.OnesCount32(s.met[tier]) }

// progress moves a tier's criteria one round: unmet ones are met with
// chance p, held tiers' met ones slip now and then.
func (s *commune) progress(tier string, p float64) {
	n := setSize[tier]
	m := s.met[tier]
	for c := range n {
		bit := uint32(1) << c
		switch {
		case m&bit == 0 && s.rng.Float64() < p:
			m |= bit
		case m&bit != 0 && s.held[tier] != "" && s.rng.Float64() < pSlip:
			m &^= bit
		}
	}
	s.met[tier] = m
}

// at risk under Decision 18/2022: 50% or more of the set not met, or 30% or
// more including a key criterion.
func (s *commune) atRisk() bool {
	miss := 19 - s.count("ntm")
	if miss*2 >= 19 {
		return true
	}
	if miss*10 < 19*3 {
		return false
	}
	for _, k := range keyCriteria {
		if s.met["ntm"]&(1<<(k-1)) == 0 {
			return true
		}
	}
	return false
}

func (s *commune) assess(em *emitter, tier, date, stage string) {
	a := map[string]*events.Actor{"self": s.self, "district": s.district, "province": s.prov, "inspection": s.prov}[stage]
	m := s.met[tier]
	for c := 1; c <= setSize[tier]; c++ {
		status := "met"
		if m&(1<<(c-1)) == 0 {
			status = "not_met"
			if s.rng.Float64() < pBasically {
				status = "basically_met"
			}
		}
		em.fact(events.CriterionAssessed, s.code, date, a, nil, events.Assessment{Tier: tier, Criterion: strconv.Itoa(c), Status: status, Stage: stage})
	}
}

func decisionNumber(province string, year int, what string) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s|%d|%s", province, year, what)
	return fmt.Sprintf("%d/QĐ-UBND (gen)", 1000+h.Sum32()%8000)
}

func (s *commune) grant(em *emitter, tier string, year int, date string) {
	doc := &events.Document{Number: decisionNumber(s.province, year, tier), Date: date, Issuer: s.issuer}
	em.fact(events.RecognitionGranted, s.code, date, s.prov, doc, events.Grant{Tier: tier})
	s.held[tier], s.decision[tier], s.since[tier] = date, doc.Number, year
	s.recognitions++
}

// The year's rounds: self-assessments in March and September, the
// district's reviews in June and November, the province's review of the
// NTM criteria at the end of November; then for a commune whose criteria
// of the next tier are all met the province's appraisal, a satisfaction
// survey and the year-end decision.
var rounds = []struct{ date, stage string }{
	{"03-20", "self"}, {"06-25", "district"}, {"09-20", "self"}, {"11-05", "district"}, {"11-25", "province"},
}

// year simulates one pre-reform year (2025: until the reform).
func (s *commune) year(em *emitter, year int) {
	y := strconv.Itoa(year) + "-"
	// Recognitions from before the period are recorded at its start.
	if s.held["ntm"] == "" && s.recognitions == 0 && s.met["ntm"] == full("ntm") {
		s.grant(em, "ntm", year, y+"01-20")
	}
	if year >= 2022 && s.held["ntm"] != "" && !s.shocked && s.rng.Float64() < pShock {
		// A collapse: Income and Environment among six to nine criteria lost.
		s.shocked = true
		lost := uint32(1<<9 | 1<<16)
		for _, c := range s.rng.Perm(19)[:4+s.rng.IntN(4)] {
			lost |= 1 << c
		}
		s.met["ntm"] &^= lost
	}
	for _, r := range rounds {
		if year == 2025 && r.date > "06-30" {
			return
		}
		date := y + r.date
		if r.stage == "province" {
			s.assess(em, "ntm", date, r.stage)
			continue
		}
		s.step()
		s.assess(em, "ntm", date, r.stage)
		if s.pursues("advanced", year) || s.held["advanced"] != "" {
			s.assess(em, "advanced", date, r.stage)
		}
		if s.pursues("model", year) {
			s.assess(em, "model", date, r.stage)
		}
	}
	// Year-end: revocation of a commune still at risk (Decision 18/2022 is
	// of August 2022), or recognition of the next tier.
	if year >= 2022 && s.held["ntm"] != "" && s.atRisk() {
		date := y + "12-28"
		s.assess(em, "ntm", y+"12-01", "inspection")
		doc := &events.Document{Number: decisionNumber(s.province, year, "revocation"), Date: date, Issuer: s.issuer}
		em.fact(events.RecognitionRevoked, s.code, date, s.prov, doc, events.Revocation{
			Tier: "ntm", Reason: "not_maintained", Basis: "18/2022/QĐ-TTg", Revokes: s.decision["ntm"],
			Note: strconv.Itoa(19-s.count("ntm")) + "/19 criteria not maintained",
		})
		s.revocations++
		for _, t := range []string{"ntm", "advanced", "model"} {
			s.held[t] = ""
		}
		s.shocked = false
		return
	}
	for _, tier := range []string{"ntm", "advanced", "model"} {
		if !(tier == "ntm" && s.held["ntm"] == "" || s.pursues(tier, year)) || s.met[tier] != full(tier) {
			continue
		}
		if s.rng.Float64() < 0.15 { // the appraisal finds the dossier short this year
			continue
		}
		if tier != "ntm" { // the NTM criteria had their review on 11-25
			s.assess(em, tier, y+"11-28", "province")
		}
		if tier != "ntm" || year >= 2022 {
			em.fact(events.SatisfactionSurveyed, s.code, y+"11-28", s.self, nil, events.Survey{Percent: float64(90 + s.rng.IntN(10)), Respondents: ptr(200 + s.rng.IntN(400))})
		}
		s.grant(em, tier, year, fmt.Sprintf("%s12-%d", y, 18+int(s.rng.IntN(10))))
		break
	}
}

func ptr[T any](v T) *T { return &v }

// pursues reports whether the commune works towards a tier above NTM this
// year: the tier below held for a year, and the capacity for it.
func (s *commune) pursues(tier string, year int) bool {
	below := map[string]string{"advanced": "ntm", "model": "advanced"}[tier]
	need := map[string]float64{"advanced": 0.35, "model": 0.6}[tier]
	return s.held[tier] == "" && s.held[below] != "" && s.since[below] < year && s.cap > need
}

// step moves every tier one round.
func (s *commune) step() {
	if s.shocked {
		s.progress("ntm", pRecover*0.15)
	} else if s.held["ntm"] == "" {
		s.progress("ntm", pNTM*s.cap)
	} else {
		s.progress("ntm", pRecover)
	}
	for _, tier := range []string{"advanced", "model"} {
		if s.held[tier] != "" {
			s.progress(tier, pRecover)
			continue
		}
		if _, started := s.met[tier]; !started && s.held[map[string]string{"advanced": "ntm", "model": "advanced"}[tier]] != "" {
			s.met[tier] = s.pickBits(setSize[tier], setSize[tier]/3)
		}
		if _, started := s.met[tier]; started {
			p := pAdvanced
			if tier == "model" {
				p = pModel
			}
			s.progress(tier, p*s.cap)
		}
	}
}

// successor is a post-reform commune under the 2026-2030 rules (10
// criteria). Districts are gone: the province reviews.
type successor struct {
	code, issuer string
	rng          *rand.Rand
	met          uint32
	held         bool
	self, prov   *events.Actor
}

// carryOver starts the post-reform communes: a new commune all of whose
// simulated predecessors held NTM on the eve of the reform has it carried
// over by an explicit decision (recognitions do not carry over by
// themselves); its standing under the new 10-criteria set starts from its
// predecessors'.
func carryOver(em *emitter, seed uint64, r *units.Reform, sims []*commune) []*successor {
	byCode := map[string]*commune{}
	for _, s := range sims {
		byCode[s.code] = s
	}
	provinces := map[string]string{}
	for _, p := range r.Provinces {
		provinces[p.Code] = p.Name
	}
	var out []*successor
	for _, c := range r.Communes {
		if c.Subkind != "xa" {
			continue
		}
		var preds []*commune
		for _, p := range c.From {
			if s, ok := byCode[p.Code]; ok {
				preds = append(preds, s)
			}
		}
		if len(preds) == 0 {
			continue
		}
		n := &successor{
			code: c.Code, issuer: issuerOf(provinces[c.Province]),
			rng:  rand.New(rand.NewPCG(seedFor(seed, c.Code))),
			self: &events.Actor{ID: "gen:" + c.Code, Role: "commune"},
			prov: &events.Actor{ID: "gen:" + c.Province, Role: "province"},
		}
		held, met := true, 0
		for _, p := range preds {
			held = held && p.held["ntm"] != ""
			met += p.count("ntm")
		}
		k := min(10, met*10/(19*len(preds)))
		var m uint32
		for _, i := range n.rng.Perm(10)[:k] {
			m |= 1 << i
		}
		n.met = m
		if held {
			doc := &events.Document{Number: decisionNumber(c.Province, 2025, "carry-over"), Date: units.ReformEffective, Issuer: n.issuer}
			em.fact(events.RecognitionGranted, c.Code, units.ReformEffective, n.prov, doc, events.Grant{Tier: "ntm"})
			n.held = true
		}
		out = append(out, n)
	}
	return out
}

// year2026 simulates a year under the 2026-2030 rules.
func (n *successor) year2026(em *emitter, year int) {
	y := strconv.Itoa(year) + "-"
	for _, r := range rounds {
		for c := range 10 {
			if n.met&(1<<c) == 0 && n.rng.Float64() < 0.12 {
				n.met |= 1 << c
			}
		}
		a, stage := n.self, r.stage
		if stage == "district" {
			a, stage = n.prov, "province"
		}
		for c := 1; c <= 10; c++ {
			status := "met"
			if n.met&(1<<(c-1)) == 0 {
				status = "not_met"
			}
			em.fact(events.CriterionAssessed, n.code, y+r.date, a, nil, events.Assessment{Tier: "ntm", Criterion: strconv.Itoa(c), Status: status, Stage: stage})
		}
	}
	if !n.held && n.met == 1<<10-1 {
		date := y + "12-22"
		doc := &events.Document{Number: decisionNumber(n.code, year, "ntm"), Date: date, Issuer: n.issuer}
		em.fact(events.RecognitionGranted, n.code, date, n.prov, doc, events.Grant{Tier: "ntm"})
		n.held = true
	}
}
