package cost

import (
	"testing"
)

// TestProvisionedByHand prices a provisioned table at a steady 100 events/s by hand: auto
// scaling holds each table's and index's consumption at 70 % of what it provisions, and never
// goes under the floor, so an idle dimension costs its floor.
func TestProvisionedByHand(t *testing.T) {
	scaled := func(floor float64) Throughput {
		return Throughput{Fixed: floor, Scaling: &Scaling{Min: floor, Max: 10 * floor, Target: 70}}
	}
	d := Design{
		Name:   "h",
		Ingest: Function{Name: "i", MemoryMB: 128, BatchSize: 1},
		Table: Table{PutWRU: 3, MarkWRU: 2, NotifyReadRRU: 1, Provisioned: []Provisioned{
			{Name: "table", Write: scaled(200), Read: scaled(10), PutWCU: 2, MarkWCU: 2, ReadRCU: 1},
			{Name: "by_group", Write: scaled(100), Read: scaled(10), PutWCU: 1},
			{Name: "rejected", Write: scaled(1), Read: scaled(1)},
			{Name: "fixed", Write: Throughput{Fixed: 5}, Read: Throughput{Fixed: 5}},
		}},
		Notifier: &Notifier{Function: Function{Name: "n", MemoryMB: 128, BatchSize: 10, Pollers: 1}, OnlyEmailed: true},
	}
	hours := 720.0
	units := func(b Bill) (wcuHours, rcuHours float64) {
		for _, l := range b.Lines {
			switch l.Name {
			case LineWrites:
				wcuHours = l.Quantity
				near(t, "WCU-hour price", l.USD/l.Quantity, 0.00065)
			case LineReads:
				rcuHours = l.Quantity
				near(t, "RCU-hour price", l.USD/l.Quantity, 0.00013)
			}
		}
		return
	}

	// 100 events/s, none emailed: the table writes 200 units a second, the history index 100;
	// at 70 % that is 285.7 and 142.9 provisioned. Reads and the quarantine stay at their floors.
	busy := Params{EventsPerMonth: 100 * SecondsPerMonth, PayloadBytes: 1024}
	w, r := units(Compute(d, busy, 0))
	near(t, "WCU-hours at 100/s", w, (200/0.7+100/0.7+1+5)*hours)
	near(t, "RCU-hours at 100/s", r, (10+10+1+5)*hours)

	// Every event emailed: the mark adds 2 units a second per event on the table (400/s →
	// 571.4), and the notifier's consistent read 1 (100/s → 142.9 RCU, over the table's read
	// ceiling of 10 × 10: 100, where the rest throttles).
	w, r = units(Compute(d, busy, 1))
	near(t, "WCU-hours, every event emailed", w, (400/0.7+100/0.7+1+5)*hours)
	near(t, "RCU-hours, every event emailed", r, (100+10+1+5)*hours)

	// A million a month (0.39/s): everything sits at its floor.
	w, _ = units(Compute(d, Params{EventsPerMonth: 1e6, PayloadBytes: 1024}, 0))
	near(t, "WCU-hours at a million a month", w, (200+100+1+5)*hours)

	// A flood above the ceiling is capped there (and throttled).
	w, _ = units(Compute(d, Params{EventsPerMonth: 2000 * SecondsPerMonth, PayloadBytes: 1024}, 0))
	near(t, "WCU-hours at 2000/s", w, (2000+1000+1+5)*hours)
}

func TestReadTemplateScaling(t *testing.T) {
	tmpl := `{"Resources": {
	  "Ingest4069586C": {"Type": "AWS::Lambda::Function", "Properties": {}},
	  "Subscriber1956AC64": {"Type": "AWS::Lambda::Function", "Properties": {}},
	  "NotifierDFD80165": {"Type": "AWS::Lambda::Function", "Properties": {}},
	  "SubscriberSqsEventSource12345678": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": {"Ref": "Subscriber1956AC64"}}},
	  "NotifierDynamoDBEventSource12345678": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": {"Ref": "NotifierDFD80165"}}},
	  "EventsTableD24865E5": {"Type": "AWS::DynamoDB::Table", "Properties": {
	    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
	    "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 200},
	    "GlobalSecondaryIndexes": [{"IndexName": "g", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
	      "Projection": {"ProjectionType": "KEYS_ONLY"}, "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 100}}]}},
	  "EventsTableWriteScalingTarget1234ABCD": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
	    "ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:WriteCapacityUnits", "MinCapacity": 200, "MaxCapacity": 2000,
	    "ResourceId": {"Fn::Join": ["", ["table/", {"Ref": "EventsTableD24865E5"}]]}}},
	  "EventsTableWriteScalingTargetTracking1234ABCD": {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {
	    "PolicyType": "TargetTrackingScaling", "ScalingTargetId": {"Ref": "EventsTableWriteScalingTarget1234ABCD"},
	    "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70, "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBWriteCapacityUtilization"}}}},
	  "EventsTableGReadScalingTarget1234ABCD": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
	    "ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:index:ReadCapacityUnits", "MinCapacity": 3, "MaxCapacity": 30,
	    "ResourceId": {"Fn::Join": ["", ["table/", {"Ref": "EventsTableD24865E5"}, "/index/g"]]}}},
	  "EventsTableGReadScalingTargetTracking1234ABCD": {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {
	    "PolicyType": "TargetTrackingScaling", "ScalingTargetId": {"Ref": "EventsTableGReadScalingTarget1234ABCD"},
	    "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 50}}},
	  "UnscaledTarget1234ABCD": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
	    "ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": 2,
	    "ResourceId": "table/other"}}
	}}`
	for _, b := range [][]byte{[]byte(tmpl), must(Prune([]byte(tmpl)))} {
		s, err := ReadTemplate(b)
		if err != nil {
			t.Fatal(err)
		}
		tb := s.Table
		if tb.PayPerRequest || tb.Capacity.Write != 200 || tb.Capacity.Read != 10 || s.ScalingPolicies != 2 {
			t.Fatalf("table %+v, %d policies: provisioned (CloudFormation's default) 200/10, 2 policies", tb, s.ScalingPolicies)
		}
		if w := tb.Capacity.WriteScaling; w == nil || *w != (Scaling{Min: 200, Max: 2000, Target: 70}) {
			t.Errorf("table write scaling %+v", w)
		}
		// A target without a policy scales nothing.
		if tb.Capacity.ReadScaling != nil {
			t.Errorf("table read scaling %+v, want none", tb.Capacity.ReadScaling)
		}
		g := tb.Indexes[0].Capacity
		if g.Write != 100 || g.Read != 3 || g.WriteScaling != nil || g.ReadScaling == nil || *g.ReadScaling != (Scaling{Min: 3, Max: 30, Target: 50}) {
			t.Errorf("index capacity %+v (read scaling %+v)", g, g.ReadScaling)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
