package main

import (
	"io"
	"slices"
	"testing"
)

// Flags may come before or after the arguments, "--" ends them, and the
// environment fills what the command line leaves out.
func TestParseFlagsAnywhere(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		env      map[string]string
		asOf     string
		json     bool
		position []string
	}{
		{args: []string{"13306", "--as-of", "2020-12-31", "--json"}, asOf: "2020-12-31", json: true, position: []string{"13306"}},
		{args: []string{"--json", "13306", "--as-of=2020-12-31"}, asOf: "2020-12-31", json: true, position: []string{"13306"}},
		{args: []string{"a", "--json", "b"}, json: true, position: []string{"a", "b"}},
		{args: []string{"--json", "--", "a", "--as-of", "x"}, json: true, position: []string{"a", "--as-of", "x"}},
		{args: []string{"-"}, position: []string{"-"}},
		{args: []string{"13306"}, env: map[string]string{"NTM_AS_OF": "2021-01-01"}, asOf: "2021-01-01", position: []string{"13306"}},
		{args: []string{"13306", "--as-of", "2022-01-01"}, env: map[string]string{"NTM_AS_OF": "2021-01-01"}, asOf: "2022-01-01", position: []string{"13306"}},
	} {
		env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tc.env[k] }}
		fs := newFlags(env, "status", "status CODE")
		asOf := fs.String("as-of", "", "")
		js := fs.Bool("json", false, "")
		if err := parse(fs, env, tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if *asOf != tc.asOf || *js != tc.json || !slices.Equal(fs.Args(), tc.position) {
			t.Errorf("%q: as-of %q json %v args %q; want %q %v %q", tc.args, *asOf, *js, fs.Args(), tc.asOf, tc.json, tc.position)
		}
	}
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	fs := newFlags(env, "status", "status CODE")
	fs.Bool("json", false, "")
	if err := parse(fs, env, []string{"13306", "--nope"}); err == nil {
		t.Errorf("an unknown flag after the argument was accepted")
	}
}
