package payload

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRunTemplatesValidateAndRender(t *testing.T) {
	v := Vars{
		EntityName: "ml", ProjectName: "mnist", EventType: "RUN_METRIC", RunID: "7", RunName: `resnet "1"`,
		RunURL: "https://a.example/projects/ml/mnist/runs/7", RunState: "running", RunUser: "ada",
		MetricName: "val/loss", MetricValue: "0.15", MetricThreshold: "0.2", MetricStep: "3", AutomationName: "low",
	}
	for _, tmpl := range RunTemplates() {
		events := []EventType{RunMetric, RunMetricChange, RunMetricZScore}
		if tmpl.ID == "run-state-slack" {
			events = []EventType{RunState}
		}
		for _, event := range events {
			if err := Validate(tmpl.Body, Context{EventType: event}); err != nil {
				t.Errorf("%s on %s: %v", tmpl.ID, event, err)
			}
		}
		if err := Validate(tmpl.Body, Context{EventType: CreateArtifact}); err == nil {
			t.Errorf("%s validates for CREATE_ARTIFACT: run variables must be refused there", tmpl.ID)
		}
		out, err := Render(tmpl.Body, v, nil, "")
		if err != nil {
			t.Fatalf("%s: %v", tmpl.ID, err)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%s renders invalid JSON: %v\n%s", tmpl.ID, err, out)
		}
		if !strings.Contains(string(out), `resnet \"1\"`) {
			t.Errorf("%s lost the run name: %s", tmpl.ID, out)
		}
	}
}

func TestRunVariablesApplyOnlyToRunEvents(t *testing.T) {
	cases := []struct {
		tmpl  string
		event EventType
		ok    bool
	}{
		{`{"a": "${run_name}"}`, RunState, true},
		{`{"a": "${run_config.lr}"}`, RunMetric, true},
		{`{"a": "${metric_value}"}`, RunState, false},
		{`{"a": "${artifact_version}"}`, RunMetric, false},
		{`{"a": "${alias}"}`, RunMetric, false},
		{`{"a": "${artifact_metadata.x}"}`, RunState, false},
		{`{"a": "${run_id}"}`, CreateArtifact, false},
		{`{"a": "${run_config.lr}"}`, AddArtifactAlias, false},
		{`{"a": "${project_name} ${automation_name}"}`, RunMetricZScore, true},
	}
	for _, tc := range cases {
		err := Validate(tc.tmpl, Context{EventType: tc.event})
		if (err == nil) != tc.ok {
			t.Errorf("%s on %s: %v, want ok=%v", tc.tmpl, tc.event, err, tc.ok)
		}
	}
	// Whole-value metric variables keep their number type; run_config keeps its JSON type.
	out, err := Render(`{"v": "${metric_value}", "s": "${metric_step}", "lr": "${run_config.lr}", "t": "at ${metric_value}"}`,
		Vars{MetricValue: "0.5", MetricStep: "12", RunConfig: map[string]json.RawMessage{"lr": json.RawMessage(`0.01`)}}, nil, "")
	if err != nil || string(out) != `{"v":0.5,"s":12,"lr":0.01,"t":"at 0.5"}` {
		t.Fatalf("rendered %s, %v", out, err)
	}
}
