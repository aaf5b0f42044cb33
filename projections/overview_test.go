package projections_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ntmledger/ntmledger/projections"
)

func TestOverviewKnownAnswers(t *testing.T) {
	e := open(t)
	loadSmallProvince(t, e)
	ctx := context.Background()

	tiers := func(c *projections.TierCounts) string {
		if c == nil {
			return "<nil>"
		}
		return fmt.Sprintf("total=%d ntm=%d advanced=%d model=%d none=%d at_risk=%d",
			c.Total, c.Tiers["ntm"], c.Tiers["advanced"], c.Tiers["model"], c.Tiers[projections.TierNone], c.AtRisk)
	}
	recent := func(o *projections.Overview) []string {
		var out []string
		for _, r := range o.Recent {
			out = append(out, fmt.Sprintf("%s %s %s-%s", r.Unit, r.Tier, r.GrantedOn, r.RevokedOn))
		}
		return out
	}

	now, err := e.views.Overview(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if now.AsOfSeq == 0 || len(now.Provinces) != 1 || now.Provinces[0].Unit != "35" || now.Provinces[0].Name != "Tỉnh Hà Nam" {
		t.Fatalf("overview now: %+v", now)
	}
	// 13306 lost ntm (and advanced with it), 13312 holds ntm again.
	if got, want := tiers(now.Country["commune"]), "total=4 ntm=2 advanced=0 model=0 none=2 at_risk=0"; got != want {
		t.Errorf("communes now: %s, want %s", got, want)
	}
	if got, want := tiers(now.Provinces[0].Units["commune"]), tiers(now.Country["commune"]); got != want {
		t.Errorf("communes of 35: %s, want %s", got, want)
	}
	if got, want := tiers(now.Country["district"]), "total=1 ntm=0 advanced=0 model=0 none=1 at_risk=0"; got != want {
		t.Errorf("districts now: %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(recent(now)), "[13312 ntm 2023-11-20- 13306 advanced 2021-06-01-2023-03-15 13312 ntm 2021-02-01-2022-08-01 13309 ntm 2020-05-10- 13306 ntm 2019-12-20-2023-03-15]"; got != want {
		t.Errorf("recent now:\n got %s\nwant %s", got, want)
	}

	then, err := e.views.Overview(ctx, "2021-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tiers(then.Country["commune"]), "total=4 ntm=2 advanced=1 model=0 none=1 at_risk=0"; got != want {
		t.Errorf("communes on 2021-12-31: %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(recent(then)), "[13306 advanced 2021-06-01- 13312 ntm 2021-02-01- 13309 ntm 2020-05-10- 13306 ntm 2019-12-20-]"; got != want {
		t.Errorf("recent on 2021-12-31:\n got %s\nwant %s", got, want)
	}

	before, err := e.views.Overview(ctx, "2014-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Country) != 0 || len(before.Recent) != 0 {
		t.Errorf("before any unit was registered: %+v", before)
	}
}
