package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

var dump = flag.String("dump", "", "write the production template as JSON to this file (for reading, not golden)")

// fixture is one synthesized stack: the template, the construct handles, and the cdk-nag
// findings that were not suppressed.
type fixture struct {
	h        *Hookline
	template assertions.Template
	raw      []byte         // the template as JSON, what `hookline cost --template` reads
	json     map[string]any // the same as plain data, for walking every resource
}

var (
	prodOnce, devOnce, provOnce sync.Once
	prodFix, devFix, provFix    *fixture
	assetsOnce                  sync.Once
	assetsDir                   string
	synthMu                     sync.Mutex
	synthDirs                   []string // cloud assemblies, kept for the whole run (see synth)
)

// TestMain owns the temporary asset directory: synthesis copies each function directory into
// the cloud assembly, so it must exist for the whole run, but make lambdas need not have run.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if assetsDir != "" {
		os.RemoveAll(assetsDir)
	}
	for _, d := range synthDirs {
		os.RemoveAll(d)
	}
	jsii.Close()
	os.Exit(code)
}

// dummyAssets writes a placeholder bootstrap for every function.
func dummyAssets(t *testing.T) string {
	t.Helper()
	assetsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hookline-assets-")
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range functionNames {
			if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("#!/bin/sh\n# "+fn+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		assetsDir = dir
	})
	if assetsDir == "" {
		t.Fatal("no asset directory")
	}
	return assetsDir
}

// synth builds an app with cdk-nag's AwsSolutions pack applied (the same aspects whichever
// test asks, so one synthesis serves the template tests and the security rules).
func synth(t *testing.T, cfg Config) (f *fixture) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("synthesize %+v:\n%v", cfg, r)
			f = nil
		}
	}()
	cfg.AssetDir = dummyAssets(t)
	// Not t.TempDir: the fixtures are shared (prod, dev), and tests other than the first one to
	// synthesize read the assembly later (cdk-nag's annotations), after that test has ended.
	out, err := os.MkdirTemp("", "hookline-synth-")
	if err != nil {
		t.Fatal(err)
	}
	synthMu.Lock()
	synthDirs = append(synthDirs, out)
	synthMu.Unlock()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
	h := NewHookline(app, "Hookline", &HooklineProps{Config: cfg})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
		Reports: jsii.Bool(false),
	}), nil)
	tmpl := assertions.Template_FromStack(h.Stack, nil)
	f = &fixture{h: h, template: tmpl}
	if f.raw, err = json.Marshal(tmpl.ToJSON()); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.raw, &f.json); err != nil {
		t.Fatal(err)
	}
	return f
}

// prod is the default stack (what `cdk synth` makes with cdk.json's context), built once.
func prod(t *testing.T) *fixture {
	t.Helper()
	prodOnce.Do(func() {
		prodFix = synth(t, prodConfig())
		if *dump != "" {
			b, _ := json.MarshalIndent(prodFix.json, "", "  ")
			if err := os.WriteFile(*dump, b, 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	if prodFix == nil {
		t.Fatal("the production stack did not synthesize")
	}
	return prodFix
}

// prodConfig is the production stack's configuration in the tests: two sources with
// expect_every, a silence alarm each.
func prodConfig() Config {
	return Config{Email: "ops@example.com", ExpectEvery: map[string]time.Duration{"github": time.Hour, "billing": 24 * time.Hour}}
}

// dev is the disposable stack (`-c dev=true`), built once.
func dev(t *testing.T) *fixture {
	t.Helper()
	devOnce.Do(func() { devFix = synth(t, Config{Dev: true}) })
	if devFix == nil {
		t.Fatal("the dev stack did not synthesize")
	}
	return devFix
}

// provisioned is the production stack with `-c tableCapacity=provisioned` and its defaults,
// built once.
func provisioned(t *testing.T) *fixture {
	t.Helper()
	provOnce.Do(func() {
		cfg := prodConfig()
		cfg.Capacity = TableCapacity{Provisioned: true}
		provFix = synth(t, cfg.withDefaults())
	})
	if provFix == nil {
		t.Fatal("the provisioned stack did not synthesize")
	}
	return provFix
}

// check runs one CDK assertion. A failed assertion panics inside jsii; recovering turns it into
// a test error so the other assertions (and tests) still run.
func check(t *testing.T, what string, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Helper()
			t.Errorf("%s:\n%v", what, r)
		}
	}()
	assertion()
}

// resources returns the template's resources of type typ by logical id.
func (f *fixture) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range f.json["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// props returns a resource's Properties (an empty map when it has none).
func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	if p == nil {
		return map[string]any{}
	}
	return p
}

// logicalID is the template id of a construct's default CloudFormation resource.
func (f *fixture) logicalID(c constructs.IConstruct) string {
	return *f.h.Stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// ref and getAtt are what CloudFormation intrinsics referring to a resource look like.
func ref(id string) map[string]any { return map[string]any{"Ref": id} }
func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

// obj, arr and str shorten the matcher literals.
type obj = map[string]any

func like(m obj) assertions.Matcher { return assertions.Match_ObjectLike(&m) }
func arrayWith(items ...any) assertions.Matcher {
	return assertions.Match_ArrayWith(&items)
}
